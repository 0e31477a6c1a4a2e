import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  isoWeekKey,
  planRetention,
  utcDayKey,
} from '../../../orchestrator/src/services/backup/backup-retention.ts';

const at = (iso: string, id = iso) => ({ backupId: id, createdAt: iso });
const ids = (list: { backupId: string }[]) => list.map((b) => b.backupId);

/** One backup a day at 03:00 UTC for `days` days ending on `last` (inclusive). */
function daily(last: string, days: number) {
  const end = Date.parse(`${last}T03:00:00.000Z`);
  return Array.from({ length: days }, (_, i) => at(new Date(end - i * 86_400_000).toISOString())).reverse();
}

void describe('backup retention (keep 7 daily, 4 weekly)', () => {
  void test('ISO weeks start on Monday and belong to the year of their Thursday', () => {
    assert.equal(isoWeekKey(new Date('2026-12-07T00:00:00Z')), '2026-W50'); // Monday
    assert.equal(isoWeekKey(new Date('2026-12-06T23:59:59Z')), '2026-W49'); // Sunday
    assert.equal(isoWeekKey(new Date('2026-12-31T12:00:00Z')), '2026-W53'); // 2026 has 53 weeks
    assert.equal(isoWeekKey(new Date('2027-01-03T12:00:00Z')), '2026-W53');
    assert.equal(isoWeekKey(new Date('2027-01-04T00:00:00Z')), '2027-W01');
    assert.equal(isoWeekKey(new Date('2024-12-30T00:00:00Z')), '2025-W01');
    assert.equal(isoWeekKey(new Date('2021-01-03T00:00:00Z')), '2020-W53');
    assert.equal(utcDayKey(new Date('2026-12-04T23:59:59.999Z')), '2026-12-04');
  });

  void test('after 60 daily backups it keeps the last 7 days and the newest of the 4 latest weeks', () => {
    // 2026-12-04 is a Friday.
    const plan = planRetention(daily('2026-12-04', 60));
    assert.deepEqual(
      ids(plan.keep).map((id) => id.slice(0, 10)),
      [
        '2026-12-04',
        '2026-12-03',
        '2026-12-02',
        '2026-12-01',
        '2026-11-30',
        '2026-11-29',
        '2026-11-28',
        '2026-11-22',
        '2026-11-15',
      ],
    );
    assert.equal(plan.remove.length, 51);
    const friday = plan.decisions.find((d) => d.backup.backupId.startsWith('2026-12-04'));
    assert.deepEqual(friday?.rules, ['daily', 'weekly']);
    const sunday = plan.decisions.find((d) => d.backup.backupId.startsWith('2026-11-29'));
    assert.deepEqual(sunday?.rules, ['daily', 'weekly']); // newest of ISO week 48
    const lastWeekly = plan.decisions.find((d) => d.backup.backupId.startsWith('2026-11-15'));
    assert.deepEqual(lastWeekly?.rules, ['weekly']);
  });

  void test('several backups on one day count once: the newest of the day is kept, the others go', () => {
    const plan = planRetention([
      at('2026-12-04T01:00:00.000Z', 'early'),
      at('2026-12-04T22:00:00.000Z', 'late'),
      at('2026-12-04T12:00:00.000Z', 'noon'),
    ]);
    assert.deepEqual(ids(plan.keep), ['late']);
    assert.deepEqual(ids(plan.remove).sort(), ['early', 'noon']);
  });

  void test('days without backups do not count: gaps reach further back', () => {
    const plan = planRetention([
      ...[
        '2026-10-01',
        '2026-10-20',
        '2026-11-02',
        '2026-11-10',
        '2026-11-20',
        '2026-12-01',
        '2026-12-03',
        '2026-12-04',
      ].map((d) => at(`${d}T03:00:00.000Z`, d)),
    ]);
    // 7 distinct days: all but the oldest; the oldest is in a week beyond the 4 newest weeks.
    assert.deepEqual(ids(plan.remove), ['2026-10-01']);
  });

  void test('few backups are all kept; an empty list plans nothing; an undated backup is never deleted', () => {
    assert.equal(planRetention(daily('2026-12-04', 3)).remove.length, 0);
    assert.deepEqual(planRetention([]), { decisions: [], keep: [], remove: [] });
    const plan = planRetention([...daily('2026-12-04', 40), at('garbage', 'undated')]);
    assert.ok(ids(plan.keep).includes('undated'));
    assert.deepEqual(plan.decisions[0]?.rules, ['undated']);
  });

  void test('the result does not depend on input order', () => {
    const list = daily('2026-12-04', 30);
    const shuffled = [...list].sort(
      (a, b) =>
        (a.backupId.charCodeAt(12) % 3) - (b.backupId.charCodeAt(12) % 3) ||
        b.backupId.localeCompare(a.backupId),
    );
    assert.deepEqual(ids(planRetention(list).keep), ids(planRetention(shuffled).keep));
  });

  void test('other counts apply, zero keeps nothing of that kind, and negative counts are refused', () => {
    const list = daily('2026-12-04', 30);
    assert.equal(planRetention(list, { daily: 2, weekly: 0 }).keep.length, 2);
    assert.equal(planRetention(list, { daily: 0, weekly: 2 }).keep.length, 2);
    assert.equal(planRetention(list, { daily: 0, weekly: 0 }).keep.length, 0);
    assert.throws(() => planRetention(list, { daily: -1, weekly: 4 }), RangeError);
  });

  test('backups dated after now (taken while the clock ran ahead) are kept but take no slot from the ones taken since', () => {
    // The clock ran five weeks ahead for a month, then was put right: 30 backups dated 2027-01 and 2027-02.
    const ahead = daily('2027-02-05', 30);
    const since = daily('2026-12-04', 3);
    const plan = planRetention([...ahead, ...since], { daily: 7, weekly: 4 }, new Date('2026-12-04T03:15:00.000Z'));
    assert.deepEqual(ids(plan.remove), [], 'nothing taken since the correction is deleted, the newest included');
    const newest = plan.decisions.find((d) => d.backup.backupId.startsWith('2026-12-04'));
    assert.deepEqual(newest?.rules, ['daily', 'weekly']);
    assert.ok(plan.decisions.filter((d) => d.backup.backupId.startsWith('2027')).every((d) => d.keep && d.rules.join() === 'future'));
    // Once the present has passed them they count like any other backup.
    const later = planRetention([...ahead, ...since], { daily: 7, weekly: 4 }, new Date('2027-03-01T00:00:00.000Z'));
    assert.deepEqual(ids(later.keep), ids(planRetention([...ahead, ...since]).keep));
    assert.ok(ids(later.remove).some((id) => id.startsWith('2026-12-04')));
  });
});
