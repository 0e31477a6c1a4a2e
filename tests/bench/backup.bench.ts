// Backup and restore of a client whose volume holds BENCH_BACKUP_RECORDS audit records (default 100,000),
// on real containers through the orchestrator: the agent is provisioned and opens its volume, a chain of
// that many records (encrypted under its own data key) replaces its audit log, then `backup` (freeze, read
// the volume, encrypt under the client's key, store) and `restore` (decrypt and check the whole backup,
// stage and swap it in, start a fresh container, introduce it, verify the chain inside the agent) are
// timed. Prints JSON: seconds, MiB/s of volume data, and the orchestrator's peak RSS during each (this
// process is the orchestrator). Exits 1 when the restored chain does not verify with every record.
// The agent gets BENCH_AGENT_CPUS (default 1) and BENCH_AGENT_MEMORY_MIB (default 256): with the fleet's
// defaults (0.5 CPU, 128 MiB) an agent opening a 100,000-record log does not answer its introduction
// within the orchestrator's 15 s.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { emailRead } from '../../agent-image/src/domain/audit-events.ts';
import { AuditLog } from '../../agent-image/src/services/audit-log/audit-log.ts';
import { createVaultClient } from '../../orchestrator/src/adapters/vault/vault-client.ts';
import { createFleetFixture, docker, uniqueClientId } from '../helpers/fleet-fixture.ts';

const RECORDS = Number(process.env['BENCH_BACKUP_RECORDS'] ?? '100000');
const MIB = 1024 * 1024;
const mib = (bytes: number) => +(bytes / MIB).toFixed(1);

class RssSampler {
  peak = process.memoryUsage.rss();
  private readonly timer = setInterval(() => (this.peak = Math.max(this.peak, process.memoryUsage.rss())), 20);
  stop(): number {
    clearInterval(this.timer);
    return Math.max(this.peak, process.memoryUsage.rss());
  }
}

interface VolumeEntry {
  header: tar.Headers;
  content: Buffer;
}

/** A (small, fresh) volume's entries in memory. */
async function volumeEntries(stream: NodeJS.ReadableStream): Promise<VolumeEntry[]> {
  const entries: VolumeEntry[] = [];
  const extract = tar.extract();
  extract.on('entry', (header: tar.Headers, entry: Readable, next: () => void) => {
    const chunks: Buffer[] = [];
    entry.on('data', (chunk: Buffer) => chunks.push(chunk));
    entry.once('end', () => {
      entries.push({ header, content: Buffer.concat(chunks) });
      next();
    });
  });
  await pipeline(stream as Readable, extract);
  return entries;
}

/**
 * `count` audit records chained from seq 1, encrypted under `key`, as the audit directory's files: a
 * thousand a day over the days before now (one file per UTC day, as the agent writes them).
 */
async function generatedAuditLog(dir: string, key: Buffer, count: number): Promise<Map<string, Buffer>> {
  const log = await AuditLog.open({ directory: dir, keys: key });
  const contentHash = 'c'.repeat(64);
  const perDay = 1000;
  const first = Date.now() - Math.ceil(count / perDay + 1) * 86_400_000;
  for (let start = 0; start < count; start += perDay) {
    const batch = Array.from({ length: Math.min(perDay, count - start) }, (_, i) => {
      const index = start + i;
      const timestamp = new Date(first + Math.floor(index / perDay) * 86_400_000 + (index % perDay) * 60_000).toISOString();
      return log.append({ ...emailRead({ messageId: `m-${index}`, parameters: { subject: `Order ${index}`, from: 'buyer@example.com' }, contentHash }), timestamp });
    });
    await Promise.all(batch);
  }
  await log.close();
  const files = new Map<string, Buffer>();
  for (const name of await readdir(dir)) files.set(name, await readFile(join(dir, name)));
  return files;
}

/** The volume with its audit directory replaced by `audit`. */
async function volumeWith(entries: VolumeEntry[], audit: Map<string, Buffer>): Promise<Buffer> {
  const pack = tar.pack();
  for (const { header, content } of entries) {
    if (header.name.startsWith('./audit/') && header.name !== './audit/') continue;
    pack.entry(header, header.type === 'file' ? content : undefined);
  }
  for (const [name, content] of audit) pack.entry({ name: `./audit/${name}`, uid: 10001, gid: 10001, mode: 0o600 }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const fleet = await createFleetFixture({
  FLEET_SUBNET_POOL: `10.235.${100 + (process.pid % 100)}.0/28`,
  FLEET_SUBNET_PREFIX: '28',
  AGENT_CPUS: process.env['BENCH_AGENT_CPUS'] ?? '1',
  AGENT_MEMORY_MIB: process.env['BENCH_AGENT_MEMORY_MIB'] ?? '256',
  AGENT_READY_TIMEOUT_SECONDS: '120',
});
const clientId = uniqueClientId('bk');
const scratch = await mkdtemp(join(tmpdir(), 'agent-fleet-backup-bench-'));
try {
  const { orchestrator, config } = fleet;
  const configYaml = JSON.stringify({ client: clientId, provider: 'gmail', admins: ['boss@acme.example'], permissions: { 'mail.read': true }, dailySummary: { enabled: false, at: '18:00' } });
  const provisioned = await orchestrator.provision.provision({ clientId, actor: 'bench', configYaml });
  if (provisioned.outcome !== 'provisioned') throw new Error(`provisioning ended ${provisioned.outcome}`);

  // The agent's own data key, so that the agent can open (and verify) the generated log.
  await orchestrator.runtime.stopAgent(clientId, 10);
  const entries = await volumeEntries(await orchestrator.runtime.volumes.snapshot(clientId, config.agent.image));
  const wrapped = entries.find((entry) => entry.header.name === './keys/data-key.wrapped')?.content.toString('utf8').trim() ?? '';
  const embedded = orchestrator.secretBackend.embedded;
  if (!embedded) throw new Error('the bench needs the embedded Vault store');
  const admin = createVaultClient({ endpoint: embedded.url, token: embedded.rootToken, caPem: embedded.caCertificatePem });
  const key = Buffer.from(((await admin.write(`transit/decrypt/fleet-${clientId}`, { ciphertext: wrapped })) as { data: { plaintext: string } }).data.plaintext, 'base64');
  const generateStarted = performance.now();
  const audit = await generatedAuditLog(join(scratch, `audit-${randomBytes(4).toString('hex')}`), key, RECORDS);
  // In through the restore's own staging and swap, so the agent's first audit file goes.
  await orchestrator.runtime.volumes.stage(clientId, config.agent.image, '.restore-staging-bench', (async function* () {
    yield await volumeWith(entries, audit);
  })());
  await orchestrator.runtime.volumes.swap(clientId, config.agent.image, config.agent.user, '.restore-staging-bench');
  const generateSeconds = (performance.now() - generateStarted) / 1000;
  const openStarted = performance.now();
  const report = await orchestrator.reconcile.reconcile();
  const agentOpenSeconds = (performance.now() - openStarted) / 1000;
  if (report.actions.some((action) => action.kind === 'failed')) {
    const state = await docker.getContainer(`fleet-${clientId}`).inspect();
    const logs = (await docker.getContainer(`fleet-${clientId}`).logs({ stdout: true, stderr: true, tail: 10 })).toString();
    throw new Error(`the agent did not come back on the generated log: ${JSON.stringify(report.actions)} ${JSON.stringify(state.State)}\n${logs}`);
  }
  await orchestrator.agents.checkpoint(clientId);

  const auditBytes = [...audit.values()].reduce((sum, file) => sum + file.length, 0);
  // The generated log is the bench's, not the orchestrator's: let it go before the baseline.
  audit.clear();
  entries.length = 0;
  global.gc?.();
  const baseline = process.memoryUsage.rss();
  let sampler = new RssSampler();
  let started = performance.now();
  const backup = await orchestrator.dataLifecycle.backups.backup({ clientId, actor: 'bench' });
  const backupSeconds = (performance.now() - started) / 1000;
  const backupPeak = sampler.stop();

  sampler = new RssSampler();
  started = performance.now();
  const restored = await orchestrator.dataLifecycle.restore.restore({ clientId, backupId: backup.backupId, actor: 'bench' });
  const restoreSeconds = (performance.now() - started) / 1000;
  const restorePeak = sampler.stop();
  const verification = (await orchestrator.agents.verifyAudit(clientId)).verification as { ok: boolean; count: number };

  const volumeBytes = restored.snapshot.bytes;
  const result = {
    bench: 'backup',
    audit_records: RECORDS,
    audit_files_mib: mib(auditBytes),
    generate_seconds: +generateSeconds.toFixed(1),
    agent: { cpus: Number(config.agent.nanoCpus / 1e9), memory_mib: mib(config.agent.memoryBytes), start_and_open_seconds: +agentOpenSeconds.toFixed(1) },
    volume: { files: restored.snapshot.files, mib: mib(volumeBytes) },
    backup: {
      seconds: +backupSeconds.toFixed(2),
      mib_per_second: +(volumeBytes / MIB / backupSeconds).toFixed(1),
      encrypted_mib: mib(backup.sizeBytes),
      agent_frozen: backup.frozen,
      orchestrator_peak_rss_mib: mib(backupPeak),
      rss_growth_mib: mib(backupPeak - baseline),
    },
    restore: {
      seconds: +restoreSeconds.toFixed(2),
      mib_per_second: +(volumeBytes / MIB / restoreSeconds).toFixed(1),
      includes: 'whole-backup decryption and check, snapshot check, staging, swap, fresh container, introduction, chain verification',
      orchestrator_peak_rss_mib: mib(restorePeak),
      rss_growth_mib: mib(restorePeak - baseline),
      chain: restored.chain,
    },
    restored_chain_verifies: verification.ok,
    restored_records: verification.count,
  };
  console.log(JSON.stringify(result, null, 2));
  if (!verification.ok || verification.count < RECORDS || !restored.chain?.ok) process.exitCode = 1;
} finally {
  await fleet.cleanup([clientId]);
  await rm(scratch, { recursive: true, force: true });
}
