// A kill of a closed client (deprovisioning, deprovisioned) still locks its policy, revokes its tokens and
// stops anything of it left running, but leaves it closed: marked killed, it would drop out of the
// retention purge (which deletes closed clients' data) and become revivable, its agent started again,
// mailbox grant and all, on an account that was closed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import type { ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import type { AgentControl } from '../../../orchestrator/src/ports/agent-control.ts';
import { systemClock } from '../../../orchestrator/src/ports/clock.ts';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { KillClientService } from '../../../orchestrator/src/services/kill-client.ts';
import { ReviveClientService } from '../../../orchestrator/src/services/revive-client.ts';
import { clientOnRegistry, inProcessBackends } from '../../helpers/client-on-registry.ts';

const CLIENT = 'closed-co' as ClientId;

function standIns(touched: string[]) {
  const secrets = {
    readControlToken: async () => null,
    lockClient: async () => void touched.push('lock'),
    unlockClient: async () => void touched.push('unlock'),
    revokeAgentTokens: async () => {
      touched.push('revoke');
      return { revoked: 0 };
    },
  } as Partial<SecretStore> as SecretStore;
  const runtime = {
    kind: 'docker',
    // Its container was removed at the deprovisioning.
    inspectAgent: async () => null,
    placeFiles: async () => void touched.push('flag'),
    stopAgent: async () => void touched.push('stop'),
    createAgent: async () => void touched.push('create'),
    startAgent: async () => void touched.push('start'),
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const control = { request: async () => void touched.push('notice') } as Partial<AgentControl> as AgentControl;
  const targets = { unregister: async () => void touched.push('unregister') } as Partial<ScrapeTargets> as ScrapeTargets;
  return { secrets, runtime, control, targets };
}

for (const backend of inProcessBackends) {
  for (const closed of ['deprovisioned', 'deprovisioning'] as const satisfies readonly ClientStatus[]) {
    describe(`a kill of a ${closed} client (${backend.name} registry)`, () => {
      const bed = clientOnRegistry(backend, { id: CLIENT, status: closed, reason: 'account closed' }, 'kill-closed');

      test('locks and revokes all the same, but the client stays closed and cannot be revived', async () => {
        const config = loadConfig({ AGENT_FLEET_HOME: bed.homeDir });
        const touched: string[] = [];
        const deps = { config, registry: bed.opened.registry, ...standIns(touched), clock: systemClock, logger: createSilentLogger() };
        await new KillClientService(deps).kill({ clientId: CLIENT, reason: 'make sure it is dead', actor: 'ops' });
        for (const each of ['lock', 'revoke', 'stop']) assert.ok(touched.includes(each), `${each} ran`);
        assert.equal((await bed.opened.registry.getClient(CLIENT))?.status, closed);
        const kills = (await bed.opened.registry.listOpsLog({ clientId: CLIENT })).filter((entry) => entry.action === 'kill');
        assert.equal(kills.length, 1, 'the kill is in the ops log');

        touched.length = 0;
        const revive = new ReviveClientService({
          ...deps,
          config: { ...config, version: 'test' },
          health: {} as never,
          vaultAddressFor: async () => 'http://127.0.0.1:1',
          introduce: async () => void touched.push('introduce'),
          guard: { exclusive: (_client, _what, run) => run() },
        });
        await assert.rejects(revive.revive({ clientId: CLIENT, reason: 'undo', actor: 'ops' }), (error: unknown) => error instanceof FleetError && error.code === 'conflict');
        assert.deepEqual(touched, [], 'nothing of the closed client was brought back');
        assert.equal((await bed.opened.registry.getClient(CLIENT))?.status, closed);
      });
    });
  }
}
