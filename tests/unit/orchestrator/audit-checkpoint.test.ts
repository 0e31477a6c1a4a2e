// The audit checkpoint held outside the agent moves forward only along the same chain: before it moves,
// the agent must show that its chain still holds the checkpoint's record. Real registry (PGlite), recording
// stand-ins for the engine, Vault and the agent's control API.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { AgentControl } from '../../../orchestrator/src/ports/agent-control.ts';
import { systemClock } from '../../../orchestrator/src/ports/clock.ts';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { AgentProxyService } from '../../../orchestrator/src/services/agent-proxy.ts';
import { registryBackends, type OpenedRegistry } from '../../helpers/registries.ts';

const ACME = parseClientId('acme');
const hash = (character: string) => character.repeat(64);

/** The agent as the checkpoint sees it: its head, and its answer to "do you still extend this checkpoint?". */
function agentStandIn(state: { head: { seq: number; hash: string }; extends: boolean }, asked: string[]) {
  return {
    request: async (_clientId: unknown, _address: string, _token: string, _method: string, path: string) => {
      asked.push(path);
      if (path === '/v1/audit/head') return state.head;
      if (path.startsWith('/v1/audit/verify?')) return state.extends ? { ok: true, count: 1, head: state.head } : { ok: false, count: 1, break: { kind: 'rewritten', seq: 3 } };
      throw new Error(`unexpected ${path}`);
    },
  } as Partial<AgentControl> as AgentControl;
}

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`the audit checkpoint moves only along the same chain (${backend.name} registry)`, () => {
    let opened: OpenedRegistry;
    before(async () => {
      opened = await backend.open();
      await opened.registry.claimForProvisioning({ id: ACME, provider: 'gmail', admins: ['admin@acme.example'], configYaml: '{"client":"acme"}', onboardingStartedAt: new Date().toISOString() }, 'op-1', new Date(), 60_000);
    });
    after(() => opened.close());

    test('first saved as is; then moved only after the agent shows its chain still holds it; a rewrite is regressed and kept out', async () => {
      const asked: string[] = [];
      const state = { head: { seq: 3, hash: hash('a') }, extends: true };
      const proxy = new AgentProxyService({
        registry: opened.registry,
        runtime: {
          inspectAgent: async () => ({ clientId: ACME, exists: true, running: true, status: 'running', exitCode: null, startedAt: null, endpoints: { control: '10.0.0.2:8080', metrics: '10.0.0.2:9464' } }),
        } as Partial<ContainerRuntime> as ContainerRuntime,
        secrets: { readControlToken: async () => 'token' } as Partial<SecretStore> as SecretStore,
        control: agentStandIn(state, asked),
        clock: systemClock,
        logger: createSilentLogger(),
      });

      assert.equal(await proxy.checkpoint(ACME), 'saved');
      assert.deepEqual(asked, ['/v1/audit/head'], 'nothing to extend yet');

      state.head = { seq: 5, hash: hash('b') };
      asked.length = 0;
      assert.equal(await proxy.checkpoint(ACME), 'saved');
      assert.deepEqual(asked, ['/v1/audit/head', `/v1/audit/verify?seq=3&hash=${hash('a')}&scope=extension`]);
      assert.deepEqual(await opened.registry.getAuditCheckpoint(ACME).then((c) => c && { seq: c.seq, hash: c.hash }), { seq: 5, hash: hash('b') });

      // A longer head on a chain that no longer holds record 5 as checkpointed: not adopted.
      state.head = { seq: 9, hash: hash('c') };
      state.extends = false;
      assert.equal(await proxy.checkpoint(ACME), 'regressed');
      assert.deepEqual(await opened.registry.getAuditCheckpoint(ACME).then((c) => c && { seq: c.seq, hash: c.hash }), { seq: 5, hash: hash('b') }, 'the checkpoint stays');

      // The same head again: no question to ask, nothing moves.
      state.head = { seq: 5, hash: hash('b') };
      asked.length = 0;
      assert.equal(await proxy.checkpoint(ACME), 'unchanged');
      assert.deepEqual(asked, ['/v1/audit/head']);
    });
  });
}
