// The kernel's settings rules: the field-level diff, the guard rails, and the version chain.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FREE_TEXT_AUTO_SEND_RISK, parseClientConfig, type ClientConfig, type ClientConfigInput } from '@agent-fleet/kernel/client-config';
import { describeChange, diffSettings } from '@agent-fleet/kernel/settings-diff';
import { crossedGuardRails, unconfirmedGuardRails } from '@agent-fleet/kernel/settings-guard-rails';
import { GENESIS_HASH, settingsChainBreak, settingsConfigHash, settingsVersionHash, staleEditMessage, type SettingsVersion } from '@agent-fleet/kernel/settings-version';

const NOW = new Date('2026-03-10T12:00:00.000Z');

function config(overrides: Partial<ClientConfigInput> = {}): ClientConfig {
  const parsed = parseClientConfig({ client: 'acme', onboarding: { startedAt: '2026-01-01T00:00:00.000Z', days: 28 }, ...overrides });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

describe('settings diff', () => {
  test('one change per leaf field; lists of plain values as added and removed', () => {
    const before = config({ blockList: ['a.example', 'b.example'], rateLimits: { perHour: 20, perDay: 100 } });
    const after = config({ blockList: ['b.example', 'c.example'], rateLimits: { perHour: 10, perDay: 100 }, permissions: { 'mail.read': true } });
    const changes = diffSettings(before, after);
    assert.deepEqual(
      changes.map((change) => describeChange(change)),
      ['blockList: +c.example −a.example', 'permissions.calendar.read: true → (unset)', 'permissions.mail.draft: true → (unset)', 'permissions.mail.label: true → (unset)', 'rateLimits.perHour: 20 → 10'],
    );
    assert.deepEqual(diffSettings(before, before), []);
  });

  test('lists of objects change as a whole; many list items are summarised', () => {
    const optIn = { type: 'follow_up' as const, acceptedRisk: FREE_TEXT_AUTO_SEND_RISK, acceptedBy: 'dana@acme.example', acceptedAt: '2026-03-01T00:00:00.000Z' };
    const changes = diffSettings(config(), config({ autoReply: { freeTextAutoSend: [optIn] } }));
    assert.equal(changes[0]?.path, 'autoReply.freeTextAutoSend');
    assert.deepEqual(changes[0]?.before, []);
    const many = diffSettings(config(), config({ blockList: Array.from({ length: 8 }, (_, i) => `d${i}.example`) }));
    assert.equal(describeChange(many[0]!), 'blockList: +d0.example +d1.example +d2.example +d3.example +d4.example (+3 more)');
  });
});

describe('guard rails', () => {
  const ids = (before: ClientConfig, after: ClientConfig) => crossedGuardRails(before, after, NOW).map((rail) => rail.id);

  test('ending draft-review-send before its 28 days is a guard rail; lengthening it or ending it after 28 days is not', () => {
    const started = { startedAt: '2026-03-01T00:00:00.000Z' };
    assert.deepEqual(ids(config({ onboarding: { ...started, days: 28 } }), config({ onboarding: { ...started, days: 7 } })), ['onboarding.ended_early']);
    assert.deepEqual(ids(config({ onboarding: { ...started, days: 28 } }), config({ onboarding: { ...started, days: 40 } })), []);
    assert.deepEqual(ids(config({ onboarding: { ...started, days: 60 } }), config({ onboarding: { ...started, days: 30 } })), []);
    assert.deepEqual(ids(config({ onboarding: { days: 28 } }), config({ onboarding: { startedAt: '2025-01-01T00:00:00.000Z', days: 28 } })), ['onboarding.ended_early'], 'a start moved far back ends it now');
  });

  test('raising a limit above the spec default is a guard rail; lowering it or staying at or under the default is not', () => {
    const base = config();
    assert.deepEqual(ids(base, config({ rateLimits: { perHour: 21, perDay: 100 } })), ['rateLimits.perHour']);
    assert.deepEqual(ids(base, config({ rateLimits: { perHour: 20, perDay: 250 } })), ['rateLimits.perDay']);
    assert.deepEqual(ids(base, config({ rateLimits: { perHour: 5, perDay: 50 } })), []);
    assert.deepEqual(ids(config({ rateLimits: { perHour: 50, perDay: 100 } }), config({ rateLimits: { perHour: 40, perDay: 100 } })), [], 'lowering a raised limit');
  });

  test('turning approval off for offers, negotiations, new contacts or client-facing mail is a guard rail', () => {
    const base = config();
    const without = (type: string) => config({ alwaysApprovalTypes: base.alwaysApprovalTypes.filter((candidate) => candidate !== type) });
    for (const type of ['offer', 'negotiation', 'new_contact', 'client_facing']) assert.deepEqual(ids(base, without(type)), [`approval.${type}`]);
    // A template reply to a message of a type out of the always-approval list goes out as the template's routine type.
    assert.deepEqual(ids(base, without('legal')), ['approval.legal'], 'every type of the default always-approval list is guarded');
    const complaints = config({ alwaysApprovalTypes: [...base.alwaysApprovalTypes, 'complaint'] });
    assert.deepEqual(ids(complaints, base), [], 'a type the client added to the list is the client’s own choice');
    const released = config({ alwaysApprovalTypes: base.alwaysApprovalTypes.filter((type) => type !== 'offer'), autoSendTypes: [...base.autoSendTypes, 'offer'] });
    assert.deepEqual(ids(base, released), ['approval.offer']);
  });

  test('a free-text opt-in is a guard rail stating the issue-13 risk; confirmations are matched by id', () => {
    const optIn = { type: 'follow_up' as const, acceptedRisk: FREE_TEXT_AUTO_SEND_RISK, acceptedBy: 'dana@acme.example', acceptedAt: '2026-03-01T00:00:00.000Z' };
    const rails = crossedGuardRails(config(), config({ autoReply: { freeTextAutoSend: [optIn] } }), NOW);
    assert.deepEqual(rails, [{ id: 'freeText.follow_up', field: 'autoReply.freeTextAutoSend', risk: FREE_TEXT_AUTO_SEND_RISK }]);
    assert.deepEqual(unconfirmedGuardRails(rails, ['freeText.follow_up']), []);
    assert.equal(unconfirmedGuardRails(rails, ['rateLimits.perHour']).length, 1);
  });
});

describe('the settings version chain', () => {
  function chain(count: number): SettingsVersion[] {
    const versions: SettingsVersion[] = [];
    for (let index = 1; index <= count; index++) {
      const document = config({ bulkThreshold: index });
      const unhashed = {
        version: index,
        at: NOW.toISOString(),
        author: { kind: 'admin' as const, id: 'dana@acme.example' },
        reason: `change ${index}`,
        config: JSON.parse(JSON.stringify(document)) as ClientConfig,
        changes: [],
        guardRails: [],
        rollbackOf: null,
        source: 'api' as const,
        configHash: settingsConfigHash(document),
        prevHash: versions.at(-1)?.hash ?? GENESIS_HASH,
      };
      versions.push({ ...unhashed, hash: settingsVersionHash(unhashed) });
    }
    return versions;
  }

  test('an intact chain verifies; an altered, missing or reordered version is named', () => {
    const versions = chain(3);
    assert.equal(settingsChainBreak(versions), null);
    assert.match(settingsChainBreak([versions[0]!, versions[2]!]) ?? '', /version 2 is missing/);
    assert.match(settingsChainBreak([{ ...versions[0]!, reason: 'rewritten' }, ...versions.slice(1)]) ?? '', /version 1 was altered/);
    const altered = { ...versions[1]!, config: { ...versions[1]!.config, bulkThreshold: 99 } };
    assert.match(settingsChainBreak([versions[0]!, { ...altered, hash: settingsVersionHash(altered) }]) ?? '', /document of version 2 was altered/);
  });

  test('a stale edit names who changed the settings and when', () => {
    assert.equal(staleEditMessage({ version: 4, author: { kind: 'operator', id: 'alice@ops' }, at: '2026-03-10T12:00:00.000Z' }), 'changed by alice@ops (operator) at 2026-03-10T12:00:00.000Z (now version 4), reload');
  });
});
