import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeLeftoverWork } from '../../../orchestrator/src/services/leftover-work.ts';

describe('the work a stopped service left in its home', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'leftover-work-'));
  });
  after(() => rm(home, { recursive: true, force: true }));

  test('export spools and evidence work directories go; sealed bundles, backups and other files stay', async () => {
    const spool = path.join(home, 'spool', 'fleet-export-spool-Ab12Cd');
    const work = path.join(home, 'incidents', 'INC-7', '.work-Xy9');
    await mkdir(spool, { recursive: true });
    await mkdir(work, { recursive: true });
    await writeFile(path.join(spool, 'entry-0'), 'sealed bytes');
    await writeFile(path.join(work, 'bundle.tar'), 'Subject: our floor is 40k');
    await writeFile(path.join(home, 'incidents', 'INC-7', 'acme-20261206T120000Z-abc123.tar.enc'), 'bundle');
    await mkdir(path.join(home, 'spool', 'kept-by-someone'), { recursive: true });
    await mkdir(path.join(home, 'backups', 'acme'), { recursive: true });

    const removed = await removeLeftoverWork(home);
    assert.deepEqual(removed.sort(), [path.join('incidents', 'INC-7', '.work-Xy9'), path.join('spool', 'fleet-export-spool-Ab12Cd')]);
    assert.deepEqual(await readdir(path.join(home, 'incidents', 'INC-7')), ['acme-20261206T120000Z-abc123.tar.enc']);
    assert.deepEqual(await readdir(path.join(home, 'spool')), ['kept-by-someone']);
    assert.deepEqual(await readdir(path.join(home, 'backups')), ['acme']);
    assert.deepEqual(await removeLeftoverWork(home), [], 'nothing left the second time');
  });

  test('a home with neither directory yet is fine', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'leftover-empty-'));
    try {
      assert.deepEqual(await removeLeftoverWork(empty), []);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
