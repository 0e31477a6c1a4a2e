// Probing the live settings: weakening changes that slipped past their guard rail, and documents one side
// of the settings path accepts but another refuses.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientConfig, type ClientConfig, type ClientConfigInput } from '@agent-fleet/kernel/client-config';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { crossedGuardRails } from '@agent-fleet/kernel/settings-guard-rails';
import { GENESIS_HASH, plainSettings, settingsConfigHash, type SettingsVersion } from '@agent-fleet/kernel/settings-version';
import type { AgentControl } from '../../../orchestrator/src/ports/agent-control.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { ClientSettingsService } from '../../../orchestrator/src/services/settings/client-settings.ts';

const NOW = new Date('2026-03-10T12:00:00.000Z');

function config(overrides: Partial<ClientConfigInput> = {}): ClientConfig {
  const parsed = parseClientConfig({ client: 'acme', onboarding: { startedAt: '2026-01-01T00:00:00.000Z', days: 28 }, ...overrides });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

const ids = (before: ClientConfig, after: ClientConfig) => crossedGuardRails(before, after, NOW).map((rail) => rail.id);

describe('guard rails: a change of time zone', () => {
  test('moving the working hours to another offset crosses the working-hours rail, even with the hours themselves unchanged', () => {
    const london = config({ timezone: 'Europe/London' });
    assert.deepEqual(ids(london, config({ timezone: 'Pacific/Kiritimati' })), ['workingHours.widened']);
    assert.match(crossedGuardRails(london, config({ timezone: 'Pacific/Kiritimati' }), NOW)[0]?.risk ?? '', /another time zone \(Pacific\/Kiritimati\)/);
    // Offsets equal in winter, different for the weeks daylight saving starts on other days.
    assert.deepEqual(ids(london, config({ timezone: 'Africa/Abidjan' })), ['workingHours.widened'], 'same offset only part of the year');
    assert.deepEqual(ids(config({ timezone: 'Europe/London' }), config({ timezone: 'America/New_York', workingHours: { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] } })), ['workingHours.widened'], 'narrower hours in a zone five hours behind');
  });

  test('a zone with the same offsets all year (an alias, a neighbour) crosses nothing, nor does narrowing in the same zone', () => {
    assert.deepEqual(ids(config({ timezone: 'America/New_York' }), config({ timezone: 'America/Toronto' })), []);
    assert.deepEqual(ids(config({ timezone: 'US/Eastern' }), config({ timezone: 'America/New_York' })), []);
    assert.deepEqual(ids(config({ timezone: 'Europe/Paris' }), config({ timezone: 'Europe/Paris', workingHours: { start: '09:00', end: '17:00', days: [1, 2] } })), []);
  });
});

describe('settings service: a document the agent or the next start would refuse', () => {
  const reached: string[] = [];
  const service = new ClientSettingsService({
    registry: {} as Registry,
    agents: { reach: async () => ({ clientId: parseClientId('acme'), address: 'agent', token: 't' }) },
    control: {
      request: async (_client: string, _address: string, _token: string, method: string, path: string) => {
        reached.push(`${method} ${path}`);
        throw new FleetError('unavailable', 'agent reached');
      },
    } as unknown as AgentControl,
    clock: { now: () => NOW },
    logger: createSilentLogger(),
  });
  const operator = { author: { kind: 'operator', id: 'alice@ops' }, actor: 'alice@ops', via: 'cli' } as const;

  /** A flow-style YAML of `count` known contacts: compact as written, larger once rendered again. */
  function yamlWithContacts(count: number): string {
    return `client: acme\nknownContacts: [${Array.from({ length: count }, (_, index) => `c${String(index).padStart(6, '0')}@a.example`).join(',')}]\n`;
  }

  test('a YAML under 1 MiB whose stored forms exceed it is refused before the agent is asked', async () => {
    // ~0.9 MB as written; ~1.0 MB as canonical JSON (which the agent takes); ~1.3 MB as the agent's config file.
    const yaml = yamlWithContacts(50_000);
    assert.ok(Buffer.byteLength(yaml) < 1024 * 1024);
    reached.length = 0;
    await assert.rejects(
      service.change({ clientId: 'acme', baseVersion: 1, document: { yaml }, reason: 'seed contacts', confirm: ['knownContacts.added'], ...operator }),
      (error: Error & { code?: string }) => error.code === 'invalid_input' && /larger than 1048576 bytes \(1 MiB\); nothing was changed/.test(error.message),
    );
    assert.deepEqual(reached, [], 'the agent was not asked');
  });

  test('a document within every limit still reaches the agent', async () => {
    reached.length = 0;
    await assert.rejects(service.change({ clientId: 'acme', baseVersion: 1, document: { yaml: yamlWithContacts(1000) }, reason: 'r', confirm: [], ...operator }), /agent reached/);
    assert.deepEqual(reached, ['GET /v1/settings']);
  });
});

describe('settings service: what the agent reports is checked before it is recorded', () => {
  function versionOf(number: number, document: unknown): SettingsVersion {
    const config = document as ClientConfig;
    return {
      version: number,
      at: NOW.toISOString(),
      author: { kind: 'operator', id: 'alice@ops' },
      reason: 'r',
      config,
      changes: [{ path: 'bulkThreshold', before: 5, after: 3 }],
      guardRails: [],
      rollbackOf: null,
      source: 'api',
      configHash: settingsConfigHash(config),
      prevHash: GENESIS_HASH,
      hash: 'b'.repeat(64),
    };
  }

  /** A change whose new version the agent reports as `reported`; what reached the registry. */
  async function changeReporting(reported: SettingsVersion): Promise<{ outcome: Promise<unknown>; updates: string[] }> {
    const updates: string[] = [];
    const head = versionOf(1, plainSettings(config()));
    const service = new ClientSettingsService({
      registry: {
        updateConfig: async (_client: string, update: { configYaml: string }) => void updates.push(update.configYaml),
        appendOpsLog: async () => undefined,
        listOpsLog: async () => [],
      } as unknown as Registry,
      agents: { reach: async () => ({ clientId: parseClientId('acme'), address: 'agent', token: 't' }) },
      control: {
        request: async (_client: string, _address: string, _token: string, method: string, path: string) => {
          if (method === 'POST') return { ...reported, config: undefined };
          return path === '/v1/settings' ? head : reported;
        },
      } as unknown as AgentControl,
      clock: { now: () => NOW },
      logger: createSilentLogger(),
    });
    const document = { json: { ...plainSettings(config()), bulkThreshold: 3 } };
    const outcome = service.change({ clientId: 'acme', baseVersion: 1, document, reason: 'r', confirm: [], author: { kind: 'operator', id: 'alice@ops' }, actor: 'alice@ops', via: 'cli' });
    await outcome.catch(() => undefined);
    return { outcome, updates };
  }

  test('a version of another client, or with an invalid document, never becomes the registry copy', async () => {
    for (const document of [{ ...plainSettings(config()), client: 'globex' }, { ...plainSettings(config()), rateLimits: { perHour: 'all' } }]) {
      const { outcome, updates } = await changeReporting(versionOf(2, document));
      await assert.rejects(outcome, (error: Error & { code?: string }) => error.code === 'integrity');
      assert.deepEqual(updates, []);
    }
  });

  test('a valid version of this client is recorded', async () => {
    const { outcome, updates } = await changeReporting(versionOf(2, { ...plainSettings(config()), bulkThreshold: 3 }));
    await outcome;
    assert.equal(updates.length, 1);
    assert.match(updates[0] ?? '', /bulkThreshold: 3/);
  });
});
