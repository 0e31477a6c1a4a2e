// Bad backups and interrupted restores on a real volume: a corrupt, truncated, foreign-client or wrong-key
// backup is refused before anything is touched, and a restore cut off at any step leaves the previous state.
import assert from 'node:assert/strict';
import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import tar from 'tar-stream';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { createVaultClient } from '../../../orchestrator/src/adapters/vault/vault-client.ts';
import { VaultKeyWrapper } from '../../../orchestrator/src/adapters/vault/vault-key-wrapper.ts';
import { newBackupId } from '../../../orchestrator/src/services/backup/backup-id.ts';
import { sealBackup } from '../../../orchestrator/src/services/backup/backup-stream.ts';
import { docker } from '../../helpers/fleet-fixture.ts';
import { lifecycleClient, type LifecycleClient } from './lifecycle-bed.ts';
import { runOnVolume, volumeFingerprint } from './volume-fingerprint.ts';

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, uid: 10001, gid: 10001, mode: 0o600 }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function* chunks(...parts: Buffer[]): AsyncGenerator<Buffer> {
  yield* parts;
}

describe('restores that must not happen, and restores cut off half way', () => {
  let bed: LifecycleClient;
  let good: string;
  let corrupt: string;
  let truncated: string;
  before(async () => {
    bed = await lifecycleClient({ octet: 234, stem: 'rr' });
    const backup = () => bed.fleet.orchestrator.dataLifecycle.backups.backup({ clientId: bed.clientId, actor: 'test' });
    good = (await backup()).backupId;
    corrupt = (await backup()).backupId;
    truncated = (await backup()).backupId;
  });
  after(() => bed?.cleanup());

  const dir = () => path.join(bed.fleet.homeDir, 'backups', bed.clientId);
  const image = () => bed.fleet.config.agent.image;
  const agentStarted = async () => (await docker.getContainer(`fleet-${bed.clientId}`).inspect()).State.StartedAt;

  it('corrupt, truncated, foreign-client and wrong-key backups are refused with nothing touched', { timeout: 300_000 }, async () => {
    const { orchestrator } = bed.fleet;
    const clientId = bed.clientId;
    // One bit flipped near the end of one backup, another cut in half: each under its own id.
    const corruptFile = path.join(dir(), `${corrupt}.afbk`);
    const bytes = await readFile(corruptFile);
    bytes[bytes.length - 40] = (bytes[bytes.length - 40] ?? 0) ^ 0x01;
    await writeFile(corruptFile, bytes);
    const truncatedFile = path.join(dir(), `${truncated}.afbk`);
    await truncate(truncatedFile, Math.floor((await stat(truncatedFile)).size / 2));

    // Another client's backup under the same id, and one that claims this client under another's key.
    const other = parseClientId(`${clientId}-o`);
    await orchestrator.secretBackend.store.ensureClient(other);
    const admin = createVaultClient({ endpoint: orchestrator.secretBackend.embedded?.url ?? '', token: orchestrator.secretBackend.embedded?.rootToken ?? '', caPem: orchestrator.secretBackend.embedded?.caCertificatePem });
    const keys = new VaultKeyWrapper({ client: admin, logger: createSilentLogger() });
    const foreign = newBackupId(new Date(Date.now() + 3000));
    const content = await tarOf({ './keys/data-key.wrapped': 'vault:v1:AAAA' });
    const foreignBytes: Buffer[] = [];
    for await (const chunk of sealBackup(chunks(content), { clientId: other, backupId: foreign, createdAt: new Date(), contentType: 'application/x-tar', keys })) foreignBytes.push(chunk);
    await writeFile(path.join(dir(), `${foreign}.afbk`), Buffer.concat(foreignBytes));
    const wrongKey = newBackupId(new Date(Date.now() + 4000));
    const wrongBytes: Buffer[] = [];
    const otherKeys = { wrapKey: (_id: unknown, key: Uint8Array) => keys.wrapKey(other, key), unwrapKey: () => Promise.reject(new Error('unused')) };
    for await (const chunk of sealBackup(chunks(content), { clientId, backupId: wrongKey, createdAt: new Date(), contentType: 'application/x-tar', keys: otherKeys })) wrongBytes.push(chunk);
    await writeFile(path.join(dir(), `${wrongKey}.afbk`), Buffer.concat(wrongBytes));

    const before = await volumeFingerprint(orchestrator.runtime, clientId, image());
    const startedAt = await agentStarted();
    const cases: [string, RegExp][] = [
      [corrupt, /altered|corrupt|authentication|integrity|failed/i],
      [truncated, /truncated/i],
      [foreign, /another client|belongs to/i],
      [wrongKey, /another key|cannot be unwrapped/i],
    ];
    for (const [backupId, why] of cases) {
      const run = await bed.cli(['restore', clientId, '--from', backupId]);
      assert.notEqual(run.code, 0, `${backupId} was refused`);
      assert.match(run.stderr, why);
      assert.deepEqual(await volumeFingerprint(orchestrator.runtime, clientId, image()), before, `${backupId}: the volume is untouched`);
      assert.equal(await agentStarted(), startedAt, `${backupId}: the agent was never stopped`);
      assert.equal((await orchestrator.registry.getClient(clientId))?.status, 'active');
    }
    const unknown = await bed.cli(['restore', 'nobody-here', '--from', good]);
    assert.match(unknown.stderr, /no client "nobody-here"/);
    const missing = await bed.cli(['restore', clientId, '--from', newBackupId(new Date(0))]);
    assert.match(missing.stderr, /has no backup/);
  });

  it('a restore cut off while staging or in the middle of the swap leaves the previous content', { timeout: 300_000 }, async () => {
    const { orchestrator } = bed.fleet;
    const clientId = bed.clientId;
    const { runtime } = orchestrator;
    const user = bed.fleet.config.agent.user;
    await runtime.stopAgent(clientId, 10);
    const before = await volumeFingerprint(runtime, clientId, image());

    // Staging cut off: the stream fails after its first file.
    async function* failing(): AsyncGenerator<Buffer> {
      const whole = await tarOf({ './audit/audit-2026-01-01.log': 'x'.repeat(100_000), './state/state.log': 'y' });
      yield whole.subarray(0, 60_000);
      throw new Error('disk unplugged');
    }
    await assert.rejects(runtime.volumes.stage(clientId, image(), '.restore-staging-cut', failing()));
    assert.equal(await runtime.volumes.recover(clientId, image(), user), 'clean');
    assert.deepEqual(await volumeFingerprint(runtime, clientId, image()), before);

    // The swap cut off while moving the old entries out, then while moving the new ones in.
    const staged = await tarOf({ './config.yaml': 'restored', './audit/a.log': 'new' });
    for (const phase of ['moving-out', 'moving-in'] as const) {
      await runtime.volumes.stage(clientId, image(), '.restore-staging-half', chunks(staged));
      await runOnVolume(clientId, image(), `
        const fs = require('fs'), p = require('path'), root = '/data', staging = '.restore-staging-half';
        const live = fs.readdirSync(root).filter((n) => !n.startsWith('.restore-'));
        fs.mkdirSync(p.join(root, '.restore-previous'));
        const journal = (phase) => fs.writeFileSync(p.join(root, '.restore-journal.json'), JSON.stringify({ phase, staging }));
        journal('moving-out');
        const out = ${JSON.stringify(phase)} === 'moving-out' ? live.slice(0, 1) : live;
        for (const n of out) fs.renameSync(p.join(root, n), p.join(root, '.restore-previous', n));
        if (${JSON.stringify(phase)} === 'moving-in') {
          journal('moving-in');
          fs.renameSync(p.join(root, staging, 'config.yaml'), p.join(root, 'config.yaml'));
        }`);
      assert.equal(await runtime.volumes.recover(clientId, image(), user), 'rolled-back', phase);
      assert.deepEqual(await volumeFingerprint(runtime, clientId, image()), before, `${phase}: the previous content is back`);
    }

    // Cut off at the swap itself, through the restore service: the agent comes back on its old data.
    const swap = runtime.volumes.swap.bind(runtime.volumes);
    runtime.volumes.swap = () => Promise.reject(new Error('orchestrator host lost power'));
    try {
      await runtime.startAgent(clientId);
      await assert.rejects(orchestrator.dataLifecycle.restore.restore({ clientId, backupId: good, actor: 'test', agentEnvironment: bed.agentEnvironment }), /lost power/);
    } finally {
      runtime.volumes.swap = swap;
    }
    assert.equal((await orchestrator.runtime.inspectAgent(clientId))?.running, true, 'the agent runs again');
    assert.notEqual(await orchestrator.agents.checkpoint(clientId), 'regressed', 'introduced afresh, it answers on its old chain');
    assert.equal((await orchestrator.registry.getClient(clientId))?.status, 'active');
    await runtime.stopAgent(clientId, 10);
    const after = await volumeFingerprint(runtime, clientId, image());
    // What the agent wrote since, and the config sealed anew for each start under that start's key, differ by design.
    const kept = (entry: string) => !['./audit/', './state/', './outbox/', './config.sealed '].some((prefix) => entry.startsWith(prefix));
    assert.deepEqual(after.filter(kept), before.filter(kept), 'no staged entry and no leftover');
    assert.ok(!after.some((entry) => entry.includes('.restore-')), 'nothing of the attempt is left');
    assert.equal(await runtime.volumes.recover(clientId, image(), user), 'clean');
  });
});
