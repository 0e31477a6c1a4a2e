// `fleet audit accept-volume`: ops accept a volume the agent refused as rolled back (a restore done by
// hand, a false alarm). The orchestrator side (AgentProxyService over a PGlite registry) drives a real
// agent runtime through a stand-in of its control API: the reset reaches the agent's Vault path, the agent
// opens its volume again, the checkpoint follows the accepted chain, and the ops log names the member.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { after, before, beforeEach, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { AgentRuntime } from '../../../agent-image/src/services/runtime/agent-runtime.ts';
import type { AgentControl } from '../../../orchestrator/src/ports/agent-control.ts';
import { systemClock } from '../../../orchestrator/src/ports/clock.ts';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { opsAccessOf } from '../../../orchestrator/src/http/ops-access.ts';
import { AgentProxyService } from '../../../orchestrator/src/services/agent-proxy.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { registryBackends, type OpenedRegistry } from '../../helpers/registries.ts';
import { auditFile, client, removeBedDirectories, type MemoryVault } from './agent-bed.ts';

after(removeBedDirectories);

const ACME = parseClientId('acme');

/** The agent's control API as the orchestrator reaches it, answered by the runtime in process. */
function controlOf(agent: { runtime: AgentRuntime | null }): AgentControl {
  const runtime = () => {
    if (agent.runtime === null) throw new FleetError('unavailable', 'no agent');
    return agent.runtime;
  };
  const notReady = () => {
    const readiness = runtime().readiness();
    return readiness.ready ? null : readiness.reason;
  };
  return {
    waitReady: async () => {
      const reason = notReady();
      if (reason !== null) throw new FleetError('timeout', `agent not ready within 1 s: ${reason}`, { retryable: true });
    },
    request: async (_clientId: unknown, _address: string, _token: string, method: string, path: string) => {
      if (method === 'GET' && path === '/v1/audit/verify') return runtime().verifyAudit(null);
      throw new Error(`unexpected ${method} ${path}`);
    },
  } as Partial<AgentControl> as AgentControl;
}

function secretsOf(vault: MemoryVault, revocations: string[]): SecretStore {
  return {
    writeSecret: async (_clientId: unknown, name: string, value: string) => {
      vault.kv.set(name, value);
      return { version: 1 };
    },
    readControlToken: async () => 'control-token',
    revokeAgentTokens: async (clientId: string) => {
      revocations.push(clientId);
      return { revoked: 1 };
    },
  } as Partial<SecretStore> as SecretStore;
}

const running = {
  inspectAgent: async () => ({ clientId: ACME, exists: true, running: true, status: 'running', exitCode: null, startedAt: null, endpoints: { control: '10.0.0.2:8080', metrics: '10.0.0.2:9464' } }),
} as Partial<ContainerRuntime> as ContainerRuntime;

test('the accept-volume route asks for a fresh session, as reanchor does', () => {
  assert.equal(opsAccessOf('POST', '/clients/acme/audit/accept-volume').access, 'fresh');
  assert.equal(opsAccessOf('POST', '/Clients/acme/Audit/Accept-Volume/').access, 'fresh');
});

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`accepting a volume the agent refused (${backend.name} registry)`, () => {
    let opened: OpenedRegistry;
    before(async () => {
      opened = await backend.open();
    });
    beforeEach(async () => {
      await opened.reset();
      await opened.registry.claimForProvisioning({ id: ACME, provider: 'gmail', admins: ['admin@acme.example'], configYaml: '{"client":"acme"}', onboardingStartedAt: new Date().toISOString() }, 'op-1', new Date(), 60_000);
      await opened.registry.transition(ACME, ['provisioning'], 'active', null, new Date());
    });
    after(() => opened.close());

    /** A client whose volume was put back by hand to an older copy: its agent refuses it. */
    async function refusedByHand() {
      const bed = await client();
      await bed.work();
      const copy = await bed.copyVolume();
      await bed.work('Europe/Paris');
      const later = bed.anchored();
      assert.ok(later?.kind === 'heads' && later.heads['audit'] !== undefined);
      await opened.registry.replaceAuditCheckpoint(ACME, later.heads['audit'], new Date());
      await bed.putBack(copy);
      const started = await bed.start();
      assert.deepEqual(started.runtime.readiness(), { ready: false, reason: 'journal_rolled_back' });
      const agent = { runtime: started.runtime as AgentRuntime | null };
      const revocations: string[] = [];
      const proxy = new AgentProxyService({
        registry: opened.registry,
        runtime: running,
        secrets: secretsOf(bed.vault, revocations),
        control: controlOf(agent),
        clock: systemClock,
        logger: createSilentLogger(),
        volumes: {
          // As introduceAgent: hand over a fresh introduction, then wait until the agent is ready.
          introduce: async () => {
            await started.introduce();
            const readiness = started.runtime.readiness();
            if (!readiness.ready) throw new FleetError('timeout', `agent not ready within 1 s: ${readiness.reason}`, { retryable: true });
          },
          guard: new ClientOperationGuard(),
        },
      });
      return { bed, started, proxy, revocations, laterAuditSeq: later.heads['audit'].seq };
    }

    test('reanchor on a refused volume says which command accepts it, and moves nothing', async () => {
      const { started, proxy } = await refusedByHand();
      const before = await opened.registry.getAuditCheckpoint(ACME);
      await assert.rejects(proxy.reanchorAudit(ACME, 'restored by hand', 'alice'), (error: FleetError) => {
        assert.equal(error.code, 'conflict');
        assert.match(error.message, /journal_rolled_back.*fleet audit accept-volume acme --reason/);
        return true;
      });
      assert.equal((await opened.registry.getAuditCheckpoint(ACME))?.seq, before?.seq);
      await started.runtime.stop();
    });

    test('accept-volume resets the anchor, opens the volume, re-anchors the checkpoint and ops-logs the member and reason', async () => {
      const { bed, started, proxy, laterAuditSeq } = await refusedByHand();
      const result = await proxy.acceptVolume(ACME, 'restored b-7 by hand', 'alice');
      assert.equal(started.runtime.readiness().ready, true, 'the agent opened the volume as it is');
      assert.equal(await started.chainValid(), 1);
      assert.equal(result.previous?.seq, laterAuditSeq);
      assert.ok(result.checkpoint.seq < laterAuditSeq, 'the checkpoint follows the accepted, older chain');
      assert.deepEqual(await opened.registry.getAuditCheckpoint(ACME).then((checkpoint) => checkpoint && checkpoint.seq), result.checkpoint.seq);
      assert.equal(bed.anchored()?.kind, 'heads', 'the agent replaced the reset by the accepted heads');
      const [entry, ...more] = await opened.registry.listOpsLog({ clientId: ACME, actions: ['audit-accept-volume'] });
      assert.equal(more.length, 0);
      assert.equal(entry?.actor, 'alice');
      assert.equal(entry?.reason, 'restored b-7 by hand');
      assert.equal(entry?.outcome, 'success');
      assert.deepEqual((entry?.details as { previous: { seq: number } }).previous.seq, laterAuditSeq);

      // The volume is open now: nothing to accept, and the anchor the agent keeps is not reset under it.
      await assert.rejects(proxy.acceptVolume(ACME, 'again', 'alice'), (error: FleetError) => error.code === 'conflict' && /has its volume open/.test(error.message));
      assert.equal(bed.anchored()?.kind, 'heads');
      await started.runtime.stop();
    });

    test('a chain broken by itself stays refused: the failure is ops-logged and the checkpoint stays', async () => {
      const { bed, started, proxy, laterAuditSeq } = await refusedByHand();
      const file = await auditFile(bed.dataDir);
      const lines = (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '');
      await writeFile(file, `${lines.slice(1).join('\n')}\n`);
      const anchoredBefore = bed.anchored();
      await assert.rejects(proxy.acceptVolume(ACME, 'restored by hand', 'alice'), /did not open its volume/);
      assert.deepEqual(started.runtime.readiness(), { ready: false, reason: 'audit_chain_broken' });
      assert.deepEqual(bed.anchored(), anchoredBefore, 'the agent put back the heads the reset replaced');
      assert.equal((await opened.registry.getAuditCheckpoint(ACME))?.seq, laterAuditSeq);
      const entries = await opened.registry.listOpsLog({ clientId: ACME, actions: ['audit-accept-volume'] });
      assert.deepEqual(entries.map((entry) => [entry.actor, entry.outcome]), [['alice', 'failed']]);
      await started.runtime.stop();
    });

    test('a reason is required, and a client that is not active is refused before anything is touched', async () => {
      const { bed, started, proxy } = await refusedByHand();
      const anchorBefore = bed.vault.kv.get('journal-heads');
      await assert.rejects(proxy.acceptVolume(ACME, '   ', 'alice'), (error: FleetError) => error.code === 'invalid_input');
      await opened.registry.transition(ACME, ['active'], 'killed', 'drill', new Date());
      await assert.rejects(proxy.acceptVolume(ACME, 'restored by hand', 'alice'), (error: FleetError) => error.code === 'conflict' && /killed/.test(error.message));
      assert.equal(bed.vault.kv.get('journal-heads'), anchorBefore, 'the anchor was not reset');
      assert.equal(started.runtime.readiness().ready, false);
      await started.runtime.stop();
    });
  });
}
