// The calendar adapters as the runtime and contract tests drive them: each real adapter against its own
// emulator, and the emulator hooks both providers' tests use alike.
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { gmailScopesFor, graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { GoogleCalendarProvider } from '../../agent-image/src/adapters/google-calendar/google-calendar-provider.ts';
import { GraphCalendarProvider } from '../../agent-image/src/adapters/graph/graph-calendar-provider.ts';
import type { RefreshTokenGraphTokenSource } from '../../agent-image/src/adapters/graph/graph-token-source.ts';
import { GmailEmulator } from '../emulators/gmail-emulator.ts';
import type { EmulatorResponse } from '../emulators/http-emulator.ts';
import { GraphEmulator } from '../emulators/graph-emulator.ts';
import { googleOAuth, graphTokenSource } from './oauth-tokens.ts';

/** Read and write access to the calendar. */
export const CALENDAR_READ_WRITE = { 'calendar.read': true, 'calendar.write': true };

/** A started Gmail emulator (which serves Google Calendar) and a GoogleCalendarProvider granted read and write on it. */
export async function googleCalendarUnderTest(): Promise<{ emulator: GmailEmulator; calendar: GoogleCalendarProvider }> {
  const emulator = new GmailEmulator();
  await emulator.start();
  const calendar = new GoogleCalendarProvider({
    auth: { oauth: googleOAuth(emulator, emulator.issueRefreshToken(gmailScopesFor(CALENDAR_READ_WRITE))), onRefreshTokenRotated: async () => undefined },
    rootUrl: emulator.rootUrl,
    logger: createSilentLogger(),
  });
  return { emulator, calendar };
}

/** A started Graph emulator, a GraphCalendarProvider granted read and write on it, and the provider's token source. */
export async function graphCalendarUnderTest(): Promise<{ emulator: GraphEmulator; calendar: GraphCalendarProvider; tokens: RefreshTokenGraphTokenSource }> {
  const emulator = new GraphEmulator();
  await emulator.start();
  const tokens = graphTokenSource(emulator, graphScopesFor(CALENDAR_READ_WRITE));
  const calendar = new GraphCalendarProvider({ tokens, baseUrl: emulator.baseUrl, logger: createSilentLogger() });
  return { emulator, calendar, tokens };
}

/**
 * Runs `run` on a Graph calendar under test that holds one event of the primary calendar (an hour on 4 March
 * 2030 with kim@partner.example, created under `idempotencyKey`), and stops the emulator after, even on failure.
 */
export async function withGraphCalendarEvent(
  idempotencyKey: string,
  run: (bed: { emulator: GraphEmulator; calendar: GraphCalendarProvider; tokens: RefreshTokenGraphTokenSource; id: string }) => Promise<void>,
): Promise<void> {
  const { emulator, calendar, tokens } = await graphCalendarUnderTest();
  try {
    const created = await calendar.createEvent({
      title: 'Planning',
      start: new Date('2030-03-04T10:00:00Z'),
      end: new Date('2030-03-04T11:00:00Z'),
      timeZone: 'UTC',
      attendees: ['kim@partner.example'],
      idempotencyKey,
    });
    await run({ emulator, calendar, tokens, id: created.id });
  } finally {
    await emulator.stop();
  }
}

/** Calendar routes of an emulator: a method, then whatever else the route takes. */
interface Routes<Rest extends unknown[]> {
  handle(method: string, ...rest: Rest): EmulatorResponse;
}

/** Makes the routes answer the next PATCH with `answer()` instead of writing it (a stale version, say; null: write it); then as before. */
export function answerNextPatch<Rest extends unknown[]>(routes: Routes<Rest>, answer: () => EmulatorResponse | null): void {
  const handle = routes.handle.bind(routes);
  routes.handle = (method, ...rest) => {
    if (method !== 'PATCH') return handle(method, ...rest);
    routes.handle = handle;
    return answer() ?? handle(method, ...rest);
  };
}

/** The `If-Match` of each request the test counts as a write (null where none was sent), in order. */
export function writeConditions(requests: readonly { method: string; path: string; headers: Record<string, unknown> }[], isWrite: (method: string, path: string) => boolean): (string | null)[] {
  return requests.filter((r) => isWrite(r.method, r.path)).map((r) => (typeof r.headers['if-match'] === 'string' ? r.headers['if-match'] : null));
}
