// A calendarView that pages without end (a nextLink on every page, or the same one again) ends in an
// integrity error after a bounded number of pages, never a loop.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { GraphCalendarProvider } from '../../../agent-image/src/adapters/graph/graph-calendar-provider.ts';

/** A Graph stand-in whose calendarView pages never end: each page links to `next(page)`. Counts the pages asked for. */
async function endlessCalendarView(next: (page: number, base: string) => string, run: (calendar: GraphCalendarProvider, pages: () => number) => Promise<void>): Promise<void> {
  let pages = 0;
  let base = '';
  const server: Server = createServer((request, response) => {
    request.resume();
    pages += 1;
    const busy = { id: `AAMkEv${pages}`, showAs: 'busy', start: { dateTime: '2030-03-04T10:00:00.0000000', timeZone: 'UTC' }, end: { dateTime: '2030-03-04T11:00:00.0000000', timeZone: 'UTC' } };
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ value: [busy], '@odata.nextLink': next(pages, base) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const calendar = new GraphCalendarProvider({ tokens: { getAccessToken: async () => 'test-access' }, baseUrl: base, logger: createSilentLogger() });
    await run(calendar, () => pages);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const integrity = (error: unknown) => error instanceof FleetError && error.code === 'integrity';
const from = new Date('2030-03-04T00:00:00Z');
const to = new Date('2030-03-05T00:00:00Z');

describe('Graph calendarView paging', () => {
  it('pages that always link to a new page end in an integrity error after at most 50 pages', async () => {
    await endlessCalendarView(
      (page, base) => `${base}/v1.0/me/calendarView?$skip=${page}`,
      async (calendar, pages) => {
        await assert.rejects(calendar.freeBusy(from, to), integrity);
        assert.equal(pages(), 50);
      },
    );
  });

  it('a page linking to one already followed is an integrity error at once', async () => {
    await endlessCalendarView(
      (_page, base) => `${base}/v1.0/me/calendarView?$skip=1`,
      async (calendar, pages) => {
        await assert.rejects(calendar.freeBusy(from, to), integrity);
        assert.equal(pages(), 2);
      },
    );
  });
});
