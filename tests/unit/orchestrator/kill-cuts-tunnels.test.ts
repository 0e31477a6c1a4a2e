// The egress proxies decide each CONNECT when it comes; a tunnel a compromised agent opened before the kill
// stayed open until it idled out (300 s). A kill cuts the client's tunnels once the registry says killed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import type { AgentControl } from '../../../orchestrator/src/ports/agent-control.ts';
import { systemClock } from '../../../orchestrator/src/ports/clock.ts';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { EgressTunnels } from '../../../orchestrator/src/ports/egress-tunnels.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { KillClientService } from '../../../orchestrator/src/services/kill-client.ts';
import { clientOnRegistry, inProcessBackends } from '../../helpers/client-on-registry.ts';

const CLIENT = 'tunnel-co' as ClientId;

for (const backend of inProcessBackends) {
  describe(`a kill and the client's egress tunnels (${backend.name} registry)`, () => {
    const bed = clientOnRegistry(backend, { id: CLIENT, status: 'active', reason: null }, 'kill-tunnels');

    test('cuts them, after the registry says killed', async () => {
      const cuts: Array<{ clientId: ClientId; statusThen: string | undefined }> = [];
      const egress: EgressTunnels = {
        closeTunnels: (clientId) => {
          void bed.opened.registry.getClient(clientId).then((record) => cuts.push({ clientId, statusThen: record?.status }));
          return 1;
        },
        recheck: async () => 0,
      };
      const secrets = { readControlToken: async () => null, lockClient: async () => undefined, revokeAgentTokens: async () => ({ revoked: 0 }) } as Partial<SecretStore> as SecretStore;
      const runtime = { kind: 'docker', inspectAgent: async () => null, placeFiles: async () => undefined, stopAgent: async () => undefined } as Partial<ContainerRuntime> as ContainerRuntime;
      const control = { request: async () => undefined } as Partial<AgentControl> as AgentControl;
      const targets = { unregister: async () => undefined } as Partial<ScrapeTargets> as ScrapeTargets;
      const config = loadConfig({ AGENT_FLEET_HOME: bed.homeDir });
      await new KillClientService({ config, registry: bed.opened.registry, secrets, runtime, control, targets, clock: systemClock, logger: createSilentLogger(), egress }).kill({
        clientId: CLIENT,
        reason: 'sending to strangers',
        actor: 'ops',
      });
      assert.deepEqual(cuts, [{ clientId: CLIENT, statusThen: 'killed' }]);
    });
  });
}
