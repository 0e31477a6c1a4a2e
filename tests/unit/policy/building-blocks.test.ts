import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileBlockList } from '../../../agent-image/src/domain/policy/block-list.ts';
import { normaliseAddress } from '@agent-fleet/kernel/email-address';
import { contactsFromCorrespondence } from '../../../agent-image/src/domain/policy/known-contacts.ts';
import { emptyPolicyState, parsePolicyState, recordSend, serialisePolicyState } from '../../../agent-image/src/domain/policy/policy-state.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import { recipientsInWindows } from '../../../agent-image/src/domain/policy/rate-window.ts';
import { compileShortenerDetector } from '../../../agent-image/src/domain/policy/url-shortener.ts';
import { isWithinWorkingHours } from '../../../agent-image/src/domain/policy/working-hours.ts';

describe('addresses', () => {
  it('normalises case and whitespace and rejects anything but a plain address', () => {
    assert.equal(normaliseAddress('  Bob@Partner.COM '), 'bob@partner.com');
    for (const bad of ['Bob <bob@x.com>', 'bob@x', 'bob@x.com.', '@x.com', 'bob@', 'a b@x.com', 'bob@[127.0.0.1]', 'bob@@x.com', 'bob..x@x.com']) {
      assert.equal(normaliseAddress(bad), undefined, bad);
    }
  });

  it('accepts a single address where a list is expected, and de-duplicates', () => {
    const parsed = parseProposedAction({ kind: 'mail.send', to: 'A@x.com', cc: ['a@x.com', 'b@x.com'], subject: 's', body: 'b' });
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.action.kind === 'mail.send' && [parsed.action.to, parsed.action.cc], [['a@x.com'], ['a@x.com', 'b@x.com']]);
  });
});

describe('block list', () => {
  const blockList = compileBlockList(['ceo@acme.com', 'rival.com', '*.enemy.org']);

  it('matches addresses (with sub-addressing), exact domains and subdomain patterns', () => {
    assert.equal(blockList.match('ceo@acme.com'), 'ceo@acme.com');
    assert.equal(blockList.match('ceo+x@acme.com'), 'ceo@acme.com');
    assert.equal(blockList.match('anyone@rival.com'), 'rival.com');
    assert.equal(blockList.match('x@mail.enemy.org'), '*.enemy.org');
    assert.equal(blockList.match('x@a.b.enemy.org'), '*.enemy.org');
  });

  it('matches every subdomain of a domain entry: whoever holds the domain holds them', () => {
    assert.equal(blockList.match('x@mail.rival.com'), 'rival.com');
    assert.equal(blockList.match('x@a.b.rival.com'), 'rival.com');
    assert.equal(blockList.match('x%mail.rival.com@relay.com'), 'rival.com');
  });

  it('does not match by suffix, or a subdomain pattern its parent', () => {
    for (const address of ['cfo@acme.com', 'x@evilrival.com', 'x@mail.evilrival.com', 'x@rival.com.evil.net', 'x@enemy.org', 'x@notenemy.org', 'x@a.acme.com']) {
      assert.equal(blockList.match(address), undefined, address);
    }
  });
});

describe('URL shorteners', () => {
  const detector = compileShortenerDetector();

  it('finds shortener hosts with or without a scheme, in any case, on subdomains', () => {
    assert.equal(detector.find(['https://bit.ly/abc'], ''), 'bit.ly');
    assert.equal(detector.find([], 'go to TinyURL.com/xyz now.'), 'tinyurl.com');
    assert.equal(detector.find([], 'link: http://www.t.co/q'), 'www.t.co');
  });

  it('ignores look-alikes and the domains of email addresses', () => {
    assert.equal(detector.find(['https://habit.ly/x', 'https://microsoft.co/x'], 'mail me at someone@bit.ly. Thanks.'), undefined);
  });
});

describe('rate windows and state', () => {
  const now = Date.parse('2025-06-02T10:00:00Z');

  it('counts recipients in the rolling hour and day', () => {
    const history = [
      { at: now - 25 * 3_600_000, recipients: 50 },
      { at: now - 23 * 3_600_000, recipients: 3 },
      { at: now - 61 * 60_000, recipients: 2 },
      { at: now - 10 * 60_000, recipients: 4 },
    ];
    assert.deepEqual(recipientsInWindows(history, now), { lastHour: 4, lastDay: 9 });
  });

  it('counts sends dated in the future (clock moved back) against both windows', () => {
    assert.deepEqual(recipientsInWindows([{ at: now + 60_000, recipients: 3 }], now), { lastHour: 3, lastDay: 3 });
  });

  it('recordSend counts recipients, learns them as contacts and forgets sends older than a day', () => {
    let state = recordSend(emptyPolicyState(), new Date(now - 30 * 3_600_000), ['a@x.com']);
    state = recordSend(state, new Date(now), ['b@y.com', 'c@y.com']);
    assert.deepEqual(state.sendHistory, [{ at: now, recipients: 2 }]);
    assert.ok(state.knownContacts.has('a@x.com') && state.knownContacts.has('c@y.com'));
    assert.ok(state.knownDomains.has('y.com'));
  });

  it('round-trips through its JSON form and rejects invalid contacts', () => {
    const state = recordSend(emptyPolicyState(), new Date(now), ['b@y.com']);
    const parsed = parsePolicyState(JSON.parse(JSON.stringify(serialisePolicyState(state))));
    assert.ok(parsed.ok);
    assert.deepEqual([...parsed.state.knownContacts], ['b@y.com']);
    assert.deepEqual(parsed.state.sendHistory, state.sendHistory);
    assert.equal(parsePolicyState({ knownContacts: ['not an address'] }).ok, false);
    assert.equal(parsePolicyState({ killed: 'yes' }).ok, false);
  });
});

describe('known contacts', () => {
  it('come from sent mail, calendar participants and shares of own files, never from received mail', () => {
    const derived = contactsFromCorrespondence('Me@Acme.com', {
      sentMessages: [{ to: ['Bob@p.com'], cc: ['me@acme.com'], bcc: ['carol@p.com'] }],
      events: [{ participants: ['me@acme.com', 'dave@q.com', 'not an address'] }],
      ownedFiles: [{ sharedWith: ['erin@r.com'] }],
    });
    assert.deepEqual(derived, { contacts: ['bob@p.com', 'carol@p.com', 'dave@q.com', 'erin@r.com'], invalid: 1 });
  });
});

describe('working hours', () => {
  const hours = { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] };

  it('uses the client time zone, including daylight saving', () => {
    // Monday 2025-06-02 08:30 UTC is 09:30 in London (BST) and 04:30 in New York.
    assert.equal(isWithinWorkingHours(new Date('2025-06-02T08:30:00Z'), hours, 'Europe/London'), true);
    assert.equal(isWithinWorkingHours(new Date('2025-06-02T08:30:00Z'), hours, 'America/New_York'), false);
    // Same UTC time in January: 08:30 in London (GMT), before the day starts.
    assert.equal(isWithinWorkingHours(new Date('2025-01-06T08:30:00Z'), hours, 'Europe/London'), false);
  });

  it('treats the end as exclusive and weekends as off', () => {
    assert.equal(isWithinWorkingHours(new Date('2025-06-02T17:00:00Z'), hours, 'UTC'), false);
    assert.equal(isWithinWorkingHours(new Date('2025-06-07T10:00:00Z'), hours, 'UTC'), false);
  });
});
