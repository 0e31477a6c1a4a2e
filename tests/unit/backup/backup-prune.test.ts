// The retention policy counts only the client's own, readable backups: a file put in its directory by
// hand (another client's backup renamed into it, a damaged one) must not push a good backup out of its
// retention slot, and is itself left alone. Real encryption under in-memory client keys, a real directory.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { DirectoryBackupStore } from '../../../orchestrator/src/adapters/backup-directory/directory-backup-store.ts';
import type { KeyWrapper } from '../../../orchestrator/src/ports/key-wrapper.ts';
import { BackupService } from '../../../orchestrator/src/services/backup/backup-service.ts';
import { MemoryKeyWrapper } from '../../helpers/memory-key-wrapper.ts';

const ACME = parseClientId('acme');
const ABCD = parseClientId('abcd');

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'backup-prune-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function setup(keys: KeyWrapper = new MemoryKeyWrapper([ACME, ABCD])) {
  const root = await mkdtemp(join(work, 'root-'));
  let at = new Date('2026-12-01T03:15:00.000Z');
  const service = new BackupService({
    store: new DirectoryBackupStore({ root, logger: createSilentLogger() }),
    keys,
    clock: { now: () => at },
    logger: createSilentLogger(),
    retention: { daily: 2, weekly: 0 },
  });
  const backupAt = async (clientId: typeof ACME, iso: string) => {
    at = new Date(iso);
    return service.create(clientId, Readable.from([Buffer.from(`volume of ${clientId} at ${iso}`)]));
  };
  return { root, service, backupAt };
}

void describe('retention over a directory someone else wrote into', () => {
  test("another client's backup renamed into the directory takes no slot: the client's own backup of that day is kept", async () => {
    const { root, service, backupAt } = await setup();
    await backupAt(ACME, '2026-12-01T03:15:00.000Z');
    const ownLatest = await backupAt(ACME, '2026-12-02T03:15:00.000Z');
    const foreign = await backupAt(ABCD, '2026-12-02T09:00:00.000Z');
    // Moved by hand under a later id of the same day, as if it were acme's newest backup.
    const planted = '20261202T100000Z-0badc0de';
    await copyFile(join(root, ABCD, `${foreign.backupId}.afbk`), join(root, ACME, `${planted}.afbk`));
    const result = await service.prune(ACME);
    assert.deepEqual(result.deleted, []);
    assert.deepEqual(result.unreadable.map((b) => b.backupId), [planted]);
    const left = (await service.list(ACME)).map((b) => b.backupId);
    assert.ok(left.includes(ownLatest.backupId), "acme's newest real backup survives");
    assert.equal((await service.verify(ACME, ownLatest.backupId)).plaintextBytes > 0, true);
  });

  test('a damaged file takes no slot either, and is not deleted by the policy', async () => {
    const { root, service, backupAt } = await setup();
    const first = await backupAt(ACME, '2026-12-01T03:15:00.000Z');
    const second = await backupAt(ACME, '2026-12-02T03:15:00.000Z');
    const damaged = '20261203T031500Z-00000000';
    await writeFile(join(root, ACME, `${damaged}.afbk`), 'not a backup at all');
    const result = await service.prune(ACME);
    assert.deepEqual(result.deleted, [], 'two readable backups fill the two daily slots; nothing to delete');
    assert.deepEqual(result.unreadable.map((b) => b.backupId), [damaged]);
    assert.deepEqual((await readdir(join(root, ACME))).sort(), [`${first.backupId}.afbk`, `${second.backupId}.afbk`, `${damaged}.afbk`].sort());
  });

  test('readable backups beyond the slots are still deleted', async () => {
    const { service, backupAt } = await setup();
    const oldest = await backupAt(ACME, '2026-12-01T03:15:00.000Z');
    await backupAt(ACME, '2026-12-02T03:15:00.000Z');
    await backupAt(ACME, '2026-12-03T03:15:00.000Z');
    const result = await service.prune(ACME);
    assert.deepEqual(result.deleted.map((b) => b.backupId), [oldest.backupId]);
  });

  test('when the key store cannot answer, the prune fails and deletes nothing', async () => {
    const keys = new MemoryKeyWrapper([ACME]);
    let down = false;
    const flaky: KeyWrapper = {
      wrapKey: (clientId, key) => keys.wrapKey(clientId, key),
      unwrapKey: (clientId, wrapped) => (down ? Promise.reject(new FleetError('unavailable', 'vault is down', { retryable: true })) : keys.unwrapKey(clientId, wrapped)),
    };
    const { root, service, backupAt } = await setup(flaky);
    for (const day of ['01', '02', '03']) await backupAt(ACME, `2026-12-${day}T03:15:00.000Z`);
    down = true;
    await assert.rejects(service.prune(ACME), (e: unknown) => e instanceof FleetError && e.code === 'unavailable');
    assert.equal((await readdir(join(root, ACME))).length, 3);
    assert.ok((await readFile(join(root, ACME, (await readdir(join(root, ACME)))[0] ?? ''))).length > 0);
  });

  test('after the clock ran ahead and was put right, the backup just made survives its prune', async () => {
    const { service, backupAt } = await setup();
    // Two daily slots: the clock ran a month ahead for two days, so two backups are dated in January.
    await backupAt(ACME, '2027-01-10T03:15:00.000Z');
    await backupAt(ACME, '2027-01-11T03:15:00.000Z');
    const fresh = await backupAt(ACME, '2026-12-12T03:15:00.000Z');
    const result = await service.prune(ACME);
    assert.deepEqual(result.deleted, []);
    assert.ok((await service.list(ACME)).some((b) => b.backupId === fresh.backupId), 'the backup just made is kept');
  });
});
