import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { FileSdScrapeTargets } from '../../../orchestrator/src/adapters/prometheus/file-sd-scrape-targets.ts';

let directory: string;
let counter = 0;
before(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'file-sd-'));
});
after(() => rm(directory, { recursive: true, force: true }));

/** A fresh targets file in a directory that does not exist yet. */
function freshFile(): string {
  counter += 1;
  return path.join(directory, `case-${counter}`, 'targets', 'agents.json');
}

const id = (index: number): ClientId => parseClientId(`c${String(index).padStart(3, '0')}`);

void test('a missing file lists no targets', async () => {
  assert.deepEqual(await new FileSdScrapeTargets(freshFile()).list(), []);
});

void test('targets are written as Prometheus file_sd groups with a client label, sorted by client', async () => {
  const file = freshFile();
  const targets = new FileSdScrapeTargets(file);
  await targets.register({ clientId: parseClientId('globex'), address: '127.0.0.1:32001' });
  await targets.register({ clientId: parseClientId('acme'), address: '127.0.0.1:32000' });
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), [
    { targets: ['127.0.0.1:32000'], labels: { client: 'acme' } },
    { targets: ['127.0.0.1:32001'], labels: { client: 'globex' } },
  ]);
});

void test('registering again replaces the address; unregistering removes only that client, and is idempotent', async () => {
  const file = freshFile();
  const targets = new FileSdScrapeTargets(file);
  await targets.register({ clientId: id(1), address: '127.0.0.1:1' });
  await targets.register({ clientId: id(2), address: '127.0.0.1:2' });
  await targets.register({ clientId: id(1), address: '127.0.0.1:11' });
  assert.deepEqual(await targets.list(), [
    { clientId: id(1), address: '127.0.0.1:11' },
    { clientId: id(2), address: '127.0.0.1:2' },
  ]);
  await targets.unregister(id(1));
  await targets.unregister(id(1));
  await targets.unregister(id(9));
  assert.deepEqual(await targets.list(), [{ clientId: id(2), address: '127.0.0.1:2' }]);
});

void test('concurrent registers all land, and a reader never sees a partial file', async () => {
  const file = freshFile();
  const targets = new FileSdScrapeTargets(file);
  let writing = true;
  let reads = 0;
  const problems: string[] = [];
  const reader = (async () => {
    while (writing) {
      try {
        const groups = JSON.parse(await readFile(file, 'utf8')) as unknown;
        assert.ok(Array.isArray(groups));
        reads += 1;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(String(error));
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  await Promise.all(Array.from({ length: 60 }, (_, index) => targets.register({ clientId: id(index), address: `127.0.0.1:${30_000 + index}` })));
  writing = false;
  await reader;
  assert.deepEqual(problems, []);
  assert.ok(reads > 0, 'the reader read the file while it was being rewritten');
  const listed = await targets.list();
  assert.equal(listed.length, 60);
  assert.deepEqual(new Set(listed.map((target) => target.address)), new Set(Array.from({ length: 60 }, (_, index) => `127.0.0.1:${30_000 + index}`)));
  assert.deepEqual((await readdir(path.dirname(file))).sort(), ['agents.json'], 'no temporary file is left behind');
});

void test('concurrent registers and unregisters apply in call order', async () => {
  const targets = new FileSdScrapeTargets(freshFile());
  await Promise.all([
    targets.register({ clientId: id(1), address: '127.0.0.1:1' }),
    targets.register({ clientId: id(2), address: '127.0.0.1:2' }),
    targets.unregister(id(1)),
    targets.register({ clientId: id(3), address: '127.0.0.1:3' }),
  ]);
  assert.deepEqual((await targets.list()).map((target) => target.clientId), [id(2), id(3)]);
});

void test('a failed write is reported and does not block later writes', async () => {
  const file = freshFile();
  await mkdir(file, { recursive: true }); // a directory where the file must go
  const targets = new FileSdScrapeTargets(file);
  await assert.rejects(targets.register({ clientId: id(1), address: '127.0.0.1:1' }), (error: unknown) => isFleetError(error));
  await rm(file, { recursive: true });
  await targets.register({ clientId: id(2), address: '127.0.0.1:2' });
  assert.deepEqual(await targets.list(), [{ clientId: id(2), address: '127.0.0.1:2' }]);
});

void test('a corrupt targets file is reported as an integrity error, not overwritten silently', async () => {
  const file = freshFile();
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, '[{"targets": [');
  const targets = new FileSdScrapeTargets(file);
  await assert.rejects(targets.list(), (error: unknown) => isFleetError(error) && error.code === 'integrity');
  await assert.rejects(targets.register({ clientId: id(1), address: '127.0.0.1:1' }), (error: unknown) => isFleetError(error) && error.code === 'integrity');
  assert.equal(await readFile(file, 'utf8'), '[{"targets": [');
});

// Fails today: two writers of one file (the service and a CLI process, or two orchestrators opened on one
// home as tests do) share the temporary name `.agents.json.<pid>.tmp` within a process, so one rename
// fails with ENOENT, and each instance serialises only its own read-modify-write cycles.
void test('two writers sharing one targets file lose no registration', async () => {
  const file = freshFile();
  const first = new FileSdScrapeTargets(file);
  const second = new FileSdScrapeTargets(file);
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, (_, index) => (index % 2 ? first : second).register({ clientId: id(index), address: `127.0.0.1:${index + 1}` })),
  );
  const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
  assert.equal(failures.length, 0, `${failures.length} of 20 writes failed, e.g. ${String(failures[0]?.reason)}`);
  assert.equal((await first.list()).length, 20);
});
