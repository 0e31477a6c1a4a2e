// A settings change that narrows what the agent may reach (a CRM or calendar permission taken away) applied
// to new CONNECTs only: a tunnel opened before it stayed open until it idled out. Recording the change asks
// the egress proxies to re-check the client against the registry's new copy.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseClientConfig, type ClientConfig } from '@agent-fleet/kernel/client-config';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { AgentControl } from '../../../orchestrator/src/ports/agent-control.ts';
import type { EgressTunnels } from '../../../orchestrator/src/ports/egress-tunnels.ts';
import { ClientSettingsService } from '../../../orchestrator/src/services/settings/client-settings.ts';
import type { VersionSummary } from '../../../orchestrator/src/services/settings/settings-ops-log.ts';
import { registryBackends, type OpenedRegistry } from '../../helpers/registries.ts';

const CLIENT = parseClientId('acme');
const NOW = new Date('2026-03-10T12:00:00.000Z');

function document(bulkThreshold: number): ClientConfig {
  const parsed = parseClientConfig({ client: 'acme', bulkThreshold, admins: ['dana@acme.example'] });
  if (!parsed.ok) throw new Error('fixture');
  return parsed.config;
}

describe('a recorded settings change and the egress tunnels', () => {
  let opened: OpenedRegistry;
  before(async () => {
    opened = await registryBackends[0]!.open();
    await opened.registry.claimForProvisioning({ id: CLIENT, provider: 'gmail', admins: [], configYaml: 'client: acme\n', onboardingStartedAt: NOW.toISOString() }, 'op', NOW, 1000);
  });
  after(() => opened?.close());

  function service(egress: EgressTunnels, supportGrants?: ConstructorParameters<typeof ClientSettingsService>[0]['supportGrants']): ClientSettingsService {
    const agents = { reach: async () => ({ clientId: CLIENT, address: 'agent', token: 't' }) };
    return new ClientSettingsService({
      registry: opened.registry,
      agents,
      control: {} as AgentControl,
      clock: { now: () => NOW },
      logger: createSilentLogger(),
      egress,
      ...(supportGrants === undefined ? {} : { supportGrants }),
    });
  }
  const quietEgress: EgressTunnels = { closeTunnels: () => 0, recheck: async () => 0 };
  const made = (version: number): VersionSummary => ({
    version,
    at: NOW.toISOString(),
    author: { kind: 'operator', id: 'config-file' },
    reason: `v${version}`,
    changes: [],
    guardRails: [],
    rollbackOf: null,
    source: 'file',
    configHash: `c${version}`,
    prevHash: `h${version - 1}`,
    hash: `h${version}`,
  });

  test('re-checks the client once the registry holds the new settings', async () => {
    const seen: string[] = [];
    const egress: EgressTunnels = {
      closeTunnels: () => 0,
      recheck: async (clientId) => {
        seen.push((await opened.registry.getClient(clientId))?.configYaml ?? '');
        return 1;
      },
    };
    await service(egress).record(CLIENT, { actor: 'ops', via: 'cli' }, made(2), document(1), document(7));
    assert.equal(seen.length, 1);
    assert.match(seen[0] ?? '', /bulkThreshold: 7/);
  });

  test('a re-check that fails does not fail the recorded change (the proxies re-check on their own)', async () => {
    const egress: EgressTunnels = {
      closeTunnels: () => 0,
      recheck: async () => {
        throw new Error('registry busy');
      },
    };
    await service(egress).record(CLIENT, { actor: 'ops', via: 'cli' }, made(3), document(7), document(9));
    assert.match((await opened.registry.getClient(CLIENT))?.configYaml ?? '', /bulkThreshold: 9/);
  });

  test('the support grants are re-checked against the new admins once the registry holds them; a failure does not fail the change', async () => {
    const asked: { admins: readonly string[]; stored: string }[] = [];
    await service(quietEgress, {
      endGrantsOfFormerAdmins: async (clientId, admins) => {
        asked.push({ admins, stored: (await opened.registry.getClient(clientId))?.configYaml ?? '' });
        return [];
      },
    }).record(CLIENT, { actor: 'ops', via: 'cli' }, made(4), document(9), document(11));
    assert.deepEqual(asked.map((call) => call.admins), [['dana@acme.example']]);
    assert.match(asked[0]?.stored ?? '', /bulkThreshold: 11/);

    await service(quietEgress, {
      endGrantsOfFormerAdmins: async () => {
        throw new Error('ops log busy');
      },
    }).record(CLIENT, { actor: 'ops', via: 'cli' }, made(5), document(11), document(12));
    assert.match((await opened.registry.getClient(CLIENT))?.configYaml ?? '', /bulkThreshold: 12/);
  });
});
