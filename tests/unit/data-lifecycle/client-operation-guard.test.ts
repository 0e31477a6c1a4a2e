import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';

const acme = parseClientId('acme');
const globex = parseClientId('globex');

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

void test('an erasure asked for while a backup of the same client runs is refused, naming the backup, and nothing of it runs', async () => {
  const guard = new ClientOperationGuard();
  const backupMayFinish = deferred();
  const backup = guard.exclusive(acme, 'backup', async () => {
    await backupMayFinish.promise;
    return 'backed up';
  });
  let erased = false;
  await assert.rejects(
    guard.exclusive(acme, 'erasure', async () => {
      erased = true;
    }),
    (error: unknown) => {
      assert.equal((error as { code?: string }).code, 'busy');
      assert.equal((error as { retryable?: boolean }).retryable, true);
      assert.match((error as Error).message, /^acme: a backup is in progress; try again when it has finished$/);
      return true;
    },
  );
  assert.equal(erased, false);
  assert.equal(guard.runningOn(acme), 'backup');
  backupMayFinish.resolve();
  assert.equal(await backup, 'backed up');
  assert.equal(guard.runningOn(acme), undefined);
  await guard.exclusive(acme, 'erasure', async () => {
    erased = true;
  });
  assert.equal(erased, true, 'once the backup is over, the erasure runs');
});

void test('operations on different clients run side by side', async () => {
  const guard = new ClientOperationGuard();
  const first = deferred();
  const acmeBackup = guard.exclusive(acme, 'backup', () => first.promise);
  assert.equal(await guard.exclusive(globex, 'restore', async () => 'restored'), 'restored');
  first.resolve();
  await acmeBackup;
});

void test('a failed operation frees the client for the next one', async () => {
  const guard = new ClientOperationGuard();
  await assert.rejects(guard.exclusive(acme, 'restore', async () => Promise.reject(new Error('disk full'))), /disk full/);
  assert.equal(guard.runningOn(acme), undefined);
  assert.equal(await guard.exclusive(acme, 'backup', async () => 'ok'), 'ok');
});

void test('ended resolves once the running operation is over, whether it succeeded or failed; at once when none runs', async () => {
  const guard = new ClientOperationGuard();
  await guard.ended(acme);
  const first = deferred();
  const failing = guard.exclusive(acme, 'restore', () => first.promise.then(() => Promise.reject(new Error('disk full'))));
  let over = false;
  const waiting = guard.ended(acme).then(() => (over = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(over, false, 'still running');
  first.resolve();
  await assert.rejects(failing, /disk full/);
  await waiting;
  assert.equal(over, true);
  assert.equal(guard.runningOn(acme), undefined);
});
