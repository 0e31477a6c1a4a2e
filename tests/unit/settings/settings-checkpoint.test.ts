// The settings checkpoint over the real settings service and a real (PGlite) registry, with the agent's
// control API played by a history in memory: a head made at the agent is recorded, an unchanged head
// is not, a rewritten or shorter history is refused once, and a restore makes the restored head the
// new baseline.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseClientConfig, type ClientConfig } from '@agent-fleet/kernel/client-config';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { diffSettings } from '@agent-fleet/kernel/settings-diff';
import { GENESIS_HASH, settingsConfigHash, settingsVersionHash, type SettingsVersion } from '@agent-fleet/kernel/settings-version';
import type { AgentControl } from '../../../orchestrator/src/ports/agent-control.ts';
import { ClientSettingsService } from '../../../orchestrator/src/services/settings/client-settings.ts';
import { checkpointSettings } from '../../../orchestrator/src/services/settings/settings-checkpoint.ts';
import { registryBackends, type OpenedRegistry } from '../../helpers/registries.ts';

const CLIENT = parseClientId('acme');
const NOW = new Date('2026-03-10T12:00:00.000Z');

function document(bulkThreshold: number): ClientConfig {
  const parsed = parseClientConfig({ client: 'acme', bulkThreshold, admins: ['dana@acme.example'] });
  if (!parsed.ok) throw new Error('fixture');
  return JSON.parse(JSON.stringify(parsed.config)) as ClientConfig;
}

function chain(length: number, salt = ''): SettingsVersion[] {
  const versions: SettingsVersion[] = [];
  for (let number = 1; number <= length; number++) {
    const config = document(number);
    const previous = versions.at(-1);
    const unhashed = {
      version: number,
      at: NOW.toISOString(),
      author: number === 1 ? { kind: 'system' as const, id: 'provisioning' } : { kind: 'operator' as const, id: 'config-file' },
      reason: `v${number}${salt}`,
      config,
      changes: diffSettings(previous?.config ?? {}, config),
      guardRails: [],
      rollbackOf: null,
      source: 'file' as const,
      configHash: settingsConfigHash(config),
      prevHash: previous?.hash ?? GENESIS_HASH,
    };
    versions.push({ ...unhashed, hash: settingsVersionHash(unhashed) });
  }
  return versions;
}

describe('the settings checkpoint', () => {
  let opened: OpenedRegistry;
  let history: SettingsVersion[] = [];
  let service: ClientSettingsService;

  before(async () => {
    opened = await registryBackends[0]!.open();
    await opened.registry.claimForProvisioning({ id: CLIENT, provider: 'gmail', admins: [], configYaml: 'client: acme\n', onboardingStartedAt: NOW.toISOString() }, 'op', NOW, 1000);
    const control = {
      async request<T>(_client: unknown, _address: string, _token: string, _method: string, path: string): Promise<T> {
        const head = history.at(-1)!;
        if (path === '/v1/settings/head') return { version: head.version, hash: head.hash } as T;
        if (path === '/v1/settings') return head as T;
        const limit = /history\?limit=(\d+)/.exec(path);
        if (limit) return { versions: [...history].reverse().slice(0, Number(limit[1])).map(({ config: _c, ...rest }) => rest) } as T;
        const one = /versions\/(\d+)/.exec(path);
        if (one && history[Number(one[1]) - 1]) return history[Number(one[1]) - 1] as T;
        throw new FleetError('not_found', path);
      },
    } as unknown as AgentControl;
    service = new ClientSettingsService({ registry: opened.registry, agents: { reach: async () => ({ clientId: CLIENT, address: 'agent', token: 't' }) }, control, clock: { now: () => NOW }, logger: createSilentLogger() });
  });
  after(() => opened?.close());

  const run = () => checkpointSettings({ registry: opened.registry, settings: service, logger: createSilentLogger() }, CLIENT);
  const checkpoints = async () => (await opened.registry.listOpsLog({ clientId: CLIENT })).filter((entry) => entry.action === 'config-checkpoint');

  test('versions made at the agent are recorded one by one, and the registry follows the head', async () => {
    history = chain(3);
    assert.equal(await run(), 'saved');
    assert.deepEqual((await checkpoints()).map((entry) => entry.details['version']), [1, 2, 3]);
    assert.match((await opened.registry.getClient(CLIENT))?.configYaml ?? '', /bulkThreshold: 3/);
    assert.equal(await run(), 'unchanged');
  });

  test('a rewritten history is refused and recorded once; a shorter one too', async () => {
    history = chain(3, ' rewritten');
    assert.equal(await run(), 'regressed');
    assert.equal(await run(), 'regressed');
    const failed = (await checkpoints()).filter((entry) => entry.outcome === 'failed');
    assert.equal(failed.length, 1, 'recorded once, not at every pass');
    history = chain(2);
    assert.equal(await run(), 'regressed');
  });

  test('after a restore, the restored head is the new baseline', async () => {
    await opened.registry.appendOpsLog({ actor: 'ops', action: 'restore', clientId: CLIENT, reason: null, outcome: 'success', details: {} });
    history = chain(2);
    assert.equal(await run(), 'saved');
    assert.equal(await run(), 'unchanged');
    history = chain(4);
    assert.equal(await run(), 'saved', 'and the chain continues from it');
  });
});
