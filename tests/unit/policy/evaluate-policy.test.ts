import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy, evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { recordSend } from '../../../agent-image/src/domain/policy/policy-state.ts';
import { approvedFor, asReply, config, NOW, send, state } from './fixtures.ts';

/** A send is decided as the reply to a clean message from its first recipient: only a reply auto-sends. */
const decide = (action: unknown, cfg = config(), st = state(), now = NOW) => evaluatePolicy(action, cfg, st, now, asReply(action));

describe('policy gate: each rule', () => {
  it('auto-sends a follow-up to a known contact after onboarding', () => {
    assert.deepEqual(decide(send()).decision, 'allow');
    assert.deepEqual(decide(send()).reasons, ['auto_send']);
  });

  it('treats contacts learnt into the state, the mailbox and the admins as known', () => {
    assert.equal(decide(send({ to: 'dave@client.org' })).decision, 'allow');
    assert.equal(decide(send({ to: 'owner@acme.com' })).decision, 'allow');
    assert.equal(decide(send({ to: 'admin@acme.com' }), config({ admins: ['admin@acme.com'] })).decision, 'allow');
  });

  it('denies everything, reads included, when the kill flag is set', () => {
    for (const action of [send(), { kind: 'mail.read' }, { kind: 'mail.label', messageIds: ['m1'], add: ['x'] }]) {
      const decision = decide(action, config(), state({ killed: true }));
      assert.equal(decision.decision, 'deny');
      assert.deepEqual(decision.reasons, ['killed']);
    }
  });

  it('denies an action whose capability is not granted', () => {
    const decision = decide(send(), config({ permissions: { 'mail.read': true } }));
    assert.equal(decision.decision, 'deny');
    assert.deepEqual(decision.reasons, ['permission_denied']);
    assert.match(decision.details?.[0] ?? '', /mail\.send/);
  });

  it('a capability set to false is not granted', () => {
    assert.deepEqual(decide({ kind: 'mail.read' }, config({ permissions: { 'mail.read': false } })).reasons, ['permission_denied']);
  });

  it('allows permitted reads and reports the age of the data read', () => {
    const decision = decide({ kind: 'mail.read', oldestDataAt: '2025-06-01T10:00:00Z' });
    assert.equal(decision.decision, 'allow');
    assert.deepEqual(decision.reasons, ['read']);
    assert.equal(decision.facts?.dataAgeSeconds, 86_400);
  });

  it('in dry run denies every write with dry_run and records what it would have decided', () => {
    const dry = config({ dryRun: true });
    const allowed = decide(send(), dry);
    assert.equal(allowed.decision, 'deny');
    assert.deepEqual(allowed.reasons, ['dry_run']);
    assert.deepEqual(allowed.dryRun, { decision: 'allow', reasons: ['auto_send'] });
    const held = decide(send({ to: 'stranger@else.com' }), dry);
    assert.deepEqual(held.dryRun, { decision: 'needs_approval', reasons: ['new_contact'] });
    assert.deepEqual(decide({ kind: 'mail.label', messageIds: 'm1', add: ['x'] }, dry).reasons, ['dry_run']);
    assert.deepEqual(decide({ kind: 'mail.draft', to: 'bob@partner.com', subject: 's', body: 'b' }, dry).reasons, ['dry_run']);
  });

  it('in dry run still allows reads, which change nothing', () => {
    assert.equal(decide({ kind: 'files.read' }, config({ dryRun: true })).decision, 'allow');
  });

  it('holds a send to a blocked address, domain or subdomain for approval', () => {
    const blocking = config({ blockList: ['bob@partner.com', 'rival.com', '*.enemy.org'], knownContacts: ['bob@partner.com', 'bob+tag@partner.com', 'x@rival.com', 'y@mail.enemy.org'] });
    for (const to of ['bob@partner.com', 'BOB+tag@Partner.com', 'x@rival.com', 'y@mail.enemy.org']) {
      const decision = decide(send({ to }), blocking);
      assert.equal(decision.decision, 'needs_approval', to);
      assert.deepEqual(decision.reasons, ['blocked_recipient'], to);
    }
  });

  it('does not block by suffix (evilrival.com is not rival.com) but blocks a subdomain (sub.rival.com is rival.com\'s)', () => {
    const blocking = config({ blockList: ['rival.com'], knownContacts: ['a@evilrival.com', 'b@sub.rival.com'] });
    assert.equal(decide(send({ to: 'a@evilrival.com' }), blocking).decision, 'allow');
    assert.deepEqual(decide(send({ to: 'b@sub.rival.com' }), blocking).reasons, ['blocked_recipient']);
  });

  it('checks cc and bcc against the block list too', () => {
    const blocking = config({ blockList: ['rival.com'], knownContacts: ['bob@partner.com', 'spy@rival.com'] });
    assert.deepEqual(decide(send({ bcc: ['spy@rival.com'] }), blocking).reasons, ['blocked_recipient', 'recipient_not_sender']);
    assert.deepEqual(decide(send({ cc: 'spy@rival.com' }), blocking).reasons, ['blocked_recipient', 'recipient_not_sender']);
  });

  it('holds every outbound action during the onboarding window', () => {
    const onboarding = config({ onboarding: { startedAt: '2025-05-20T00:00:00Z', days: 28 } });
    assert.deepEqual(decide(send(), onboarding).reasons, ['onboarding']);
    assert.deepEqual(decide({ kind: 'calendar.write', operation: 'create', participants: ['bob@partner.com'] }, onboarding).reasons, ['onboarding']);
    assert.deepEqual(decide({ kind: 'files.share', fileId: 'f1', recipients: 'bob@partner.com', permission: 'read' }, onboarding).reasons, ['onboarding']);
  });

  it('lets onboarding draft (draft-review-send) and read', () => {
    const onboarding = config({ onboarding: { startedAt: '2025-05-20T00:00:00Z', days: 28 } });
    assert.equal(decide({ kind: 'mail.draft', to: 'stranger@else.com', subject: 's', body: 'b' }, onboarding).decision, 'allow');
    assert.equal(decide({ kind: 'mail.read' }, onboarding).decision, 'allow');
  });

  it('treats a missing onboarding start as still onboarding, and ends the window after its days', () => {
    assert.deepEqual(decide(send(), config({ onboarding: { days: 28 } })).reasons, ['onboarding']);
    const started = config({ onboarding: { startedAt: '2025-05-05T10:00:00Z', days: 28 } });
    assert.deepEqual(decide(send(), started, state(), new Date('2025-06-02T09:59:59Z')).reasons, ['onboarding']);
    assert.equal(decide(send(), started, state(), new Date('2025-06-02T10:00:00Z')).decision, 'allow');
  });

  it('holds sends to new contacts', () => {
    const decision = decide(send({ to: ['bob@partner.com', 'stranger@else.com'] }));
    assert.deepEqual(decision.reasons, ['new_contact', 'recipient_not_sender']);
    assert.equal(decision.facts?.newContacts, 1);
    assert.equal(decision.facts?.newDomains, 1);
  });

  it('holds types that are not auto-send, types that always need approval, and unclassified mail', () => {
    assert.deepEqual(decide(send({ emailType: 'routine' })).reasons, ['type_not_auto_send']);
    assert.deepEqual(decide(send({ emailType: 'offer' })).reasons, ['type_requires_approval']);
    assert.deepEqual(decide(send({ emailType: undefined })).reasons, ['unclassified']);
  });

  it('holds bulk sends above the threshold (to + cc + bcc, de-duplicated)', () => {
    const contacts = Array.from({ length: 6 }, (_, index) => `p${index}@partner.com`);
    const cfg = config({ knownContacts: contacts, bulkThreshold: 5 });
    assert.deepEqual(decide(send({ to: contacts.slice(0, 3), cc: contacts.slice(3, 5), bcc: contacts.slice(0, 2) }), cfg).reasons.includes('bulk'), false);
    assert.deepEqual(decide(send({ to: contacts.slice(0, 3), bcc: contacts.slice(3) }), cfg).reasons, ['recipient_not_sender', 'bulk']);
  });

  it('holds messages linking to URL shorteners, in links, subject or body', () => {
    // A shortener leads outside the client's and the recipient's domains too: opted-in free text is held for that as well.
    assert.deepEqual(decide(send({ links: ['https://bit.ly/3xYz'] })).reasons, ['free_text', 'url_shortener']);
    assert.deepEqual(decide(send({ body: 'details at tinyurl.com/abc' })).reasons, ['free_text', 'url_shortener']);
    assert.deepEqual(decide(send({ subject: 'see HTTPS://WWW.BIT.LY/x' })).reasons, ['free_text', 'url_shortener']);
    assert.equal(decide(send({ body: 'see https://www.example.com/x and habit.ly' })).reasons.includes('url_shortener'), false);
    assert.equal(decide(send({ body: 'see https://www.partner.com/x' })).decision, 'allow');
  });

  it('counts calendar participants and file-share targets as outbound recipients', () => {
    assert.deepEqual(decide({ kind: 'calendar.write', operation: 'create', title: 'Intro', participants: 'stranger@else.com' }).reasons, ['new_contact']);
    assert.equal(decide({ kind: 'calendar.write', operation: 'create', title: 'Focus time' }).decision, 'allow');
    assert.deepEqual(decide({ kind: 'files.share', fileId: 'f1', recipients: ['stranger@else.com'], permission: 'read' }).reasons, ['new_contact']);
    assert.equal(decide({ kind: 'files.share', fileId: 'f1', recipients: ['bob@partner.com'], permission: 'read' }).decision, 'allow');
    assert.deepEqual(decide({ kind: 'files.share', fileId: 'f1', permission: 'read', public: true }).reasons, ['public_share']);
  });

  it('holds a calendar invitation whose description links to a shortener', () => {
    assert.deepEqual(decide({ kind: 'calendar.write', operation: 'create', participants: ['bob@partner.com'], description: 'join: https://t.co/x' }).reasons, ['url_shortener']);
  });

  it('always holds deletes and moves out of the mailbox, whoever they concern', () => {
    assert.deepEqual(decide({ kind: 'mail.delete', messageIds: 'm1' }).reasons, ['deletion']);
    assert.deepEqual(decide({ kind: 'files.delete', fileId: '13' }).reasons, ['deletion']);
    assert.deepEqual(decide({ kind: 'calendar.write', operation: 'cancel', eventId: 'e1' }).reasons, ['deletion']);
    assert.deepEqual(decide({ kind: 'crm.write', operation: 'delete', recordType: 'contact', recordId: 'c1' }).reasons, ['deletion']);
    assert.deepEqual(decide({ kind: 'mail.move', messageIds: ['m1'], destination: 'Shared/Finance' }).reasons, ['move']);
  });

  it('lets a permitted archive through: the message stays in the mailbox', () => {
    assert.equal(decide({ kind: 'mail.move', messageIds: ['m1'], destination: 'Archive' }).decision, 'allow');
    assert.equal(decide({ kind: 'mail.move', messageIds: ['m1'], destination: 'archive ' }).decision, 'allow');
  });

  it('allows permitted non-outbound writes: labels, drafts, file writes, crm updates', () => {
    for (const action of [
      { kind: 'mail.label', messageIds: ['m1'], add: ['triaged'] },
      { kind: 'mail.draft', to: ['stranger@else.com'], subject: 's', body: 'b' },
      { kind: 'files.write', operation: 'create', filename: 'notes.md', content: 'x' },
      { kind: 'crm.write', operation: 'update', recordType: 'deal', recordId: 'd1', fields: { stage: 'won' } },
    ]) {
      assert.deepEqual(decide(action).reasons, ['permitted'], action.kind);
    }
  });

  it('denies sends beyond the hourly limit, counted per recipient, and asks to pause', () => {
    const cfg = config({ rateLimits: { perHour: 3, perDay: 100 }, knownContacts: ['a@p.com', 'b@p.com', 'c@p.com', 'bob@partner.com'] });
    const sent = recordSend(state(), new Date(NOW.getTime() - 30 * 60_000), ['a@p.com', 'b@p.com']);
    assert.equal(decide(send(), cfg, sent).decision, 'allow');
    // Two recipients: only an approved send goes to more than the sender it answers.
    const two = send({ to: ['bob@partner.com', 'c@p.com'] });
    const decision = evaluatePolicy(two, cfg, sent, NOW, approvedFor(two, ['recipient_not_sender']));
    assert.equal(decision.decision, 'deny');
    assert.deepEqual(decision.reasons, ['rate_limit_hour']);
    assert.equal(decision.retryable, true);
    assert.equal(decision.pauseSending, true);
  });

  it('uses rolling windows: sends older than an hour stop counting against the hourly limit', () => {
    const cfg = config({ rateLimits: { perHour: 2, perDay: 100 } });
    const sent = recordSend(state(), new Date(NOW.getTime() - 60 * 60_000), ['a@p.com', 'b@p.com']);
    assert.equal(decide(send(), cfg, sent).decision, 'allow');
    const recent = recordSend(state(), new Date(NOW.getTime() - 59 * 60_000), ['a@p.com', 'b@p.com']);
    assert.deepEqual(decide(send(), cfg, recent).reasons, ['rate_limit_hour']);
  });

  it('denies sends beyond the daily limit', () => {
    const cfg = config({ rateLimits: { perHour: 5, perDay: 6 } });
    let st = state();
    for (const hoursAgo of [23, 20, 10]) st = recordSend(st, new Date(NOW.getTime() - hoursAgo * 3_600_000), ['a@p.com', 'b@p.com']);
    assert.deepEqual(decide(send(), cfg, st).reasons, ['rate_limit_day']);
  });

  it('holds outbound actions while sending is paused, without dropping them', () => {
    const decision = decide(send(), config(), state({ paused: true }));
    assert.equal(decision.decision, 'deny');
    assert.deepEqual(decision.reasons, ['paused']);
    assert.equal(decision.retryable, true);
    assert.equal(decide({ kind: 'mail.draft', to: 'bob@partner.com', subject: 's', body: 'b' }, config(), state({ paused: true })).decision, 'allow');
  });
});

describe('policy gate: fail closed', () => {
  it('denies unknown kinds, extra fields, bad addresses and non-objects as unparseable', () => {
    for (const input of [
      { kind: 'shell.exec', command: 'rm -rf /' },
      send({ sneakyBcc: 'x@evil.com' }),
      send({ to: 'Bob <bob@partner.com>' }),
      send({ to: ['bob@partner.com', 42] }),
      send({ to: [] }),
      send({ emailType: 'totally_safe' }),
      null, undefined, 'send it', [send()], 42,
      { kind: 'mail.delete', messageIds: [] },
    ]) {
      const decision = decide(input);
      assert.equal(decision.decision, 'deny', JSON.stringify(input));
      assert.deepEqual(decision.reasons, ['unparseable']);
    }
  });

  it('denies when the clock gives an invalid time', () => {
    assert.deepEqual(decide(send(), config(), state(), new Date(Number.NaN)).reasons, ['unparseable']);
  });
});

describe('policy gate: order of rules', () => {
  const everything = config({ dryRun: true, blockList: ['else.com'], onboarding: { days: 28 }, permissions: { 'mail.read': true } });

  it('kill comes before permission, permission before dry run', () => {
    assert.deepEqual(decide(send(), everything, state({ killed: true })).reasons, ['killed']);
    assert.deepEqual(decide(send(), everything).reasons, ['permission_denied']);
    assert.deepEqual(decide(send(), config({ dryRun: true, permissions: { 'mail.send': true } })).reasons, ['dry_run']);
  });

  it('unparseable input is denied before the kill flag is even consulted', () => {
    assert.deepEqual(decide({ kind: 'nope' }, config(), state({ killed: true })).reasons, ['unparseable']);
  });

  it('dry run comes before every approval rule', () => {
    const decision = decide(send({ to: 'x@else.com', emailType: 'offer' }), config({ dryRun: true, blockList: ['else.com'] }));
    assert.deepEqual(decision.reasons, ['dry_run']);
  });

  it('lists every approval reason that applies, in rule order', () => {
    const many = Array.from({ length: 6 }, (_, index) => `p${index}@else.com`);
    const decision = decide(
      send({ to: many, emailType: 'offer', body: 'https://bit.ly/x' }),
      config({ blockList: ['else.com'], onboarding: { startedAt: '2025-06-01T00:00:00Z', days: 28 } }),
    );
    assert.equal(decision.decision, 'needs_approval');
    assert.deepEqual(decision.reasons, ['blocked_recipient', 'onboarding', 'new_contact', 'type_requires_approval', 'recipient_not_sender', 'bulk', 'url_shortener']);
  });

  it('approval rules come before rate limits and pause: a held action is held, not denied', () => {
    const decision = decide(send({ to: 'stranger@else.com' }), config(), state({ paused: true }));
    assert.equal(decision.decision, 'needs_approval');
    assert.deepEqual(decision.reasons, ['new_contact']);
  });
});

describe('policy gate: compiled form', () => {
  it('compilePolicy gives the same decisions as evaluatePolicy', () => {
    const cfg = config({ blockList: ['else.com'] });
    const gate = compilePolicy(cfg);
    for (const action of [send(), send({ to: 'x@else.com' }), { kind: 'mail.read' }, { kind: 'bad' }]) {
      assert.deepEqual(gate.evaluate(action, state(), NOW), evaluatePolicy(action, cfg, state(), NOW));
    }
  });
});
