// Graph answers an all-day event's start and end as midnight whatever zone the request prefers: they are
// dates, not instants. Free/busy reads them in the mailbox owner's zone, so a day off covers that day there.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { GraphCalendarProvider } from '../../../agent-image/src/adapters/graph/graph-calendar-provider.ts';
import { GraphEmulator } from '../../emulators/graph-emulator.ts';
import { CALENDAR_READ_WRITE } from '../../helpers/calendar-adapters-under-test.ts';
import { graphTokenSource } from '../../helpers/oauth-tokens.ts';

const spans = (busy: { start: Date; end: Date }[]) => busy.map((b) => [b.start.toISOString(), b.end.toISOString()]);

async function withOwnerIn(timeZone: string, run: (bed: { emulator: GraphEmulator; calendar: GraphCalendarProvider }) => Promise<void>): Promise<void> {
  const emulator = new GraphEmulator();
  await emulator.start();
  try {
    const calendar = new GraphCalendarProvider({ tokens: graphTokenSource(emulator, graphScopesFor(CALENDAR_READ_WRITE)), baseUrl: emulator.baseUrl, timeZone, logger: createSilentLogger() });
    await run({ emulator, calendar });
  } finally {
    await emulator.stop();
  }
}

describe('GraphCalendarProvider and all-day events', () => {
  it('a day off in Sydney is busy from its midnight to the next there, not from 11:00', async () => {
    await withOwnerIn('Australia/Sydney', async ({ emulator, calendar }) => {
      emulator.calendar.addAllDay('2030-03-04');
      // The Sydney day of 4 March 2030 (UTC+11): 3 March 13:00Z to 4 March 13:00Z.
      const busy = await calendar.freeBusy(new Date('2030-03-03T13:00:00Z'), new Date('2030-03-05T13:00:00Z'));
      assert.deepEqual(spans(busy), [['2030-03-03T13:00:00.000Z', '2030-03-04T13:00:00.000Z']]);
    });
  });

  it('a two-day block in New York spans both days there, across nothing else', async () => {
    await withOwnerIn('America/New_York', async ({ emulator, calendar }) => {
      emulator.calendar.addAllDay('2030-03-04', 2);
      emulator.calendar.addBusy(new Date('2030-03-06T15:00:00Z'), new Date('2030-03-06T16:00:00Z'));
      const busy = await calendar.freeBusy(new Date('2030-03-03T00:00:00Z'), new Date('2030-03-07T00:00:00Z'));
      assert.deepEqual(spans(busy), [
        ['2030-03-04T05:00:00.000Z', '2030-03-06T05:00:00.000Z'],
        ['2030-03-06T15:00:00.000Z', '2030-03-06T16:00:00.000Z'],
      ]);
    });
  });

  it('refuses an owner zone that is not an IANA name', () => {
    const noTokens = { getAccessToken: async () => '' };
    assert.throws(
      () => new GraphCalendarProvider({ tokens: noTokens, baseUrl: 'http://127.0.0.1:9', timeZone: 'Mars/Olympus', logger: createSilentLogger() }),
      (e: unknown) => e instanceof FleetError && e.code === 'invalid_input',
    );
  });
});
