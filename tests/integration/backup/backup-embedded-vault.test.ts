import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { DirectoryBackupStore } from '../../../orchestrator/src/adapters/backup-directory/directory-backup-store.ts';
import {
  startEmbeddedVault,
  type EmbeddedVault,
} from '../../../orchestrator/src/adapters/embedded-vault/start-embedded-vault.ts';
import {
  createVaultClient,
  type VaultClient,
} from '../../../orchestrator/src/adapters/vault/vault-client.ts';
import { VaultKeyWrapper } from '../../../orchestrator/src/adapters/vault/vault-key-wrapper.ts';
import { VaultSecretStore } from '../../../orchestrator/src/adapters/vault/vault-secret-store.ts';
import { BackupService } from '../../../orchestrator/src/services/backup/backup-service.ts';
import { testFleetCa } from '../../helpers/agent-tls.ts';

const acme = parseClientId('acme');
const abcd = parseClientId('abcd');
const MARKERS = ['Subject: ACME acquisition of Initech', 'ceo@acme.example', 'wire 1,250,000 USD by Friday'];

function snapshot(): Buffer {
  // A volume-sized stand-in: plaintext markers between random bytes, over many chunks.
  return Buffer.concat([
    Buffer.from(MARKERS[0] ?? ''),
    randomBytes(400_000),
    Buffer.from(MARKERS.join('\n')),
    randomBytes(300_000),
  ]);
}

async function* stream(data: Buffer, piece = 65_000): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += piece) yield data.subarray(at, at + piece);
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

const integrity = (pattern: RegExp) => (e: unknown) =>
  isFleetError(e) && e.code === 'integrity' && pattern.test(e.message);

void describe('encrypted backups with the embedded secret store', () => {
  let home: string;
  let vault: EmbeddedVault;
  let admin: VaultClient;
  let secrets: VaultSecretStore;
  let backups: BackupService;
  let nowMs = Date.parse('2026-12-04T03:00:00.000Z');
  const root = () => join(home, 'backups');
  const fileOf = (client: ClientId, id: string) => join(root(), client, `${id}.afbk`);
  const transitCalls = () =>
    vault.requestLog.entries().filter((e) => e.path.startsWith('/v1/transit/decrypt/')).length;

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'backup-vault-'));
    vault = await startEmbeddedVault({
      dataDir: join(home, 'vault'),
      listen: [{ host: '127.0.0.1', port: 0 }],
      logger: createSilentLogger(),
      certificates: await testFleetCa(),
    });
    admin = createVaultClient({ endpoint: vault.url, token: vault.rootToken, caPem: vault.caCertificatePem });
    secrets = new VaultSecretStore({ client: admin, logger: createSilentLogger() });
    await secrets.ensureClient(acme);
    await secrets.ensureClient(abcd);
    backups = new BackupService({
      store: new DirectoryBackupStore({ root: root(), logger: createSilentLogger() }),
      keys: new VaultKeyWrapper({ client: admin, logger: createSilentLogger() }),
      clock: { now: () => new Date(nowMs) },
      logger: createSilentLogger(),
    });
  });
  after(async () => {
    await vault?.close();
    await rm(home, { recursive: true, force: true });
  });

  void test('a backup round-trips, and its file holds no plaintext, only the wrapped data key', async () => {
    const data = snapshot();
    const info = await backups.create(acme, stream(data));
    assert.match(info.backupId, /^20261204T030000Z-[0-9a-f]{8}$/);
    const opened = await backups.open(acme, info.backupId);
    assert.equal(opened.header.clientId, 'acme');
    assert.ok((await collect(opened.plaintext)).equals(data));
    const verified = await backups.verify(acme, info.backupId);
    assert.equal(verified.plaintextBytes, data.length);
    const onDisk = await readFile(fileOf(acme, info.backupId));
    for (const marker of MARKERS) assert.equal(onDisk.includes(Buffer.from(marker)), false, marker);
    assert.ok(onDisk.includes(Buffer.from('"wrappedKey":"vault:v1:')));
  });

  void test("another client's backup is refused by name before its key is even asked for", async () => {
    const info = await backups.create(acme, stream(snapshot()));
    await mkdir(join(root(), abcd), { recursive: true });
    await copyFile(fileOf(acme, info.backupId), fileOf(abcd, info.backupId));
    const before = transitCalls();
    await assert.rejects(backups.open(abcd, info.backupId), integrity(/belongs to client acme, not abcd/));
    assert.equal(transitCalls(), before);
  });

  void test("a header edited to name another client is refused: that client's key cannot unwrap it", async () => {
    const info = await backups.create(acme, stream(snapshot()));
    const forged = Buffer.from(
      (await readFile(fileOf(acme, info.backupId)))
        .toString('latin1')
        .replace('"clientId":"acme"', '"clientId":"abcd"'),
      'latin1',
    );
    await writeFile(fileOf(abcd, info.backupId), forged);
    await assert.rejects(
      backups.open(abcd, info.backupId),
      integrity(/cannot be unwrapped with client abcd's key/),
    );
  });

  void test('a corrupt, truncated or cut-in-the-header backup fails verification; put back whole, it verifies', async () => {
    const info = await backups.create(acme, stream(snapshot()));
    const path = fileOf(acme, info.backupId);
    const original = await readFile(path);
    const corrupt = Buffer.from(original);
    corrupt[original.length - 70_000] = (corrupt[original.length - 70_000] ?? 0) ^ 0x01;
    await writeFile(path, corrupt);
    await assert.rejects(backups.verify(acme, info.backupId), integrity(/chunk \d+ failed authentication/));
    await writeFile(path, original.subarray(0, original.length - 65_552));
    await assert.rejects(backups.verify(acme, info.backupId), integrity(/truncated, extended or altered/));
    await writeFile(path, original.subarray(0, 40));
    await assert.rejects(backups.verify(acme, info.backupId), integrity(/header/));
    await writeFile(path, original);
    assert.equal((await backups.verify(acme, info.backupId)).info.backupId, info.backupId);
  });

  void test('retention keeps the newest of 7 days and of 4 weeks', async () => {
    const client = parseClientId('retained');
    await secrets.ensureClient(client);
    const start = Date.parse('2026-10-01T02:00:00.000Z');
    for (let day = 0; day < 40; day++) {
      nowMs = start + day * 86_400_000;
      await backups.create(client, stream(Buffer.from(`day ${day}`)));
    }
    const { kept, deleted } = await backups.prune(client);
    assert.equal(deleted.length, 40 - kept.length);
    assert.deepEqual(
      kept.map((b) => b.createdAt.slice(0, 10)),
      [
        '2026-11-09',
        '2026-11-08',
        '2026-11-07',
        '2026-11-06',
        '2026-11-05',
        '2026-11-04',
        '2026-11-03',
        '2026-11-01',
        '2026-10-25',
      ],
    );
    assert.equal((await readdir(join(root(), client))).length, kept.length);
    assert.equal(await backups.deleteAll(client), kept.length);
  });

  void test('destroying the client key shreds every backup, and no new key is made behind the erasure', async () => {
    const client = parseClientId('shredded');
    await secrets.ensureClient(client);
    const first = await backups.create(client, stream(snapshot()));
    const second = await backups.create(client, stream(snapshot()));
    await secrets.removeClient(client);
    for (const info of [first, second])
      await assert.rejects(
        backups.open(client, info.backupId),
        integrity(/cannot be unwrapped with client shredded's key/),
      );
    await assert.rejects(
      backups.create(client, stream(Buffer.from('x'))),
      (e: unknown) => isFleetError(e) && e.code === 'not_found',
    );
    await assert.rejects(
      admin.read('transit/keys/fleet-shredded'),
      (e: unknown) => (e as { response?: { statusCode?: number } }).response?.statusCode === 404,
    );
    // A client re-created under the same id gets a fresh key, which cannot open the old backups either.
    await secrets.ensureClient(client);
    await assert.rejects(backups.open(client, first.backupId), integrity(/cannot be unwrapped/));
    assert.equal((await backups.list(client)).length, 2);
  });
});

void describe('encrypted backups when the secret store is down', () => {
  void test('a backup fails as retryable and leaves no file; nothing is written before the key is wrapped', async () => {
    const home = await mkdtemp(join(tmpdir(), 'backup-vault-down-'));
    try {
      const vault = await startEmbeddedVault({
        dataDir: join(home, 'vault'),
        listen: [{ host: '127.0.0.1', port: 0 }],
        logger: createSilentLogger(),
        certificates: await testFleetCa(),
      });
      const admin = createVaultClient({ endpoint: vault.url, token: vault.rootToken, timeoutMs: 2_000, caPem: vault.caCertificatePem });
      await new VaultSecretStore({ client: admin, logger: createSilentLogger() }).ensureClient(acme);
      await vault.close();
      const backups = new BackupService({
        store: new DirectoryBackupStore({ root: join(home, 'backups'), logger: createSilentLogger() }),
        keys: new VaultKeyWrapper({ client: admin, logger: createSilentLogger() }),
        clock: { now: () => new Date() },
        logger: createSilentLogger(),
      });
      await assert.rejects(
        backups.create(acme, stream(Buffer.from('data'))),
        (e: unknown) => isFleetError(e) && e.code === 'unavailable' && e.retryable,
      );
      assert.deepEqual(await readdir(join(home, 'backups', 'acme')), []);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
