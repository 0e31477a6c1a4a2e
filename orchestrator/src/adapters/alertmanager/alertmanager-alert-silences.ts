import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { AlertSilences, AlertSilencesOutcome } from '../../ports/alert-silences.ts';

type Matcher = { name?: unknown; value?: unknown; isRegex?: unknown; isEqual?: unknown };
type Silence = { id?: unknown; status?: { state?: unknown }; matchers?: unknown };

/** More silences of one client than any operator sets: past this the rest are left to a second run, not looped over without end. */
const MAX_SILENCES = 500;
/** Alertmanager's silence ids are UUIDs; anything else is not put into a request path. */
const SILENCE_ID = /^[A-Za-z0-9-]{1,64}$/;

class AlertmanagerRefusal extends Error {}

/** The client's own silences: one matcher client="<id>", equal, not a regex. */
function isClientSilence(silence: Silence, clientId: ClientId): boolean {
  if (!Array.isArray(silence.matchers)) return false;
  return (silence.matchers as Matcher[]).some((matcher) => matcher.name === 'client' && matcher.value === clientId && matcher.isRegex === false && matcher.isEqual !== false);
}

/**
 * AlertSilences over Alertmanager's API v2, at the one configured URL: lists the silences filtered by the
 * client's label (`GET /api/v2/silences?filter=client="<id>"`) and expires each that is not already
 * (`DELETE /api/v2/silence/{id}`; Alertmanager refuses to expire an expired one). Expiring is all the API
 * allows: the expired silence, like the client's alerts, stays in Alertmanager until its retention
 * (`--data.retention`, 120 h by default) drops it.
 */
export class AlertmanagerAlertSilences implements AlertSilences {
  readonly url: string;
  private readonly timeoutMs: number;

  constructor(options: { url: string; /** Per request; default 10 s. */ timeoutMs?: number }) {
    this.url = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async expireClientSilences(clientId: ClientId): Promise<AlertSilencesOutcome> {
    const filter = `client=${JSON.stringify(clientId)}`;
    try {
      const listed = await this.request('GET', `/api/v2/silences?${new URLSearchParams({ filter }).toString()}`);
      if (!Array.isArray(listed)) throw new AlertmanagerRefusal('its silences answer is not a list');
      const live = (listed as Silence[]).filter((silence) => silence.status?.state !== 'expired' && isClientSilence(silence, clientId));
      const ids = live.map((silence) => silence.id).filter((id): id is string => typeof id === 'string' && SILENCE_ID.test(id));
      if (ids.length !== live.length) throw new AlertmanagerRefusal('it listed a silence without a well-formed id');
      for (const id of ids.slice(0, MAX_SILENCES)) await this.request('DELETE', `/api/v2/silence/${id}`, true);
      if (ids.length > MAX_SILENCES) {
        return { outcome: 'failed', detail: `${MAX_SILENCES} of ${ids.length} silences {${filter}} expired in Alertmanager at ${this.url}; the rest are left: run the erasure again` };
      }
      return { outcome: 'expired', silences: ids.length, detail: `${ids.length} active or pending silences {${filter}} expired in Alertmanager at ${this.url}` };
    } catch (error) {
      return { outcome: 'failed', detail: `the silences {${filter}} could not be expired in Alertmanager at ${this.url}: ${(error as Error).message}` };
    }
  }

  /** `goneIsDone`: a silence garbage-collected meanwhile (404) needs no expiry. */
  private async request(method: 'GET' | 'DELETE', path: string, goneIsDone = false): Promise<unknown> {
    const response = await fetch(`${this.url}${path}`, { method, signal: AbortSignal.timeout(this.timeoutMs), redirect: 'error' });
    const text = await response.text();
    if (goneIsDone && response.status === 404) return {};
    if (!response.ok) throw new AlertmanagerRefusal(`${method} ${path.split('?')[0] ?? path} answered ${response.status}${text === '' ? '' : ` "${text.slice(0, 200)}"`}`);
    if (text === '') return {};
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new AlertmanagerRefusal(`${method} ${path.split('?')[0] ?? path} answered something other than JSON`);
    }
  }
}
