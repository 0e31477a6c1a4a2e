// The calendar adapters as the runtime and contract tests drive them: each real adapter against its own
// emulator, and the emulator hooks both providers' tests use alike.
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { gmailScopesFor, graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { GoogleCalendarProvider } from '../../agent-image/src/adapters/google-calendar/google-calendar-provider.ts';
import { GraphCalendarProvider } from '../../agent-image/src/adapters/graph/graph-calendar-provider.ts';
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

/** A started Graph emulator and a GraphCalendarProvider granted read and write on it. */
export async function graphCalendarUnderTest(): Promise<{ emulator: GraphEmulator; calendar: GraphCalendarProvider }> {
  const emulator = new GraphEmulator();
  await emulator.start();
  const calendar = new GraphCalendarProvider({ tokens: graphTokenSource(emulator, graphScopesFor(CALENDAR_READ_WRITE)), baseUrl: emulator.baseUrl, logger: createSilentLogger() });
  return { emulator, calendar };
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
