// A backup stores only a snapshot a restore could use: a tar stream cut off at an entry boundary (which a
// tar reader takes for a whole archive), a link in the volume or a volume without its data key fails the
// backup, and nothing is stored. Real tar archives (GNU tar, both formats) and tar-stream's own.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import tar from 'tar-stream';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import { DirectoryBackupStore } from '../../../orchestrator/src/adapters/backup-directory/directory-backup-store.ts';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { ClientRecord, NewOpsLogEntry, Registry } from '../../../orchestrator/src/ports/registry.ts';
import { BackupService } from '../../../orchestrator/src/services/backup/backup-service.ts';
import { ClientBackups } from '../../../orchestrator/src/services/backup/client-backups.ts';
import { inspectVolumeSnapshot } from '../../../orchestrator/src/services/backup/snapshot-tar.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { MemoryKeyWrapper } from '../../helpers/memory-key-wrapper.ts';

const ACME = parseClientId('acme');
const now = () => new Date('2026-12-10T03:15:00.000Z');
const isIntegrity = (pattern: RegExp) => (e: unknown) => isFleetError(e) && e.code === 'integrity' && pattern.test(e.message);

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'snapshot-check-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

type Entry = { name: string; type?: 'directory' | 'symlink'; linkname?: string; content?: Buffer | string };

async function tarStream(entries: readonly Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const entry of entries) {
    if (entry.type === 'directory') pack.entry({ name: entry.name, type: 'directory' });
    else if (entry.type === 'symlink') pack.entry({ name: entry.name, type: 'symlink', linkname: entry.linkname ?? '/' });
    else pack.entry({ name: entry.name }, entry.content ?? '');
  }
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const chunk of pack) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

const VOLUME: Entry[] = [
  { name: './', type: 'directory' },
  { name: './keys/', type: 'directory' },
  { name: './keys/data-key.wrapped', content: 'vault:v1:wrapped' },
  { name: './audit/', type: 'directory' },
  { name: './audit/2026-12-09.log', content: Buffer.alloc(5000, 7) },
  // A file ending in zeros, as database pages do: the bytes before a cut may be all zero.
  { name: './state.db', content: Buffer.concat([Buffer.alloc(700, 1), Buffer.alloc(3000, 0)]) },
];

/** GNU tar of a small agent volume, in `format` (gnu or pax), with a long path and an empty file. */
async function gnuTar(format: 'gnu' | 'pax'): Promise<Buffer> {
  const root = await mkdtemp(join(work, `volume-${format}-`));
  await mkdir(join(root, 'keys'));
  await writeFile(join(root, 'keys', 'data-key.wrapped'), 'vault:v1:wrapped');
  const deep = join(root, 'mail', 'x'.repeat(90), 'y'.repeat(90));
  await mkdir(deep, { recursive: true });
  await writeFile(join(deep, `${'z'.repeat(120)}.eml`), Buffer.alloc(2000, 3));
  await writeFile(join(root, 'empty'), '');
  await writeFile(join(root, 'zeros.db'), Buffer.concat([Buffer.alloc(100, 9), Buffer.alloc(4096, 0)]));
  return execFileSync('tar', [`--format=${format}`, '-C', root, '-cf', '-', '.'], { maxBuffer: 16 * 1024 * 1024 });
}

function hasGnuTar(): boolean {
  try {
    execFileSync('tar', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Offsets of every 512-byte boundary before the archive's end marker (where a stream could be cut). */
function cutsBeforeEnd(archive: Buffer): number[] {
  let end = archive.length;
  while (end >= 512 && archive.subarray(end - 512, end).every((byte) => byte === 0)) end -= 512;
  // `end` is now just after the last entry's data; the archive needs two zero blocks after it.
  const cuts: number[] = [];
  for (let offset = 512; offset <= end + 512; offset += 512) cuts.push(offset);
  return cuts;
}

void describe('a volume snapshot is whole only with its end-of-archive marker', () => {
  test('tar-stream archives pass whole and fail when cut at any block boundary, even right after the last entry', async () => {
    const archive = await tarStream(VOLUME);
    assert.equal((await inspectVolumeSnapshot(Readable.from([archive]))).files, 3);
    for (const cut of cutsBeforeEnd(archive)) {
      await assert.rejects(inspectVolumeSnapshot(Readable.from([archive.subarray(0, cut)])), isIntegrity(/./), `cut at ${cut}`);
    }
  });

  for (const format of ['gnu', 'pax'] as const) {
    test(`GNU tar (${format} format, long paths, empty and zero-ended files) passes whole, in any chunking, and fails when cut`, { skip: !hasGnuTar() }, async () => {
      const archive = await gnuTar(format);
      const whole = await inspectVolumeSnapshot(Readable.from([archive]));
      assert.equal(whole.files, 4);
      const oddChunks = Array.from({ length: Math.ceil(archive.length / 333) }, (_, index) => archive.subarray(index * 333, (index + 1) * 333));
      assert.deepEqual(await inspectVolumeSnapshot(Readable.from(oddChunks)), whole);
      for (const cut of cutsBeforeEnd(archive)) {
        await assert.rejects(inspectVolumeSnapshot(Readable.from([archive.subarray(0, cut)])), isIntegrity(/./), `cut at ${cut}`);
      }
    });
  }

  test('a size given by a pax record (as for files over 8 GiB) is followed as a tar reader follows it', async () => {
    const content = Buffer.alloc(1300, 4);
    const archive = await tarStream([...VOLUME.slice(0, 3), { name: './big', content }]);
    // Rewrite the ustar header of ./big to say 0 and put the real size in a pax header before it.
    const at = archive.indexOf(Buffer.from('big\0'));
    const header = Buffer.from(archive.subarray(at - 2, at - 2 + 512));
    header.write('00000000000\0', 124, 'latin1');
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const pax = await tarStream([{ name: 'PaxHeader' }]);
    const record = '13 size=1300\n';
    const paxHeader = Buffer.from(pax.subarray(0, 512));
    paxHeader[156] = 'x'.charCodeAt(0);
    paxHeader.write(record.length.toString(8).padStart(11, '0'), 124, 'latin1');
    paxHeader.fill(0x20, 148, 156);
    sum = 0;
    for (const byte of paxHeader) sum += byte;
    paxHeader.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const paxData = Buffer.alloc(512);
    paxData.write(record, 0, 'latin1');
    const rebuilt = Buffer.concat([archive.subarray(0, at - 2), paxHeader, paxData, header, archive.subarray(at - 2 + 512)]);
    const whole = await inspectVolumeSnapshot(Readable.from([rebuilt]));
    assert.equal(whole.bytes, 'vault:v1:wrapped'.length + content.length);
    for (const cut of cutsBeforeEnd(rebuilt)) {
      await assert.rejects(inspectVolumeSnapshot(Readable.from([rebuilt.subarray(0, cut)])), isIntegrity(/./), `cut at ${cut}`);
    }
  });

  test('entries after the end-of-archive marker are refused', async () => {
    const archive = await tarStream(VOLUME);
    const extra = await tarStream([{ name: './late', content: 'appended' }]);
    await assert.rejects(inspectVolumeSnapshot(Readable.from([archive, extra])), isIntegrity(/after its end-of-archive marker/));
  });
});

interface Fixture {
  clientBackups: ClientBackups;
  service: BackupService;
  log: NewOpsLogEntry[];
  thawed: () => number;
  directory: string;
}

async function fixture(snapshot: () => AsyncIterable<Uint8Array>): Promise<Fixture> {
  const directory = await mkdtemp(join(work, 'backups-'));
  const log: NewOpsLogEntry[] = [];
  let thawed = 0;
  const record: ClientRecord = { id: ACME, status: 'active', provider: 'gmail', admins: [], configYaml: '', subnet: '10.9.0.0/29', onboardingStartedAt: now().toISOString(), operationId: null, operationHeartbeatAt: null, statusReason: null, createdAt: now().toISOString(), updatedAt: now().toISOString() };
  const registry = {
    getClient: async () => record,
    listClients: async () => [record],
    appendOpsLog: async (entry: NewOpsLogEntry) => {
      log.push(entry);
      return { ...entry, seq: log.length, at: now().toISOString(), prevHash: '', hash: '' };
    },
  } as Partial<Registry> as Registry;
  const runtime = {
    volumes: {
      freezeAgent: async () => true,
      thawAgent: async () => void (thawed += 1),
      snapshot: async () => Readable.from(snapshot()),
    } as Partial<ContainerRuntime['volumes']> as ContainerRuntime['volumes'],
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const service = new BackupService({ store: new DirectoryBackupStore({ root: directory, logger: createSilentLogger() }), keys: new MemoryKeyWrapper([ACME]), clock: { now }, logger: createSilentLogger() });
  const clientBackups = new ClientBackups({ config: loadConfig({ AGENT_FLEET_HOME: '/nonexistent-home' }), registry, runtime, backups: service, guard: new ClientOperationGuard(), logger: createSilentLogger() });
  return { clientBackups, service, log, thawed: () => thawed, directory };
}

async function storedFiles(directory: string, clientId: ClientId): Promise<string[]> {
  return readdir(join(directory, clientId)).catch(() => []);
}

void describe('a backup stores only a snapshot a restore could use', () => {
  test('a whole snapshot is stored, and what is stored opens and inspects as the snapshot', async () => {
    const archive = await tarStream(VOLUME);
    const run = await fixture(async function* () {
      yield archive;
    });
    const info = await run.clientBackups.backup({ clientId: ACME, actor: 'ops' });
    const opened = await run.service.open(ACME, info.backupId);
    assert.equal((await inspectVolumeSnapshot(opened.plaintext)).files, 3);
    assert.equal(run.log.at(-1)?.outcome, 'success');
  });

  const refused: Array<[string, () => Promise<Buffer[]>, RegExp]> = [
    ['cut off right after an entry (the engine ended its stream early)', async () => {
      const archive = await tarStream(VOLUME);
      return [archive.subarray(0, archive.length - 1024)];
    }, /without the end-of-archive marker/],
    ['holding a symbolic link', async () => [await tarStream([...VOLUME.slice(0, 3), { name: './escape', type: 'symlink', linkname: '/etc' }])], /symlink entry/],
    ['without the agent’s data key', async () => [await tarStream([{ name: './', type: 'directory' }, { name: './notes', content: 'x' }])], /holds no keys\/data-key\.wrapped/],
  ];
  for (const [what, parts, message] of refused) {
    test(`a snapshot ${what} fails the backup, stores nothing, and thaws the agent`, async () => {
      const chunks = await parts();
      const run = await fixture(async function* () {
        yield* chunks;
      });
      await assert.rejects(run.clientBackups.backup({ clientId: ACME, actor: 'ops' }), isIntegrity(message));
      assert.deepEqual(await run.service.list(ACME), []);
      assert.deepEqual(await storedFiles(run.directory, ACME), [], 'no temp file left either');
      assert.equal(run.thawed(), 1);
      assert.equal(run.log.length, 0, 'no backup is recorded');
    });
  }

  test('a large snapshot streams through the check (backpressure) and a refusal early in it stops the backup', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 5);
    const archive = await tarStream([...VOLUME, { name: './big', content: big }]);
    const run = await fixture(async function* () {
      for (let offset = 0; offset < archive.length; offset += 64 * 1024) yield archive.subarray(offset, offset + 64 * 1024);
    });
    const info = await run.clientBackups.backup({ clientId: ACME, actor: 'ops' });
    assert.ok(info.sizeBytes > big.length);
    let produced = 0;
    const early = await fixture(async function* () {
      yield await tarStream([{ name: './', type: 'directory' }, { name: './dev', type: 'symlink', linkname: '/dev/sda' }]);
      for (let index = 0; index < 1000; index++) {
        produced++;
        yield Buffer.alloc(64 * 1024);
      }
    });
    await assert.rejects(early.clientBackups.backup({ clientId: ACME, actor: 'ops' }), isIntegrity(/symlink entry/));
    assert.ok(produced < 1000, `the snapshot was read on after the refusal (${produced} chunks)`);
  });
});

void describe('the checked snapshot leaves nothing behind on a host path', () => {
  test('a symbolic link in a real directory tree shows as a link entry and is refused', { skip: !hasGnuTar() }, async () => {
    const root = await mkdtemp(join(work, 'linked-'));
    await mkdir(join(root, 'keys'));
    await writeFile(join(root, 'keys', 'data-key.wrapped'), 'vault:v1:wrapped');
    await symlink('/etc/passwd', join(root, 'passwd'));
    const archive = execFileSync('tar', ['-C', root, '-cf', '-', '.']);
    await assert.rejects(inspectVolumeSnapshot(Readable.from([archive])), isIntegrity(/symlink entry/));
  });
});
