import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { resourceNames } from '@agent-fleet/kernel/client-id';
import { createLogger } from '@agent-fleet/kernel/logger';
import { createVaultClient } from '../../../orchestrator/src/adapters/vault/vault-client.ts';
import { verifyOpsLog } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import { createFleetFixture, docker, uniqueClientId, type FleetFixture } from '../../helpers/fleet-fixture.ts';
import { agentCall } from '../../helpers/agent-tls.ts';

async function readAllFiles(directory: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (const entry of await readdir(directory, { recursive: true })) {
    const full = path.join(directory, entry);
    if ((await stat(full)).isFile()) chunks.push(await readFile(full));
  }
  return Buffer.concat(chunks);
}

async function volumeBytes(containerName: string): Promise<Buffer> {
  const archive = await docker.getContainer(containerName).getArchive({ path: '/data' });
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function streamBytes(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

function assertAbsent(haystack: Buffer | string, secrets: string[], where: string): void {
  const text = typeof haystack === 'string' ? haystack : haystack.toString('latin1');
  for (const secret of secrets) {
    assert.ok(!text.includes(secret), `a secret value was found in ${where}`);
    assert.ok(!text.includes(Buffer.from(secret).toString('base64')), `a base64 secret value was found in ${where}`);
  }
}

describe('secrets, the kill switch and rotation, on real containers and the embedded Vault store', () => {
  let fleet: FleetFixture;
  const logLines = new PassThrough();
  let orchestratorLog = '';
  logLines.on('data', (chunk: Buffer) => (orchestratorLog += chunk.toString()));
  const used: string[] = [];

  before(async () => {
    fleet = await createFleetFixture({ EMBEDDED_VAULT_PORT: '0', LOG_LEVEL: 'debug' }, {}, createLogger({ service: 'test', level: 'debug', stream: logLines }));
  });
  after(() => fleet.cleanup(used));

  const rootVault = () => createVaultClient({ endpoint: fleet.orchestrator.secretBackend.embedded!.url, token: fleet.orchestrator.secretBackend.embedded!.rootToken, caPem: fleet.orchestrator.secretBackend.embedded!.caCertificatePem });

  /** Accessors of the agent's tokens: those that used this client's path, other than the orchestrator's own. */
  async function agentAccessors(clientId: string): Promise<string[]> {
    const own = ((await rootVault().read('auth/token/lookup-self')) as { data: { accessor: string } }).data.accessor;
    const entries = fleet.orchestrator.secretBackend.embedded!.requestLog.entries();
    return [
      ...new Set(
        entries
          .filter((e) => e.accessor && e.accessor !== own && e.path.includes(`/${clientId}/`) && e.status < 400)
          .map((e) => e.accessor!),
      ),
    ];
  }

  async function accessorAlive(accessor: string): Promise<boolean> {
    try {
      await rootVault().write('auth/token/lookup-accessor', { accessor });
      return true;
    } catch {
      return false;
    }
  }

  test('no secret value appears in docker inspect, the image, the volume, the registry or any log', async () => {
    const clientId = uniqueClientId('s');
    used.push(clientId);
    const result = await fleet.orchestrator.provision.provision({ clientId, actor: 'test' });
    assert.equal(result.outcome, 'provisioned');
    const values = [`sk-ant-test-${randomBytes(24).toString('hex')}`, `refresh-${randomBytes(24).toString('hex')}`];
    await fleet.orchestrator.secrets.set({ clientId, name: 'anthropic', value: values[0], actor: 'test' });
    await fleet.orchestrator.secrets.set({ clientId, name: 'gmail-oauth', value: values[1], actor: 'test' });
    const controlToken = await fleet.orchestrator.secretBackend.store.readControlToken(clientId);
    assert.ok(controlToken);
    const secrets = [...values, controlToken, fleet.orchestrator.secretBackend.embedded!.rootToken];

    const names = resourceNames(clientId);
    assertAbsent(JSON.stringify(await docker.getContainer(names.container).inspect()), secrets, 'docker inspect');
    assertAbsent(await volumeBytes(names.container), secrets, 'the volume');
    assertAbsent(await streamBytes(await docker.getImage(fleet.config.agent.image).get()), secrets, 'the image layers');
    assertAbsent(await readAllFiles(fleet.homeDir), secrets, 'the orchestrator home (registry, vault store, targets)');
    assertAbsent(JSON.stringify(await fleet.orchestrator.registry.listOpsLog()), secrets, 'the ops log');
    const agentLogs = await docker.getContainer(names.container).logs({ stdout: true, stderr: true });
    assertAbsent(agentLogs, secrets, "the agent's logs");
    assertAbsent(orchestratorLog, secrets, "the orchestrator's logs");
    const listed = await fleet.orchestrator.secrets.list(clientId);
    // journal-heads: where the agent records its journals' heads (no secret value; `fleet secrets set` refuses it).
    assert.deepEqual(listed.map((s) => s.name).sort(), ['anthropic', 'control', 'gmail-oauth', 'journal-heads']);
    assertAbsent(JSON.stringify(listed), secrets, 'secrets list');
  });

  test('after kill returns, the agent token is revoked, the container is stopped, and the agent makes no further request', async () => {
    const clientId = uniqueClientId('k');
    used.push(clientId);
    const result = await fleet.orchestrator.provision.provision({ clientId, actor: 'test' });
    assert.equal(result.outcome, 'provisioned');
    if (result.outcome !== 'provisioned') return;
    const accessors = await agentAccessors(clientId);
    assert.ok(accessors.length >= 1, 'the introduced agent used its own token');

    // Keep the agent busy while the kill lands.
    let busy = true;
    const load = (async () => {
      while (busy) await agentCall(fleet.orchestrator.tls.ca.certificatePem, clientId, result.controlAddress, '/healthz').catch(() => undefined);
    })();
    const killed = await fleet.orchestrator.kill.kill({ clientId, reason: 'test: compromised', actor: 'test' });
    const returnedAt = new Date().toISOString();
    busy = false;
    await load;

    assert.equal(killed.containerStopped, true);
    assert.ok(killed.revokedTokens >= 1);
    for (const accessor of accessors) assert.equal(await accessorAlive(accessor), false, 'agent token rejected');
    const state = await docker.getContainer(resourceNames(clientId).container).inspect();
    assert.equal(state.State.Running, false);
    assert.equal((await fleet.orchestrator.registry.getClient(clientId))?.status, 'killed');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const later = fleet.orchestrator.secretBackend.embedded!.requestLog.entries().filter((e) => e.time > returnedAt && e.accessor && accessors.includes(e.accessor));
    assert.deepEqual(later, [], 'no request from the killed agent after kill returned');
    const targets = await fleet.orchestrator.targets.list();
    assert.ok(!targets.some((t) => t.clientId === clientId), 'scrape target removed');
    assert.equal((await fleet.orchestrator.reconcile.reconcile()).actions.filter((a) => a.clientId === clientId && a.kind !== 'stopped-killed').length, 0);
    assert.equal((await docker.getContainer(resourceNames(clientId).container).inspect()).State.Running, false, 'reconcile keeps it stopped');
    const log = await fleet.orchestrator.registry.listOpsLog({ clientId });
    assert.equal(log.at(-1)?.action, 'kill');
    assert.equal(log.at(-1)?.reason, 'test: compromised');

    // Killing a killed client again is safe: still killed, still stopped.
    const again = await fleet.orchestrator.kill.kill({ clientId, reason: 'test: again', actor: 'test' });
    assert.equal(again.alreadyKilled, true);
    assert.equal(again.containerStopped, true);

    const revived = await fleet.orchestrator.revive.revive({ clientId, reason: 'test: cleared', actor: 'test' });
    assert.equal(revived.clientId, clientId);
    assert.equal((await fleet.orchestrator.registry.getClient(clientId))?.status, 'active');
    assert.equal((await fleet.orchestrator.registry.listOpsLog({ clientId })).at(-1)?.action, 'revive');
    assert.equal(verifyOpsLog(await fleet.orchestrator.registry.listOpsLog()).valid, true);
  });

  test('rotation revokes the old token, the agent keeps working with the new one, and old encrypted data still decrypts', async () => {
    const clientId = uniqueClientId('r');
    used.push(clientId);
    await fleet.orchestrator.provision.provision({ clientId, actor: 'test' });
    await fleet.orchestrator.agents.checkpoint(clientId);
    const before = await fleet.orchestrator.agents.verifyAudit(clientId);
    const oldAccessors = await agentAccessors(clientId);

    const rotated = await fleet.orchestrator.rotate.rotate({ clientId, reason: 'test rotation', actor: 'test' });
    assert.ok(rotated.revokedTokens >= 1);
    assert.ok(rotated.dataKeyVersion >= 2);
    for (const accessor of oldAccessors) assert.equal(await accessorAlive(accessor), false, 'old token rejected');
    const after = await fleet.orchestrator.agents.verifyAudit(clientId);
    assert.equal((after.verification as { ok: boolean }).ok, true);

    // A restart makes the agent unwrap its data key again, now under the rotated key version.
    await docker.getContainer(resourceNames(clientId).container).kill({ signal: 'SIGKILL' });
    const report = await fleet.orchestrator.reconcile.reconcile();
    assert.ok(report.actions.some((a) => a.clientId === clientId && a.kind === 'restarted'), JSON.stringify(report));
    const afterRestart = await fleet.orchestrator.agents.verifyAudit(clientId);
    const verification = afterRestart.verification as { ok: boolean; count: number };
    assert.equal(verification.ok, true, JSON.stringify(afterRestart));
    assert.ok(verification.count >= (before.verification as { count: number }).count, 'old records still decrypt');
    const entry = (await fleet.orchestrator.registry.listOpsLog({ clientId })).find((e) => e.action === 'rotate-credentials');
    assert.equal(entry?.actor, 'test');
    assert.equal(entry?.reason, 'test rotation');
  });
});
