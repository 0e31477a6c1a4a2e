import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import {
  backupIdTime,
  newBackupId,
  parseBackupId,
} from '../../../orchestrator/src/services/backup/backup-id.ts';

void describe('backup ids', () => {
  void test('a backup id carries its UTC second and sorts in time order', () => {
    const id = newBackupId(new Date('2026-12-04T03:00:07.912Z'), () => Buffer.from('1a2b3c4d', 'hex'));
    assert.equal(id, '20261204T030007Z-1a2b3c4d');
    assert.equal(backupIdTime(id)?.toISOString(), '2026-12-04T03:00:07.000Z');
    const later = newBackupId(new Date('2026-12-10T00:00:00Z'));
    assert.ok(id < later);
    assert.match(later, /^20261210T000000Z-[0-9a-f]{8}$/);
  });

  void test('anything else is not a backup id: no paths, no impossible dates', () => {
    for (const bad of [
      '',
      '../20261204T030007Z-1a2b3c4d',
      '20261204T030007Z-1A2B3C4D',
      '20260230T000000Z-1a2b3c4d',
      '20261204T030007Z',
      '20261204T030007Z-1a2b3c4d.afbk',
    ]) {
      assert.equal(backupIdTime(bad), null, bad);
      assert.throws(
        () => parseBackupId(bad),
        (e: unknown) => isFleetError(e) && e.code === 'invalid_input',
      );
    }
    assert.equal(parseBackupId('20261204T030007Z-1a2b3c4d'), '20261204T030007Z-1a2b3c4d');
  });
});
