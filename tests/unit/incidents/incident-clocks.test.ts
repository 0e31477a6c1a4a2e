import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { IncidentSeverity } from '../../../orchestrator/src/ports/incident-store.ts';
import {
  endOfNextBusinessDay,
  incidentClocks,
  responseDeadline,
  runningClockSamples,
  type ClockName,
  type IncidentClock,
} from '../../../orchestrator/src/services/incidents/incident-clocks.ts';
import { at, incident, OPENED } from './incident-fixture.ts';

const UTC = { timeZone: 'UTC' };


function clockOf(clocks: IncidentClock[], name: ClockName): IncidentClock {
  const found = clocks.find((c) => c.name === name);
  assert.ok(found, name);
  return found;
}

describe('incident clocks', () => {
  test('the response deadline follows the severity: critical 1 h, high 4 h, medium 24 h', () => {
    const expected: Record<Exclude<IncidentSeverity, 'low'>, number> = { critical: 1, high: 4, medium: 24 };
    for (const [severity, hours] of Object.entries(expected)) {
      assert.equal(responseDeadline(severity as IncidentSeverity, OPENED, UTC).toISOString(), at(hours).toISOString(), severity);
    }
  });

  test('low severity: by the end of the next business day, weekends skipped', () => {
    const cases: [string, string][] = [
      ['2026-12-02T10:00:00.000Z', '2026-12-04T00:00:00.000Z'], // Wednesday → end of Thursday
      ['2026-12-04T15:00:00.000Z', '2026-12-08T00:00:00.000Z'], // Friday → end of Monday
      ['2026-12-05T09:00:00.000Z', '2026-12-08T00:00:00.000Z'], // Saturday → end of Monday
      ['2026-12-06T23:59:59.000Z', '2026-12-08T00:00:00.000Z'], // Sunday night → end of Monday
      ['2026-12-31T12:00:00.000Z', '2027-01-02T00:00:00.000Z'], // Thursday across the year
    ];
    for (const [opened, deadline] of cases) {
      assert.equal(endOfNextBusinessDay(new Date(opened), 'UTC').toISOString(), deadline, opened);
      assert.equal(responseDeadline('low', new Date(opened), UTC).toISOString(), deadline, opened);
    }
  });

  test('low severity counts days in the fleet’s time zone, across a daylight-saving change', () => {
    // Friday 2026-10-30, 22:00 in New York (Saturday 02:00 UTC): the next business day is Monday 2 November,
    // after the clocks went back on Sunday 1 November, so its end is Tuesday 00:00 EST = 05:00 UTC.
    const opened = new Date('2026-10-31T02:00:00.000Z');
    assert.equal(endOfNextBusinessDay(opened, 'America/New_York').toISOString(), '2026-11-03T05:00:00.000Z');
    // The same instant counted in UTC is a Saturday: next business day Monday, ending Tuesday 00:00 UTC.
    assert.equal(endOfNextBusinessDay(opened, 'UTC').toISOString(), '2026-11-03T00:00:00.000Z');
    // Tokyo, no daylight saving: Wednesday 09:00 JST → end of Thursday JST = Thursday 15:00 UTC.
    assert.equal(endOfNextBusinessDay(new Date('2026-12-02T00:00:00.000Z'), 'Asia/Tokyo').toISOString(), '2026-12-03T15:00:00.000Z');
  });

  test('a fresh incident runs its response, assessment and report clocks; notification waits for a confirmation', () => {
    const clocks = incidentClocks(incident(), at(0.5), UTC);
    assert.deepEqual(
      clocks.map((c) => [c.name, c.state, c.deadline, c.secondsLeft]),
      [
        ['response', 'running', at(1).toISOString(), 1800],
        ['assessment', 'running', at(4).toISOString(), 12_600],
        ['notification', 'waiting', null, null],
        ['report', 'running', at(7 * 24).toISOString(), 7 * 24 * 3600 - 1800],
      ],
    );
  });

  test('a clock past its deadline is overdue with negative seconds left', () => {
    const response = clockOf(incidentClocks(incident(), at(1.5), UTC), 'response');
    assert.equal(response.state, 'overdue');
    assert.equal(response.secondsLeft, -1800);
    assert.equal(clockOf(incidentClocks(incident(), at(1), UTC), 'response').state, 'overdue', 'at the deadline exactly it is due');
  });

  test('a response in time is met; a late one is met late; neither reports seconds left', () => {
    const inTime = clockOf(incidentClocks(incident({ respondedAt: at(0.9).toISOString() }), at(3), UTC), 'response');
    assert.deepEqual([inTime.state, inTime.stoppedAt, inTime.secondsLeft], ['met', at(0.9).toISOString(), null]);
    const late = clockOf(incidentClocks(incident({ respondedAt: at(2).toISOString() }), at(3), UTC), 'response');
    assert.equal(late.state, 'met-late');
  });

  test('confirmation starts the 24 h notification clock; it is met once every client of the incident was told', () => {
    const confirmedAt = at(2).toISOString();
    const told = (clientId: string, hours: number) => ({
      clientId,
      at: at(hours).toISOString(),
      by: 'jake',
      channel: 'phone',
      recipient: '',
      recordedAt: at(hours + 1).toISOString(),
      recordedBy: 'ops@host',
    });
    const confirmed = incident({ clients: ['acme', 'beta'], confirmedAt });
    const running = clockOf(incidentClocks(confirmed, at(3), UTC), 'notification');
    assert.deepEqual([running.state, running.startedAt, running.deadline, running.secondsLeft], ['running', confirmedAt, at(26).toISOString(), 23 * 3600]);
    const half = clockOf(incidentClocks({ ...confirmed, notifications: [told('acme', 5)] }, at(6), UTC), 'notification');
    assert.equal(half.state, 'running', 'beta was not told yet');
    const all = clockOf(incidentClocks({ ...confirmed, notifications: [told('acme', 5), told('beta', 20)] }, at(30), UTC), 'notification');
    assert.deepEqual([all.state, all.stoppedAt], ['met', at(20).toISOString()], 'met when the last client was told (not when it was recorded)');
    const late = clockOf(incidentClocks({ ...confirmed, notifications: [told('acme', 5), told('beta', 27)] }, at(30), UTC), 'notification');
    assert.equal(late.state, 'met-late');
  });

  test('closing stops the response and assessment clocks; the report clock runs until the final report', () => {
    const closed = incident({ severity: 'high', status: 'closed', closedAt: at(3).toISOString() });
    const clocks = incidentClocks(closed, at(50), UTC);
    assert.deepEqual(
      clocks.map((c) => [c.name, c.state]),
      [
        ['response', 'met'],
        ['assessment', 'met'],
        ['notification', 'not-needed'],
        ['report', 'running'],
      ],
    );
    const reported = incidentClocks({ ...closed, reportIssuedAt: at(60).toISOString() }, at(61), UTC);
    assert.equal(clockOf(reported, 'report').state, 'met');
  });

  test('metric samples: only running and overdue clocks, labelled by incident, clock and severity', () => {
    const samples = runningClockSamples(
      [
        incident({ id: 'INC-1', respondedAt: at(0.2).toISOString() }),
        incident({ id: 'INC-2', severity: 'medium', openedAt: at(-30).toISOString(), confirmedAt: at(-1).toISOString() }),
      ],
      at(0.5),
      UTC,
    );
    assert.deepEqual(
      samples.map((s) => [s.incident, s.severity, s.clock, s.secondsLeft]),
      [
        ['INC-1', 'critical', 'assessment', 12_600],
        ['INC-1', 'critical', 'report', 7 * 24 * 3600 - 1800],
        ['INC-2', 'medium', 'response', -6.5 * 3600],
        ['INC-2', 'medium', 'assessment', -26.5 * 3600],
        ['INC-2', 'medium', 'notification', 22.5 * 3600],
        ['INC-2', 'medium', 'report', (7 * 24 - 30.5) * 3600],
      ],
    );
  });
});
