import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { MetricsHistory, MetricsHistoryOutcome } from '../../ports/metrics-history.ts';

type TargetsAnswer = { data?: { activeTargets?: { labels?: Record<string, string>; scrapeInterval?: unknown }[] } };
type SeriesAnswer = { data?: unknown[] };
type ErrorAnswer = { error?: string };

class PrometheusRefusal extends Error {}

/** Bounds of the staleness grace derived from a reported scrape interval: no shorter than a round trip, no longer than an erasure can wait. */
const MIN_GRACE_MS = 1_000;
const MAX_GRACE_MS = 10 * 60_000;

/** PromQL string literal of a label value (a client id never needs escaping, but the matcher must not depend on it). */
export function clientSeriesSelector(clientId: ClientId): string {
  return `{client=${JSON.stringify(clientId)}}`;
}

/** A Prometheus duration as the targets API writes it (`30s`, `1m30s`, `500ms`), in ms; null when it is not one. */
export function prometheusDurationMs(text: unknown): number | null {
  if (typeof text !== 'string' || text === '' || text.length > 32) return null;
  const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };
  let total = 0;
  let rest = text;
  while (rest !== '') {
    const part = /^(\d+)(ms|s|m|h|d|w|y)/.exec(rest);
    if (!part?.[1] || !part[2]) return null;
    total += Number(part[1]) * (units[part[2]] ?? 0);
    rest = rest.slice(part[0].length);
  }
  return total;
}

/**
 * MetricsHistory over Prometheus's HTTP API. Deleting series needs the TSDB admin API, which Prometheus
 * only serves when started with `--web.enable-admin-api` (it answers 503 "admin APIs disabled" otherwise).
 *
 * The agent's scrape target is unregistered earlier in the erasure, but Prometheus reads its file_sd
 * file (or ServiceMonitor) on its own schedule: until it drops the target, each failed scrape writes a
 * fresh `up{client=...}` sample. So this polls (with backoff) until the target leaves Prometheus's active
 * targets, then deletes (`delete_series`), removes the deleted data from disk (`clean_tombstones`) and
 * asks again. A scrape loop that ends writes staleness markers (samples too) two scrape ticks and a tenth
 * after it stopped, which is at the latest when the target left the active targets; so when the client's
 * series had recent samples, the deletion is repeated once that grace (2.5 of the target's own scrape
 * intervals, as Prometheus reported it) has passed since the target was seen gone, the time the first
 * deletion took counted in. The grace cannot be cut shorter by watching for the markers: a scrape still
 * in flight when the target was dropped may land its samples first, and the markers come after them.
 */
export class PrometheusMetricsHistory implements MetricsHistory {
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly targetGoneTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly stalenessGraceMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: {
    url: string;
    /** Per request; default 30 s (clean_tombstones rewrites blocks). */
    timeoutMs?: number;
    /** How long to wait for Prometheus to stop scraping the client; default 90 s (file_sd refresh 30 s + a scrape). */
    targetGoneTimeoutMs?: number;
    /** The longest pause between two polls of the targets; they start at a tenth of it (at most 250 ms) and double. Default 2 s. */
    pollIntervalMs?: number;
    /**
     * How long after its target is dropped an ended scrape loop may still write staleness markers when
     * Prometheus does not report the target's scrape interval; default 75 s (2.5 scrape intervals of 30 s).
     */
    stalenessGraceMs?: number;
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
  }) {
    this.url = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.targetGoneTimeoutMs = options.targetGoneTimeoutMs ?? 90_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 2_000;
    this.stalenessGraceMs = options.stalenessGraceMs ?? 75_000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async forgetClient(clientId: ClientId): Promise<MetricsHistoryOutcome> {
    const selector = clientSeriesSelector(clientId);
    try {
      const target = await this.waitForTargetGone(clientId);
      const stillScraped = !target.gone;
      const goneAt = this.now();
      const grace = target.scrapeIntervalMs === null ? this.stalenessGraceMs : Math.min(MAX_GRACE_MS, Math.max(MIN_GRACE_MS, Math.ceil(2.5 * target.scrapeIntervalMs)));
      const before = await this.countSeries(selector);
      const recent = before > 0 && (await this.countSeries(selector, goneAt - grace)) > 0;
      await this.deleteSeries(selector);
      if (recent) {
        const left = goneAt + grace - this.now();
        if (left > 0) await this.sleep(left);
        await this.deleteSeries(selector);
      }
      const left = await this.countSeries(selector);
      if (left > 0) {
        const why = stillScraped ? `Prometheus still scrapes a target labelled client="${clientId}", which writes new samples` : 'they were written again after the deletion';
        return { outcome: 'failed', detail: `${left} series ${selector} are still in Prometheus at ${this.url} after their deletion: ${why}` };
      }
      return { outcome: 'removed', series: before, detail: `${before} time series ${selector} deleted from Prometheus at ${this.url}, over all time, and removed from its disk` };
    } catch (error) {
      return { outcome: 'failed', detail: `the series ${selector} could not be deleted from Prometheus at ${this.url}: ${(error as Error).message}` };
    }
  }

  /**
   * Whether the client's target left the active targets before the deadline (total pause time, so the
   * bound holds whatever the clock), and its scrape interval as last reported (null: not reported).
   */
  private async waitForTargetGone(clientId: ClientId): Promise<{ gone: boolean; scrapeIntervalMs: number | null }> {
    let scrapeIntervalMs: number | null = null;
    let pause = Math.max(1, Math.min(250, Math.floor(this.pollIntervalMs / 10)));
    for (let paused = 0; ; ) {
      const answer = (await this.request('GET', '/api/v1/targets?state=active')) as TargetsAnswer;
      const scraped = (answer.data?.activeTargets ?? []).filter((target) => target.labels?.['client'] === clientId);
      if (scraped.length === 0) return { gone: true, scrapeIntervalMs };
      // The longest of the client's targets' intervals: their loops end at different times.
      const intervals = scraped.map((target) => prometheusDurationMs(target.scrapeInterval));
      scrapeIntervalMs = intervals.some((interval) => interval === null) ? null : Math.max(...(intervals as number[]));
      if (paused >= this.targetGoneTimeoutMs) return { gone: false, scrapeIntervalMs };
      const next = Math.min(pause, this.targetGoneTimeoutMs - paused);
      await this.sleep(next);
      paused += next;
      pause = Math.min(pause * 2, this.pollIntervalMs);
    }
  }

  private async deleteSeries(selector: string): Promise<void> {
    await this.post('/api/v1/admin/tsdb/delete_series', new URLSearchParams({ 'match[]': selector }));
    await this.post('/api/v1/admin/tsdb/clean_tombstones', new URLSearchParams());
  }

  /** Series matching the selector with a sample since `sinceMs` (default: over all time). */
  private async countSeries(selector: string, sinceMs?: number): Promise<number> {
    const query = new URLSearchParams({ 'match[]': selector });
    if (sinceMs !== undefined) query.set('start', (sinceMs / 1000).toFixed(3));
    const answer = (await this.request('GET', `/api/v1/series?${query.toString()}`)) as SeriesAnswer;
    if (!Array.isArray(answer.data)) throw new PrometheusRefusal('its series answer has no list of series');
    return answer.data.length;
  }

  private async post(path: string, form: URLSearchParams): Promise<void> {
    await this.request('POST', path, form);
  }

  private async request(method: 'GET' | 'POST', path: string, form?: URLSearchParams): Promise<unknown> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      signal: AbortSignal.timeout(this.timeoutMs),
      redirect: 'error',
      ...(form === undefined ? {} : { body: form }),
    });
    const text = await response.text();
    if (!response.ok) {
      const said = errorOf(text);
      const hint = /admin apis? disabled/i.test(said) ? ' (start Prometheus with --web.enable-admin-api)' : '';
      throw new PrometheusRefusal(`${method} ${path.split('?')[0] ?? path} answered ${response.status}${said === '' ? '' : ` "${said}"`}${hint}`);
    }
    if (response.status === 204 || text === '') return {};
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new PrometheusRefusal(`${method} ${path.split('?')[0] ?? path} answered something other than JSON`);
    }
  }
}

function errorOf(text: string): string {
  try {
    const error = (JSON.parse(text) as ErrorAnswer).error;
    return typeof error === 'string' ? error.slice(0, 200) : '';
  } catch {
    return '';
  }
}
