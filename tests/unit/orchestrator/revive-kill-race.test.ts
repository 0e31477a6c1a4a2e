// A kill that lands while a revive brings the agent back: the kill wins. Whatever step of the revive it
// lands on, once both are done the registry says killed (with the kill's own reason), the client's Vault
// policy denies everything, the agent is not running, no scrape target is left for it, and the revive
// reports a failure rather than success. The stand-ins keep one small world (policy, tokens, container,
// flag, targets) that the real KillClientService and ReviveClientService both act on.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import type { AgentControl } from '../../../orchestrator/src/ports/agent-control.ts';
import type { AgentHealthProbe } from '../../../orchestrator/src/ports/agent-health.ts';
import { systemClock } from '../../../orchestrator/src/ports/clock.ts';
import type { AgentWorkloadState, ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { KillClientService } from '../../../orchestrator/src/services/kill-client.ts';
import { ReviveClientService } from '../../../orchestrator/src/services/revive-client.ts';
import { clientOnRegistry, inProcessBackends } from '../../helpers/client-on-registry.ts';

const CLIENT = 'acme' as ClientId;
const KILL_REASON = 'compromised again';

/** Where a kill lands in the revive: the step it runs inside, before (or after) that step's own effect. */
type Landing = 'no-kill' | 'unlock-lands-last' | 'during-start' | 'during-introduce' | 'after-agent-revived' | 'during-target-register';

interface World {
  locked: boolean;
  tokens: Set<string>;
  running: boolean;
  exists: boolean;
  flag: boolean;
  target: string | null;
}

function standIns(world: World, landing: Landing, killNow: () => Promise<unknown>, agentRefusesRevive: boolean) {
  let issued = 0;
  const secrets = {
    unlockClient: async () => {
      if (landing === 'unlock-lands-last') await killNow();
      world.locked = false;
    },
    lockClient: async () => void (world.locked = true),
    revokeAgentTokens: async () => {
      const revoked = world.tokens.size;
      world.tokens.clear();
      return { revoked };
    },
    readControlToken: async () => 'control-token',
  } as Partial<SecretStore> as SecretStore;
  const state = (): AgentWorkloadState | null =>
    world.exists
      ? {
          clientId: CLIENT,
          exists: true,
          running: world.running,
          status: world.running ? 'running' : 'exited',
          exitCode: world.running ? null : 137,
          startedAt: null,
          endpoints: world.running ? { control: '127.0.0.1:1', metrics: '127.0.0.1:2' } : null,
        }
      : null;
  const runtime = {
    kind: 'docker',
    inspectAgent: async () => state(),
    createAgent: async () => void (world.exists = true),
    removePlacedFile: async () => void (world.flag = false),
    placeFiles: async () => void (world.flag = true),
    startAgent: async () => {
      if (landing === 'during-start') await killNow();
      world.running = true;
    },
    stopAgent: async () => void (world.running = false),
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const control = {
    request: async (_clientId: ClientId, _address: string, _token: string, _method: string, requestPath: string) => {
      if (!world.running) throw new FleetError('unavailable', 'connection refused (agent stopped)');
      if (requestPath === '/v1/kill') world.flag = true;
      if (requestPath === '/v1/revive') {
        if (agentRefusesRevive) throw new FleetError('conflict', "the orchestrator's kill flag is still placed");
        world.flag = false;
        if (landing === 'after-agent-revived') await killNow();
      }
      return undefined;
    },
  } as Partial<AgentControl> as AgentControl;
  const health: AgentHealthProbe = { isHealthy: async () => world.running };
  const targets = {
    register: async ({ address }: { address: string }) => {
      if (landing === 'during-target-register') await killNow();
      world.target = address;
    },
    unregister: async () => void (world.target = null),
  } as Partial<ScrapeTargets> as ScrapeTargets;
  const introduce = async () => {
    if (landing === 'during-introduce') await killNow();
    if (!world.running) throw new FleetError('unavailable', 'connection refused (agent stopped)');
    // The agent's new token works only while the policy is unlocked.
    if (world.locked) throw new FleetError('forbidden', 'the agent could not read its secrets');
    world.tokens.add(`token-${++issued}`);
  };
  return { secrets, runtime, control, health, targets, introduce };
}

for (const backend of inProcessBackends) {
  describe(`a kill during a revive (${backend.name} registry)`, () => {
    const bed = clientOnRegistry(backend, { id: CLIENT, status: 'killed', reason: 'first kill' }, 'revive-kill');

    async function reviveWithKillAt(landing: Landing, options: { agentRefusesRevive?: boolean } = {}) {
      const world: World = { locked: true, tokens: new Set(['minted-after-the-kill']), running: false, exists: true, flag: true, target: null };
      const config = loadConfig({ AGENT_FLEET_HOME: bed.homeDir });
      const logger = createSilentLogger();
      let killed: Promise<unknown> | null = null;
      let kill: KillClientService | null = null;
      const killNow = () => (killed ??= kill!.kill({ clientId: CLIENT, reason: KILL_REASON, actor: 'ops' }));
      const parts = standIns(world, landing, killNow, options.agentRefusesRevive ?? false);
      kill = new KillClientService({ config, registry: bed.opened.registry, ...parts, clock: systemClock, logger });
      const revive = new ReviveClientService({
        config,
        registry: bed.opened.registry,
        ...parts,
        clock: systemClock,
        logger,
        vaultAddressFor: async () => 'https://127.0.0.1:8200',
        guard: new ClientOperationGuard(),
      });
      const outcome = await revive.revive({ clientId: CLIENT, reason: 'false alarm', actor: 'ops' }).then(
        () => null,
        (error: unknown) => error,
      );
      assert.equal(killed !== null, landing !== 'no-kill', 'the kill ran where it was meant to');
      await killed;
      return { world, error: outcome };
    }

    test('without a kill the revive completes: active, unlocked, running with only its new token, flag gone, target registered', async () => {
      const { world, error } = await reviveWithKillAt('no-kill');
      assert.equal(error, null);
      assert.ok(!world.tokens.has('minted-after-the-kill'), 'a token minted after the kill does not outlive the unlock');
      assert.equal((await bed.opened.registry.getClient(CLIENT))?.status, 'active');
      assert.deepEqual({ ...world, tokens: world.tokens.size }, { locked: false, tokens: 1, running: true, exists: true, flag: false, target: '127.0.0.1:2' });
      const revives = (await bed.opened.registry.listOpsLog({ clientId: CLIENT })).filter((entry) => entry.action === 'revive');
      assert.deepEqual(revives.map((entry) => entry.outcome), ['success']);
    });

    test('a revive that fails on its own leaves the client killed, locked, stopped and flagged', async () => {
      const { world, error } = await reviveWithKillAt('no-kill', { agentRefusesRevive: true });
      assert.ok(error instanceof FleetError);
      const record = await bed.opened.registry.getClient(CLIENT);
      assert.equal(record?.status, 'killed');
      assert.match(record?.statusReason ?? '', /^revive failed: /);
      assert.deepEqual({ locked: world.locked, tokens: world.tokens.size, running: world.running, flag: world.flag, target: world.target }, { locked: true, tokens: 0, running: false, flag: true, target: null });
    });

    const landings: Landing[] = ['unlock-lands-last', 'during-start', 'during-introduce', 'after-agent-revived', 'during-target-register'];
    for (const landing of landings) {
      test(`the kill wins when it lands ${landing}`, async () => {
        const { world, error } = await reviveWithKillAt(landing);
        assert.ok(error instanceof FleetError, `the revive reports a failure, not success (${String(error)})`);
        const record = await bed.opened.registry.getClient(CLIENT);
        assert.equal(record?.status, 'killed');
        assert.equal(record?.statusReason, KILL_REASON, "the kill's own reason stays");
        assert.equal(world.locked, true, 'the policy denies everything');
        assert.equal(world.running, false, 'the agent is not running');
        assert.equal(world.target, null, 'no scrape target is left for a killed client');
        assert.equal(world.flag, true, 'the kill flag is in place for any later start');
        const revives = (await bed.opened.registry.listOpsLog({ clientId: CLIENT })).filter((entry) => entry.action === 'revive');
        assert.deepEqual(revives.map((entry) => entry.outcome), ['failed']);
      });
    }
  });
}
