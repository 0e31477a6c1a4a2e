// Every field of the client settings that weakens a control the spec names crosses a guard rail when it
// is loosened beyond its default, and a change that only tightens crosses none.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientConfig, type ClientConfig, type ClientConfigInput } from '@agent-fleet/kernel/client-config';
import { DEFAULT_PERMISSIONS, crossedGuardRails, uncoveredBlockListRemovals } from '@agent-fleet/kernel/settings-guard-rails';

const NOW = new Date('2026-03-10T12:00:00.000Z');

function config(overrides: Partial<ClientConfigInput> = {}): ClientConfig {
  const parsed = parseClientConfig({ client: 'acme', onboarding: { startedAt: '2026-01-01T00:00:00.000Z', days: 28 }, admins: ['dana@acme.example', 'lee@acme.example'], ...overrides });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

const ids = (before: ClientConfig, after: ClientConfig) => crossedGuardRails(before, after, NOW).map((rail) => rail.id);

describe('guard rails over every safety field', () => {
  test('granting a permission beyond the default grant is a guard rail per capability; revoking or restoring a default one is not', () => {
    const base = config();
    const granted = config({ permissions: { ...base.permissions, 'mail.send': true, 'mail.delete': true, 'calendar.write': true, 'crm.write': true } });
    assert.deepEqual(ids(base, granted), ['permissions.mail.send', 'permissions.mail.delete', 'permissions.calendar.write', 'permissions.crm.write']);
    assert.deepEqual(ids(granted, base), [], 'revoking');
    assert.deepEqual(ids(config({ permissions: { 'mail.read': true } }), base), [], 'restoring the default grant');
    assert.deepEqual([...DEFAULT_PERMISSIONS].sort(), Object.keys(config({ permissions: undefined }).permissions).sort(), 'the default grant is the schema default');
  });

  test('a block-list entry removed is a guard rail unless an entry left still covers it', () => {
    const base = config({ blockList: ['ceo@rival.example', 'a.rival.example', 'press.example'] });
    assert.deepEqual(ids(base, config({ blockList: ['ceo@rival.example', 'a.rival.example'] })), ['blockList.removed']);
    assert.deepEqual(ids(base, config({ blockList: ['*.rival.example', 'rival.example', 'press.example', 'new.example'] })), [], 'widened to the whole domain');
    assert.deepEqual(ids(base, config({ blockList: [...base.blockList, 'other.example'] })), [], 'adding');
    assert.deepEqual(uncoveredBlockListRemovals(['*.a.rival.example', 'x@rival.example'], ['*.rival.example']), ['x@rival.example'], '*.rival.example does not cover rival.example itself');
    assert.deepEqual(
      uncoveredBlockListRemovals(['a.rival.example', '*.b.rival.example', 'x@c.rival.example', 'rival.example.evil.example'], ['rival.example']),
      ['rival.example.evil.example'],
      'a domain entry covers its subdomains, as the gate matches it; not a longer name that merely contains it',
    );
  });

  test('releasing a type of the default always-approval list, or auto-sending a type beyond the routine three, is a guard rail', () => {
    const base = config();
    assert.deepEqual(ids(base, config({ autoSendTypes: [...base.autoSendTypes, 'question'] })), ['approval.question']);
    const financial = config({ alwaysApprovalTypes: base.alwaysApprovalTypes.filter((type) => type !== 'financial') });
    assert.deepEqual(ids(base, financial), ['approval.financial']);
    assert.deepEqual(ids(config({ autoSendTypes: [] }), base), [], 'auto-sending the routine three again');
  });

  test('raising the bulk threshold or the approval timeout above its default is a guard rail; lowering either is not', () => {
    const base = config();
    assert.deepEqual(ids(base, config({ bulkThreshold: 50, approvalTimeoutHours: 240 })), ['bulkThreshold', 'approvalTimeoutHours']);
    assert.deepEqual(ids(base, config({ bulkThreshold: 2, approvalTimeoutHours: 24 })), []);
    assert.deepEqual(ids(config({ bulkThreshold: 2 }), config({ bulkThreshold: 5 })), [], 'back to the default');
  });

  test('removing an admin, turning the daily summary off, widening working hours or adding known contacts is a guard rail', () => {
    const base = config();
    assert.deepEqual(ids(base, config({ admins: ['dana@acme.example'] })), ['admins.removed']);
    assert.deepEqual(ids(base, config({ dailySummary: { enabled: false, at: '18:00' } })), ['dailySummary.off']);
    assert.deepEqual(ids(base, config({ workingHours: { start: '08:00', end: '18:00', days: [1, 2, 3, 4, 5, 6] } })), ['workingHours.widened']);
    assert.deepEqual(ids(base, config({ workingHours: { start: '06:00', end: '18:00', days: [1, 2, 3, 4, 5] } })), ['workingHours.widened']);
    assert.deepEqual(ids(base, config({ knownContacts: ['someone@outside.example'] })), ['knownContacts.added']);
  });

  test('a change that only tightens crosses no guard rail', () => {
    const loose = config({
      permissions: { 'mail.read': true, 'mail.draft': true, 'mail.send': true, 'crm.write': true },
      autoSendTypes: ['acknowledgement', 'follow_up', 'question'],
      blockList: ['rival.example'],
      rateLimits: { perHour: 50, perDay: 300 },
      bulkThreshold: 20,
      approvalTimeoutHours: 200,
      workingHours: { start: '07:00', end: '20:00', days: [1, 2, 3, 4, 5, 6] },
      knownContacts: ['a@partner.example'],
    });
    const tight = config({
      permissions: { 'mail.read': true, 'mail.draft': true },
      autoSendTypes: ['acknowledgement'],
      alwaysApprovalTypes: [...config().alwaysApprovalTypes, 'question', 'complaint'],
      blockList: ['rival.example', '*.rival.example', 'press.example'],
      rateLimits: { perHour: 10, perDay: 50 },
      bulkThreshold: 3,
      approvalTimeoutHours: 24,
      admins: ['dana@acme.example', 'lee@acme.example', 'sam@acme.example'],
      workingHours: { start: '09:00', end: '17:00', days: [1, 2, 3] },
      knownContacts: [],
      onboarding: { startedAt: '2026-01-01T00:00:00.000Z', days: 120 },
    });
    assert.deepEqual(ids(loose, tight), []);
  });

  test('shortening a draft-review-send window that is already over crosses no guard rail', () => {
    const ended = config({ onboarding: { startedAt: '2025-06-01T00:00:00.000Z', days: 28 } });
    assert.deepEqual(ids(ended, config({ onboarding: { startedAt: '2025-06-01T00:00:00.000Z', days: 7 } })), []);
    const running = config({ onboarding: { startedAt: '2026-03-01T00:00:00.000Z', days: 28 } });
    assert.deepEqual(ids(running, config({ onboarding: { startedAt: '2026-03-01T00:00:00.000Z', days: 7 } })), ['onboarding.ended_early']);
  });
});
