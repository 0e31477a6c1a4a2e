import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import {
  EncryptedFileStore,
  loadOrCreateMasterKey,
} from '../../../orchestrator/src/adapters/embedded-vault/encrypted-file-store.ts';
import {
  writeExportArchive,
  type ExportEntry,
} from '../../../orchestrator/src/services/export/export-archive-writer.ts';
import {
  loadOrCreateExportSigner,
  type ExportSigner,
} from '../../../orchestrator/src/services/export/export-signing-key.ts';
import { Collector, CREATED_AT, generated, withSpoolDir } from './archive-helpers.ts';

void describe('export archive: refusals', () => {
  let keyDir: string;
  let signer: ExportSigner;
  before(async () => {
    keyDir = await mkdtemp(join(tmpdir(), 'export-key-'));
    signer = await loadOrCreateExportSigner(
      new EncryptedFileStore(keyDir, await loadOrCreateMasterKey(keyDir)),
      CREATED_AT,
    );
  });
  after(async () => {
    await rm(keyDir, { recursive: true, force: true });
  });

  const write = (list: ExportEntry[], spoolDir: string) =>
    writeExportArchive(
      { clientId: parseClientId('acme'), createdAt: CREATED_AT, entries: list, signer, spoolDir },
      new Collector(),
    );
  const open = async function* () {
    yield 'x';
  };

  void test('bad names, duplicates and reserved names are refused before anything is written', async () => {
    await withSpoolDir(async (dir) => {
      for (const list of [
        [{ name: '../escape', description: '', open }],
        [{ name: '/abs', description: '', open }],
        [{ name: 'MANIFEST.json', description: '', open }],
        [{ name: 'README.md', description: '', open }],
        [
          { name: 'a.txt', description: '', open },
          { name: 'a.txt', description: '', open },
        ],
        [{ name: `${'n'.repeat(101)}`, description: '', open }],
      ]) {
        await assert.rejects(
          write(list, dir),
          (e: unknown) => isFleetError(e) && e.code === 'invalid_input',
          list[0]?.name,
        );
      }
    });
  });

  void test('an entry that is not its declared size fails the export, and a failing source fails it too', async () => {
    await withSpoolDir(async (dir) => {
      await assert.rejects(
        write([{ name: 'a.txt', description: '', size: 5, open }], dir),
        /not its declared 5/,
      );
      await assert.rejects(
        write([{ name: 'a.txt', description: '', size: 0, open }], dir),
        /longer than its declared 0/,
      );
      const failing = async function* () {
        yield 'partial';
        throw new Error('agent went away');
      };
      await assert.rejects(
        write([{ name: 'a.txt', description: '', open: failing }], dir),
        /agent went away/,
      );
      // The spool directory is removed whatever happened.
      assert.deepEqual(await readdir(dir), []);
    });
  });

  void test('an output that fails mid-archive (a client gone, a full disk) fails the export instead of hanging', async () => {
    await withSpoolDir(async (dir) => {
      let received = 0;
      const output = new Writable({
        highWaterMark: 1024,
        write(chunk: Buffer, _encoding, callback) {
          received += chunk.length;
          setImmediate(() => callback(received > 200_000 ? new Error('connection reset') : null));
        },
      });
      const big = { name: 'big.bin', description: '', open: () => generated(5_000_000, 'y') };
      await assert.rejects(
        writeExportArchive(
          {
            clientId: parseClientId('acme'),
            createdAt: CREATED_AT,
            entries: [big, { ...big, name: 'b2.bin' }],
            signer,
            spoolDir: dir,
          },
          output,
        ),
        /connection reset/,
      );
      assert.deepEqual(await readdir(dir), []);
    });
  });
});
