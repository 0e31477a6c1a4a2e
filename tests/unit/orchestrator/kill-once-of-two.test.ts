// Two kills of one running client at once (a double submit on the portal, the portal and the CLI, two
// orchestrator processes on one registry): exactly one of them began the stop, and the other is told the
// client was already killed. The stop keeps the reason of the kill that began it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import type { AgentControl } from '../../../orchestrator/src/ports/agent-control.ts';
import { systemClock } from '../../../orchestrator/src/ports/clock.ts';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { KillClientService } from '../../../orchestrator/src/services/kill-client.ts';
import { clientOnRegistry, inProcessBackends } from '../../helpers/client-on-registry.ts';

const CLIENT = 'twice-co' as ClientId;

/** Stand-ins whose every step yields, so two kills interleave at each of them. */
function standIns() {
  const yieldThen = async <T>(value: T): Promise<T> => {
    await new Promise((resolve) => setImmediate(resolve));
    return value;
  };
  const secrets = {
    readControlToken: () => yieldThen(null),
    lockClient: () => yieldThen(undefined),
    revokeAgentTokens: () => yieldThen({ revoked: 1 }),
  } as Partial<SecretStore> as SecretStore;
  const runtime = {
    kind: 'docker',
    inspectAgent: () => yieldThen(null),
    placeFiles: () => yieldThen(undefined),
    stopAgent: () => yieldThen(undefined),
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const control = { request: () => yieldThen(undefined) } as Partial<AgentControl> as AgentControl;
  const targets = { unregister: () => yieldThen(undefined) } as Partial<ScrapeTargets> as ScrapeTargets;
  return { secrets, runtime, control, targets };
}

for (const backend of inProcessBackends) {
  describe(`two kills of one client at once (${backend.name} registry)`, () => {
    const bed = clientOnRegistry(backend, { id: CLIENT, status: 'active' }, 'kill-twice');

    test('one began the stop, the other was told it was already killed; the first reason stays', async () => {
      const config = loadConfig({ AGENT_FLEET_HOME: bed.homeDir });
      const deps = () => ({ config, registry: bed.opened.registry, ...standIns(), clock: systemClock, logger: createSilentLogger() });
      const results = await Promise.all([
        new KillClientService(deps()).kill({ clientId: CLIENT, reason: 'first press', actor: 'client-admin:a@acme.test' }),
        new KillClientService(deps()).kill({ clientId: CLIENT, reason: 'second press', actor: 'client-admin:b@acme.test' }),
      ]);
      assert.deepEqual(results.map((result) => result.alreadyKilled).sort(), [false, true]);
      const record = await bed.opened.registry.getClient(CLIENT);
      const began = results[0]!.alreadyKilled ? 'second press' : 'first press';
      assert.deepEqual({ status: record?.status, reason: record?.statusReason }, { status: 'killed', reason: began });
    });

    test('a kill of a killed client re-applies the lockdown and keeps the reason of the stop', async () => {
      const config = loadConfig({ AGENT_FLEET_HOME: bed.homeDir });
      const service = new KillClientService({ config, registry: bed.opened.registry, ...standIns(), clock: systemClock, logger: createSilentLogger() });
      assert.equal((await service.kill({ clientId: CLIENT, reason: 'stop it', actor: 'ops' })).alreadyKilled, false);
      assert.equal((await service.kill({ clientId: CLIENT, reason: 'again', actor: 'ops' })).alreadyKilled, true);
      assert.equal((await bed.opened.registry.getClient(CLIENT))?.statusReason, 'stop it');
      const kills = (await bed.opened.registry.listOpsLog({ clientId: CLIENT })).filter((entry) => entry.action === 'kill');
      assert.deepEqual(kills.map((entry) => entry.reason), ['stop it', 'again'], 'both presses are in the ops log');
    });
  });
}
