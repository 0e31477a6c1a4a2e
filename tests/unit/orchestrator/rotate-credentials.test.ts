// Credential rotation when it does not go to plan: a step failing after the old tokens were revoked, a
// kill landing in the middle, a second rotation at the same time. The stand-ins keep one small world (the
// client's live agent tokens, the token the agent holds, the policy, the container) that the real
// RotateCredentialsService and KillClientService act on.
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
import { RotateCredentialsService } from '../../../orchestrator/src/services/rotate-credentials.ts';
import { clientOnRegistry, inProcessBackends } from '../../helpers/client-on-registry.ts';

const CLIENT = 'acme' as ClientId;

type Fault = 'none' | 'data-key-fails' | 'tls-fails' | 'agent-unreachable' | 'kill-during-introduce' | 'kill-during-tls';

interface World {
  /** Agent tokens Vault would accept (with the policy unlocked). */
  live: Set<string>;
  /** The token the agent works with. */
  held: string | null;
  locked: boolean;
  running: boolean;
  keyVersion: number;
  /** Lets a test hold an introduction open. */
  introduceGate: Promise<void> | null;
}

function standIns(world: World, fault: Fault, killNow: () => Promise<unknown>) {
  let count = 0;
  const minted = ['token-old'];
  const secrets = {
    revokeAgentTokens: async () => {
      const revoked = world.live.size;
      world.live.clear();
      return { revoked };
    },
    // The ledger records every token minted; revoked ones are simply no longer live.
    agentTokenAccessors: async () => [...minted],
    revokeAgentTokenAccessors: async (_clientId: ClientId, accessors: readonly string[]) => {
      let revoked = 0;
      for (const accessor of accessors) if (world.live.delete(accessor)) revoked++;
      return { revoked };
    },
    rotateDataKey: async () => {
      if (fault === 'data-key-fails') throw new FleetError('unavailable', 'vault: transit unavailable (injected)');
      return { version: ++world.keyVersion };
    },
    issueControlToken: async () => 'control-token',
    readControlToken: async () => 'control-token',
    lockClient: async () => void (world.locked = true),
  } as Partial<SecretStore> as SecretStore;
  const state = (): AgentWorkloadState => ({
    clientId: CLIENT,
    exists: true,
    running: world.running,
    status: world.running ? 'running' : 'exited',
    exitCode: world.running ? null : 137,
    startedAt: null,
    endpoints: world.running ? { control: '127.0.0.1:1', metrics: '127.0.0.1:2' } : null,
  });
  const runtime = {
    kind: 'docker',
    inspectAgent: async () => state(),
    stopAgent: async () => void (world.running = false),
    placeFiles: async () => undefined,
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const control = { request: async () => undefined } as Partial<AgentControl> as AgentControl;
  const targets = { unregister: async () => undefined } as Partial<ScrapeTargets> as ScrapeTargets;
  // As introduceAgent does: the token is minted (wrapped) first, then handed to the agent.
  const introduce = async () => {
    const token = `token-${++count}`;
    minted.push(token);
    world.live.add(token);
    if (fault === 'kill-during-introduce' && count === 1) await killNow();
    if (world.introduceGate !== null) await world.introduceGate;
    if (!world.running) throw new FleetError('unavailable', 'connection refused (agent stopped)');
    if (fault === 'agent-unreachable') throw new FleetError('unavailable', 'the agent did not answer (injected)');
    world.held = token;
  };
  const renewTls = async () => {
    if (fault === 'kill-during-tls') await killNow();
    if (fault === 'tls-fails') throw new FleetError('unavailable', 'fleet CA unavailable (injected)');
  };
  return { secrets, runtime, control, targets, introduce, renewTls };
}

for (const backend of inProcessBackends) {
  describe(`credential rotation under faults (${backend.name} registry)`, () => {
    const bed = clientOnRegistry(backend, { id: CLIENT, status: 'active', reason: null }, 'rotate');

    function services(fault: Fault, guardWaitMs = 0) {
      const world: World = { live: new Set(['token-old']), held: 'token-old', locked: false, running: true, keyVersion: 1, introduceGate: null };
      const logger = createSilentLogger();
      let kill: KillClientService | null = null;
      let killed: Promise<unknown> | null = null;
      const killNow = () => (killed ??= kill!.kill({ clientId: CLIENT, reason: 'compromised', actor: 'ops' }));
      const parts = standIns(world, fault, killNow);
      kill = new KillClientService({ config: loadConfig({ AGENT_FLEET_HOME: bed.homeDir }), registry: bed.opened.registry, ...parts, clock: systemClock, logger });
      const rotate = new RotateCredentialsService({ registry: bed.opened.registry, ...parts, logger, guardWaitMs });
      const run = () => rotate.rotate({ clientId: CLIENT, reason: 'monthly', actor: 'ops' }).then((result) => ({ result, error: null }), (error: unknown) => ({ result: null, error }));
      return { world, rotate, run, killed: () => killed };
    }

    const lastRotation = async () => (await bed.opened.registry.listOpsLog({ clientId: CLIENT })).filter((entry) => entry.action === 'rotate-credentials').at(-1);

    test('a rotation that goes through: the old token is revoked and the agent works with its new one', async () => {
      const { world, run } = services('none');
      const { result, error } = await run();
      assert.equal(error, null);
      assert.equal(result?.revokedTokens, 1);
      assert.ok(world.held !== null && world.held !== 'token-old' && world.live.has(world.held));
      assert.deepEqual([...world.live], [world.held], 'only the new token is live');
    });

    for (const fault of ['data-key-fails', 'tls-fails', 'agent-unreachable'] as const) {
      test(`a rotation failing before the hand-over (${fault}) leaves the agent working with its old token, and the failure is reported`, async () => {
        const { world, run } = services(fault);
        const { error } = await run();
        assert.ok(error instanceof FleetError && /injected/.test(error.message), String(error));
        assert.equal(world.held, 'token-old');
        assert.ok(world.live.has('token-old'), 'the token the agent works with is still live');
        const entry = await lastRotation();
        assert.equal(entry?.outcome, 'failed');
        assert.equal(entry?.details['agent'], 'kept-its-token');
      });
    }

    for (const fault of ['kill-during-introduce', 'kill-during-tls'] as const) {
      test(`a kill landing in the middle (${fault}) wins: no agent token outlives it and the rotation fails`, async () => {
        const { world, run, killed } = services(fault);
        const { error } = await run();
        await killed();
        assert.ok(error instanceof FleetError, `the rotation reports a failure (${String(error)})`);
        assert.equal((await bed.opened.registry.getClient(CLIENT))?.status, 'killed');
        assert.deepEqual([...world.live], [], 'no live agent token after the kill');
        assert.equal(world.running, false);
        assert.equal((await lastRotation())?.outcome, 'failed');
      });
    }

    test('a second rotation of the same client meanwhile is refused as busy; the first completes', async () => {
      const { world, run } = services('none');
      let open!: () => void;
      world.introduceGate = new Promise<void>((resolve) => (open = resolve));
      const first = run();
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Opened whatever the second rotation does, so neither waits forever.
      setTimeout(() => open(), 100);
      const second = await run();
      assert.ok(second.error instanceof FleetError && second.error.code === 'busy', String(second.error));
      const { error } = await first;
      assert.equal(error, null);
      assert.ok(world.held !== null && world.live.has(world.held));
    });

    test('a killed client is not rotated, and nothing of it is touched', async () => {
      await bed.opened.registry.setStatus(CLIENT, 'killed', 'compromised', new Date());
      const { world, run } = services('none');
      const { error } = await run();
      assert.ok(error instanceof FleetError && error.code === 'conflict');
      assert.deepEqual([...world.live], ['token-old']);
      assert.equal(world.held, 'token-old');
    });
  });
}
