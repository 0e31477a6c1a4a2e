// An approval held because a recipient is on the client's block list covers exactly the blocked recipients
// recorded with it, so its approver must be told which those are: the view the portal reads carries them,
// and the notice email marks each in its lists and says that approving sends to them anyway. Older
// approvals (nothing recorded) read as before.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { approvalNoticeMail } from '../../../agent-image/src/services/runtime/approval-notice-mail.ts';
import type { StoredApproval } from '../../../agent-image/src/services/runtime/approval-store.ts';
import { approvalView } from '../../../agent-image/src/services/runtime/approval-view.ts';

const URL_OF_LINK = 'https://portal.example:7443/a/l1.x.y';

function held(input: { actionKind?: string; args?: unknown; to?: string[]; blocked?: string[] }): StoredApproval {
  const to = input.to ?? ['kim@partner.example', 'Ann@Rival.example'];
  return {
    record: {
      id: 'ap_blocked',
      actionKind: input.actionKind ?? 'mail.send',
      status: 'pending',
      policyReasons: ['blocked_recipient'],
      proposedArguments: input.args ?? { kind: 'mail.send', to, cc: ['copy@acme.example'], bcc: ['ben@other.example'], subject: 'Prices', body: 'b' },
      proposedHash: 'sha256:0',
      createdAt: '2026-01-07T10:00:00.000Z',
      expiresAt: '2026-01-08T10:00:00.000Z',
    },
    idempotencyKey: 'k1',
    messageId: null,
    draftId: null,
    preview: { to, cc: ['copy@acme.example'], subject: 'Prices', bodyPreview: 'b', emailType: null },
    execution: 'none',
    ...(input.blocked === undefined ? {} : { blockedRecipients: input.blocked }),
  } as unknown as StoredApproval;
}

/** The notice as a person reads it: the plain-text part, and the HTML part without its tags. */
function readable(entry: StoredApproval): string[] {
  const mail = approvalNoticeMail(entry, URL_OF_LINK, 'Acme', 'Europe/London');
  return [mail.text, mail.html.replace(/<[^>]*>/g, ' ').replace(/&#64;/g, '@').replace(/&#39;|&apos;/g, "'")];
}

describe('the approval view names the blocked recipients', () => {
  test('the recipients blocked when it was asked are in the view the portal reads', () => {
    const view = approvalView(held({ blocked: ['Ann@Rival.example', 'ben@other.example'] }), undefined, { thread: [], available: true });
    assert.deepEqual(view.blockedRecipients, ['Ann@Rival.example', 'ben@other.example']);
  });

  test('an approval asked with nobody blocked says so; one made before they were kept says nothing (null)', () => {
    assert.deepEqual(approvalView(held({ blocked: [] }), undefined, { thread: [], available: true }).blockedRecipients, []);
    assert.equal(approvalView(held({}), undefined, { thread: [], available: true }).blockedRecipients, null);
  });
});

describe('the approval notice names the blocked recipients', () => {
  test('each blocked address is marked in words where it is listed, the others are not', () => {
    for (const part of readable(held({ blocked: ['Ann@Rival.example', 'ben@other.example'] }))) {
      assert.match(part, /To:?\s+kim@partner\.example, Ann@Rival\.example \(on your block list\)/);
      assert.match(part, /Bcc \(hidden from the others\):?\s+ben@other\.example \(on your block list\)/);
      assert.doesNotMatch(part, /kim@partner\.example \(on your block list\)|copy@acme\.example \(on your block list\)/);
    }
  });

  test('a sentence names them and says that approving sends to them anyway', () => {
    for (const part of readable(held({ blocked: ['ann@rival.example'] }))) {
      assert.match(part, /On your block list:?\s+ann@rival\.example\. If you approve, the email is sent to this address anyway\./);
      assert.match(part, /To:?\s+kim@partner\.example, Ann@Rival\.example \(on your block list\)/, 'marked whatever the case of the address');
    }
  });

  test('a held calendar change says whom it notifies anyway', () => {
    const entry = held({ actionKind: 'calendar.write', args: { kind: 'calendar.write', operation: 'cancel', eventId: 'ev1' }, to: ['a@partner.example', 'b@rival.example'], blocked: ['b@rival.example'] });
    for (const part of readable(entry)) {
      assert.match(part, /Notifies:?\s+a@partner\.example, b@rival\.example \(on your block list\)/);
      assert.match(part, /If you approve, this address is notified anyway\./);
    }
  });

  test('an approval with nobody blocked, or made before they were kept, reads as before', () => {
    for (const entry of [held({ blocked: [] }), held({})]) {
      for (const part of readable(entry)) assert.doesNotMatch(part, /block list/);
    }
  });
});
