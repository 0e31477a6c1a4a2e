// Graph reads an event's time as a wall time in the zone it names. In the hour a DST change repeats, that
// wall time names two instants: the adapter must still create (and move) the event at the approved one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { graphDateTime, isAmbiguousWallTime } from '../../../agent-image/src/adapters/graph/graph-calendar-event.ts';
import { GraphCalendarProvider } from '../../../agent-image/src/adapters/graph/graph-calendar-provider.ts';
import { GraphEmulator } from '../../emulators/graph-emulator.ts';
import { graphTokenSource } from '../../helpers/oauth-tokens.ts';

/** Both instants that show as the same wall time, in zones whose clocks go back at different local hours. */
const REPEATED: readonly [string, string, string][] = [
  ['Europe/Berlin', '2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z'], // 02:30 CEST, then 02:30 CET
  ['America/New_York', '2026-11-01T05:30:00Z', '2026-11-01T06:30:00Z'], // 01:30 EDT, then 01:30 EST
  ['America/Santiago', '2026-04-05T02:30:00Z', '2026-04-05T03:30:00Z'], // 23:30 on the 4th, twice
];

describe('graph wall times around DST changes', () => {
  it('knows the repeated hour, and nothing else, as ambiguous', () => {
    for (const [zone, first, second] of REPEATED) {
      assert.equal(isAmbiguousWallTime(new Date(first), zone), true, `${zone} ${first}`);
      assert.equal(isAmbiguousWallTime(new Date(second), zone), true, `${zone} ${second}`);
    }
    assert.equal(isAmbiguousWallTime(new Date('2026-10-25T02:30:00Z'), 'Europe/Berlin'), false);
    assert.equal(isAmbiguousWallTime(new Date('2026-03-29T01:30:00Z'), 'Europe/Berlin'), false); // 03:30 CEST, just after the gap
    assert.equal(isAmbiguousWallTime(new Date('2026-10-25T00:30:00Z'), 'UTC'), false);
    assert.deepEqual(graphDateTime(new Date('2026-06-03T08:00:00Z'), 'Europe/Berlin'), { dateTime: '2026-06-03T10:00:00', timeZone: 'Europe/Berlin' });
    assert.deepEqual(graphDateTime(new Date('2026-10-25T00:30:00Z'), 'Europe/Berlin'), { dateTime: '2026-10-25T00:30:00', timeZone: 'UTC' });
  });

  describe('against the Graph emulator', () => {
    let emulator: GraphEmulator;
    let calendar: GraphCalendarProvider;
    const permissions = { 'calendar.read': true, 'calendar.write': true };

    before(async () => {
      emulator = new GraphEmulator();
      await emulator.start();
      calendar = new GraphCalendarProvider({ tokens: graphTokenSource(emulator, graphScopesFor(permissions)), baseUrl: emulator.baseUrl, logger: createSilentLogger() });
    });
    after(() => emulator.stop());

    it('creates the event at the approved instant, whichever of the two it is', async () => {
      let n = 0;
      for (const [zone, first, second] of REPEATED) {
        for (const start of [first, second]) {
          const end = new Date(Date.parse(start) + 30 * 60_000);
          const created = await calendar.createEvent({
            title: 'Call',
            start: new Date(start),
            end,
            timeZone: zone,
            attendees: ['ana@customer.example'],
            idempotencyKey: `dst-create-${n++}`,
          });
          assert.equal(created.start.toISOString(), new Date(start).toISOString(), `${zone} ${start}`);
          assert.equal(emulator.calendar.event(created.id)?.start.toISOString(), new Date(start).toISOString(), `${zone} ${start}`);
          assert.equal(emulator.calendar.event(created.id)?.end.toISOString(), end.toISOString(), `${zone} ${start}`);
        }
      }
    });

    it('moves an event to the approved instant in the repeated hour', async () => {
      const created = await calendar.createEvent({
        title: 'Call',
        start: new Date('2026-10-20T08:00:00Z'),
        end: new Date('2026-10-20T09:00:00Z'),
        timeZone: 'Europe/Berlin',
        attendees: ['ana@customer.example'],
        idempotencyKey: 'dst-move-1',
      });
      for (const start of ['2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z']) {
        const end = new Date(Date.parse(start) + 60 * 60_000);
        const moved = await calendar.updateEvent(created.id, { start: new Date(start), end, timeZone: 'Europe/Berlin' });
        assert.equal(moved.start.toISOString(), new Date(start).toISOString());
        assert.equal(emulator.calendar.event(created.id)?.start.toISOString(), new Date(start).toISOString());
      }
    });
  });
});
