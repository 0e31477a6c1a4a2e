// While a mail pass leaves a backlog waiting, the next round comes soon after, not a period later; a
// round that moved nothing, and a stopped schedule, wait for the period as before.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { DailySummary } from '../../../agent-image/src/services/daily-summary/daily-summary.ts';
import { BACKLOG_ROUND_PAUSE_MS, type RoundPacingReport } from '../../../agent-image/src/services/mail-loop/round-pacing.ts';
import { WorkSchedule } from '../../../agent-image/src/services/runtime/work-schedule.ts';

const PERIOD_MS = 60_000;
const summary = { start: () => undefined, stop: () => undefined } as unknown as DailySummary;
const backlog: RoundPacingReport = { synced: true, finished: 50, deferred: 200 };
const done: RoundPacingReport = { synced: true, finished: 20, deferred: 0 };
const outage: RoundPacingReport = { synced: true, finished: 0, deferred: 200 };

/** A schedule whose rounds answer `reports` in turn (then `done`), counting them. */
function scheduleAnswering(reports: RoundPacingReport[]) {
  let rounds = 0;
  const schedule = new WorkSchedule({
    logger: createSilentLogger(),
    round: async () => {
      rounds += 1;
      return reports.shift() ?? done;
    },
    sweep: async () => undefined,
    checkWatch: async () => undefined,
    syncIntervalMs: PERIOD_MS,
    sweepIntervalMs: 0,
    watchCheckIntervalMs: 0,
    scheduleSummary: false,
  });
  return { schedule, rounds: () => rounds };
}

/** Lets the rounds' promises settle between timer steps. */
async function settle(schedule: WorkSchedule): Promise<void> {
  for (let turn = 0; turn < 5; turn += 1) await schedule.settled();
}

async function advance(t: TestContext, schedule: WorkSchedule, ms: number): Promise<void> {
  t.mock.timers.tick(ms);
  await settle(schedule);
}

describe('the work schedule follows a backlog', () => {
  test('rounds that leave a backlog are followed soon; once it is worked off, the period again', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'setImmediate'] });
    const { schedule, rounds } = scheduleAnswering([backlog, backlog]);
    schedule.start(summary);
    await advance(t, schedule, 0);
    assert.equal(rounds(), 1, 'the first round at once');
    await advance(t, schedule, BACKLOG_ROUND_PAUSE_MS);
    assert.equal(rounds(), 2, 'a backlog brings the next round forward');
    await advance(t, schedule, BACKLOG_ROUND_PAUSE_MS);
    assert.equal(rounds(), 3);
    await advance(t, schedule, BACKLOG_ROUND_PAUSE_MS * 5);
    assert.equal(rounds(), 3, 'the backlog is done: nothing until the period');
    schedule.stop();
  });

  test('a round that moved nothing (an outage) waits for the period', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'setImmediate'] });
    const { schedule, rounds } = scheduleAnswering([outage, outage]);
    schedule.start(summary);
    await advance(t, schedule, 0);
    await advance(t, schedule, BACKLOG_ROUND_PAUSE_MS * 10);
    assert.equal(rounds(), 1);
    await advance(t, schedule, PERIOD_MS);
    assert.equal(rounds(), 2, 'the period still comes');
    schedule.stop();
  });

  test('a stop cancels the early round it had planned', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'setImmediate'] });
    const { schedule, rounds } = scheduleAnswering([backlog, backlog]);
    schedule.start(summary);
    await advance(t, schedule, 0);
    schedule.stop();
    await advance(t, schedule, PERIOD_MS * 2);
    assert.equal(rounds(), 1);
  });

  test('a round asked for outside the timers (a push, a test) plans no early round', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'setImmediate'] });
    const { schedule, rounds } = scheduleAnswering([backlog, backlog]);
    await schedule.tick();
    await advance(t, schedule, BACKLOG_ROUND_PAUSE_MS * 10);
    assert.equal(rounds(), 1);
  });
});
