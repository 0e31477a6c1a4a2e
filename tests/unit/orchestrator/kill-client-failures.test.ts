// A kill that does not fully hold (Vault unreachable for the revocation, the engine refusing the stop) is
// still an admin action: kill() fails with the cause, and the ops log records the attempt with what failed,
// so that a revocation failure is reported, never lost. A kill of a client the registry does not know
// touches nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import type { AgentControl } from '../../../orchestrator/src/ports/agent-control.ts';
import { systemClock } from '../../../orchestrator/src/ports/clock.ts';
import type { AgentWorkloadState, ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { KillClientService } from '../../../orchestrator/src/services/kill-client.ts';
import { clientOnRegistry, inProcessBackends } from '../../helpers/client-on-registry.ts';

const CLIENT = 'acme' as ClientId;

function standIns(faults: { revokeFails?: boolean; stopFails?: boolean }, touched: string[]) {
  const secrets = {
    readControlToken: async () => 'control-token',
    lockClient: async () => void touched.push('lock'),
    revokeAgentTokens: async () => {
      touched.push('revoke');
      if (faults.revokeFails) throw new FleetError('unavailable', 'vault unreachable (injected)');
      return { revoked: 1 };
    },
  } as Partial<SecretStore> as SecretStore;
  const runtime = {
    kind: 'docker',
    inspectAgent: async (clientId: ClientId): Promise<AgentWorkloadState> => {
      touched.push('inspect');
      return { clientId, exists: true, running: true, status: 'running', exitCode: null, startedAt: null, endpoints: { control: '127.0.0.1:1', metrics: '127.0.0.1:2' } };
    },
    placeFiles: async () => void touched.push('flag'),
    stopAgent: async () => {
      touched.push('stop');
      if (faults.stopFails) throw new FleetError('unavailable', 'engine refused the stop (injected)');
    },
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const control = { request: async () => void touched.push('notice') } as Partial<AgentControl> as AgentControl;
  const targets = { unregister: async () => void touched.push('unregister') } as Partial<ScrapeTargets> as ScrapeTargets;
  return { secrets, runtime, control, targets };
}

for (const backend of inProcessBackends) {
  describe(`a kill that does not fully hold (${backend.name} registry)`, () => {
    const bed = clientOnRegistry(backend, { id: CLIENT, status: 'active', reason: null }, 'kill-failures');

    function killService(faults: { revokeFails?: boolean; stopFails?: boolean }, touched: string[]) {
      const config = loadConfig({ AGENT_FLEET_HOME: bed.homeDir });
      return new KillClientService({ config, registry: bed.opened.registry, ...standIns(faults, touched), clock: systemClock, logger: createSilentLogger() });
    }

    for (const [name, faults, step] of [
      ['the token revocation fails', { revokeFails: true }, 'revoke the agent tokens'],
      ['the stop fails', { stopFails: true }, 'stop the agent'],
    ] as const) {
      test(`${name}: kill() fails with the cause, and the ops log records the failed kill`, async () => {
        const touched: string[] = [];
        await assert.rejects(killService(faults, touched).kill({ clientId: CLIENT, reason: 'compromised', actor: 'ops' }), /injected/);
        assert.equal((await bed.opened.registry.getClient(CLIENT))?.status, 'killed');
        for (const each of ['lock', 'revoke', 'stop']) assert.ok(touched.includes(each), `${each} ran`);
        const kills = (await bed.opened.registry.listOpsLog({ clientId: CLIENT })).filter((entry) => entry.action === 'kill');
        assert.equal(kills.length, 1, 'the kill is in the ops log');
        assert.equal(kills[0]?.outcome, 'failed');
        assert.equal(kills[0]?.reason, 'compromised');
        const failed = kills[0]?.details['failed'];
        assert.ok(Array.isArray(failed) && failed.length === 1 && String(failed[0]).startsWith(`${step}: `), JSON.stringify(failed));
      });
    }

    test('a client the registry does not know: not_found, and nothing is touched', async () => {
      const touched: string[] = [];
      await assert.rejects(killService({}, touched).kill({ clientId: 'nobody', reason: 'typo', actor: 'ops' }), (error: unknown) => error instanceof FleetError && error.code === 'not_found');
      assert.deepEqual(touched, []);
    });
  });
}
