import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { MetricsHistory, MetricsHistoryOutcome } from '../../ports/metrics-history.ts';

type TargetsAnswer = { data?: { activeTargets?: { labels?: Record<string, string> }[] } };
type SeriesAnswer = { data?: unknown[] };
type ErrorAnswer = { error?: string };

class PrometheusRefusal extends Error {}

/** PromQL string literal of a label value (a client id never needs escaping, but the matcher must not depend on it). */
export function clientSeriesSelector(clientId: ClientId): string {
  return `{client=${JSON.stringify(clientId)}}`;
}

/**
 * MetricsHistory over Prometheus's HTTP API. Deleting series needs the TSDB admin API, which Prometheus
 * only serves when started with `--web.enable-admin-api` (it answers 503 "admin APIs disabled" otherwise).
 *
 * The agent's scrape target is unregistered earlier in the erasure, but Prometheus reads its file_sd
 * file (or ServiceMonitor) on its own schedule: until it drops the target, each failed scrape writes a
 * fresh `up{client=...}` sample. So this waits for the target to leave Prometheus's active targets, then
 * deletes (`delete_series`), removes the deleted data from disk (`clean_tombstones`) and asks again.
 * A scrape loop that ends writes staleness markers (samples too) about one scrape interval after its
 * last scrape, so when the client's series had recent samples, the deletion is repeated after that grace.
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
    pollIntervalMs?: number;
    /** How long after its last scrape an ended scrape loop may still write staleness markers; default 75 s (2.5 scrape intervals of 30 s). */
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
      const stillScraped = !(await this.waitForTargetGone(clientId));
      const before = await this.countSeries(selector);
      const recent = before > 0 && (await this.countSeries(selector, this.now() - this.stalenessGraceMs)) > 0;
      await this.deleteSeries(selector);
      if (recent) {
        await this.sleep(this.stalenessGraceMs);
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

  /** True once no active target carries the client's label; false when it still does at the deadline. */
  private async waitForTargetGone(clientId: ClientId): Promise<boolean> {
    const attempts = Math.max(1, Math.ceil(this.targetGoneTimeoutMs / this.pollIntervalMs) + 1);
    for (let attempt = 1; ; attempt += 1) {
      const answer = (await this.request('GET', '/api/v1/targets?state=active')) as TargetsAnswer;
      const scraped = (answer.data?.activeTargets ?? []).some((target) => target.labels?.['client'] === clientId);
      if (!scraped) return true;
      if (attempt >= attempts) return false;
      await this.sleep(this.pollIntervalMs);
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
