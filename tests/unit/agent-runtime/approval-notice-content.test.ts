// An approval notice is what an admin may decide from on a phone: before the link is opened it must say
// what approving lets happen (every recipient, the calendar event with the email, a calendar change as a
// calendar change), never less than the held action does.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { sendAdminNotice } from '../../../agent-image/src/services/runtime/admin-notices.ts';
import { NOTICE_ADDRESSES_SHOWN } from '../../../agent-image/src/services/runtime/approval-notice-mail.ts';
import type { StoredApproval } from '../../../agent-image/src/services/runtime/approval-store.ts';

const PORTAL = 'https://portal.example:7443';

interface Mailed {
  subject: string;
  text: string;
  html: string;
}

async function noticeFor(entry: StoredApproval): Promise<Mailed> {
  const parsed = parseClientConfig({ client: 'acme', admins: ['boss@acme.example'], timezone: 'Europe/London' });
  assert.ok(parsed.ok);
  const mailed: Mailed[] = [];
  const notifier = {
    notify: async (_kind: string, _key: string, subject: string, text: string, html: string | null = null) => {
      mailed.push({ subject, text, html: html ?? '' });
      return 'sent' as const;
    },
  };
  await sendAdminNotice(
    { config: parsed.config, notifier, approval: () => entry, portalUrl: PORTAL },
    { kind: 'approval', approvalId: entry.record.id, url: `${PORTAL}/a/l1.x.y` },
  );
  assert.equal(mailed.length, 1);
  return mailed[0]!;
}

function approval(input: { actionKind: string; args: unknown; preview: Partial<StoredApproval['preview']> }): StoredApproval {
  return {
    record: {
      id: 'ap_1',
      actionKind: input.actionKind,
      status: 'pending',
      policyReasons: ['new_contact'],
      proposedArguments: input.args,
      proposedHash: 'sha256:0',
      createdAt: '2026-01-07T10:00:00.000Z',
      expiresAt: '2026-01-08T10:00:00.000Z',
    },
    idempotencyKey: 'k1',
    messageId: null,
    draftId: null,
    preview: { to: [], cc: [], subject: '', bodyPreview: '', emailType: null, ...input.preview },
    execution: 'none',
  } as unknown as StoredApproval;
}

/** The notice as a person reads it: the plain-text part, and the HTML part without its tags. */
function readable(mail: Mailed): string[] {
  return [mail.text, mail.html.replace(/<[^>]*>/g, ' ').replace(/&#64;/g, '@')];
}

describe('an approval notice for an email', () => {
  test('names every recipient: Cc and Bcc as well as To', async () => {
    const mail = await noticeFor(
      approval({
        actionKind: 'mail.send',
        args: { kind: 'mail.send', to: ['kim@partner.example'], cc: ['copy@elsewhere.example'], bcc: ['drop@collector.example'], subject: 'Prices', body: 'b' },
        preview: { to: ['kim@partner.example'], cc: ['copy@elsewhere.example'], subject: 'Prices' },
      }),
    );
    for (const part of readable(mail)) {
      assert.match(part, /kim@partner\.example/);
      assert.match(part, /Cc\b[^\n]*copy@elsewhere\.example/);
      assert.match(part, /Bcc[^\n]*drop@collector\.example/, 'the hidden recipient is named before anyone approves');
    }
  });

  test('a long list of recipients says how many there are in all', async () => {
    const to = Array.from({ length: 60 }, (_, index) => `person${index}@newco.example`);
    const mail = await noticeFor(approval({ actionKind: 'mail.send', args: { kind: 'mail.send', to, cc: [], bcc: [], subject: 'Hi', body: 'b' }, preview: { to, subject: 'Hi' } }));
    assert.match(mail.text, new RegExp(`To: person0@newco\\.example, .* and ${60 - NOTICE_ADDRESSES_SHOWN} more \\(60 in all\\)`));
    assert.ok(!mail.text.includes('person59@'), 'the list is bounded');
  });

  test('the calendar event approved with it is stated, with whom it invites; its title is quoted inert', async () => {
    const mail = await noticeFor(
      approval({
        actionKind: 'mail.send',
        args: { kind: 'mail.send', to: ['kim@partner.example'], cc: [], bcc: [], subject: 'Re: meeting', body: 'b' },
        preview: {
          to: ['kim@partner.example'],
          subject: 'Re: meeting',
          event: { title: 'Call — join at https://meet.evil.example/x', start: '2026-01-09T15:00:00Z', end: null, timeZone: 'Europe/London', attendees: ['kim@partner.example', 'guest@other.example'] },
        },
      }),
    );
    for (const part of readable(mail)) {
      assert.match(part, /Also adds to your calendar[^\n]*Call — join at hxxps\[:\]\/\/meet\[\.\]evil\[\.\]example\/x/);
      assert.match(part, /invites[^\n]*guest@other\.example/);
      assert.doesNotMatch(part, /https:\/\/meet\.evil/);
    }
    assert.match(mail.text, /Nothing is sent and no event is added until someone approves it/);
  });
});

describe('an approval notice for something other than an email', () => {
  test('a held calendar change is called one, with the people it notifies, not "an email"', async () => {
    const mail = await noticeFor(
      approval({
        actionKind: 'calendar.write',
        args: { kind: 'calendar.write', operation: 'cancel', eventId: 'ev1' },
        preview: {
          to: ['a@partner.example', 'b@partner.example'],
          subject: 'Board meeting',
          event: { title: 'Board meeting', start: '2026-01-09T15:00:00.000Z', end: '2026-01-09T16:00:00.000Z', timeZone: 'Europe/London', attendees: ['a@partner.example', 'b@partner.example'] },
        },
      }),
    );
    for (const part of [mail.subject, ...readable(mail)]) assert.doesNotMatch(part, /\bemail that waits\b|An email waits/);
    assert.match(mail.subject, /^Approval needed: calendar change: Board meeting$/);
    assert.match(mail.text, /cancelling a calendar event/);
    assert.match(mail.text, /Notifies: a@partner\.example, b@partner\.example/);
    assert.match(mail.text, /When: 9 Jan 2026, 15:00/);
  });

  test('any other held action is named by what it does; an odd kind is shown, bounded, not taken for a word', async () => {
    const moved = await noticeFor(approval({ actionKind: 'mail.move', args: { kind: 'mail.move', messageIds: ['m1'], destination: 'Archive' }, preview: {} }));
    assert.match(moved.text, /moving email to another folder/);
    assert.doesNotMatch(moved.text, /wrote an email/);
    const odd = await noticeFor(approval({ actionKind: 'constructor', args: {}, preview: {} }));
    assert.match(odd.text, /an action of the kind constructor/);
  });
});
