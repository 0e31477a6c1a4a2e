import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import {
  WATCHDOG_ALERT,
  type AlertingProbe,
  type AlertingState,
  type AlertmanagerReport,
  type HeldWatchdog,
  type MonitoringPipelineProbe,
  type MonitoringPipelineState,
} from '../../ports/onboarding-probes.ts';

type TargetsAnswer = {
  data?: { activeTargets?: { labels?: Record<string, string>; health?: string; lastError?: string }[] };
};
type RulesAnswer = {
  data?: { groups?: { rules?: { type?: string; name?: string; health?: string; lastError?: string }[] }[] };
};
type AlertsAnswer = { data?: { alerts?: { labels?: Record<string, string>; state?: string }[] } };
type AlertmanagersAnswer = { data?: { activeAlertmanagers?: { url?: string }[] } };
type AmAlert = {
  labels?: Record<string, string>;
  status?: { state?: string; silencedBy?: string[] };
  receivers?: { name?: string }[];
  updatedAt?: string;
  endsAt?: string;
};

/** More Alertmanagers than any fleet runs: the rest are not asked. */
const MAX_ALERTMANAGERS = 5;

/**
 * AlertingProbe and MonitoringPipelineProbe over Prometheus's HTTP API (`/api/v1/targets`, `/rules`,
 * `/alerts`, `/alertmanagers`) and the API v2 of each Alertmanager Prometheus reports sending to.
 */
export class PrometheusAlertingProbe implements AlertingProbe, MonitoringPipelineProbe {
  readonly url: string;
  private readonly timeoutMs: number;

  constructor(options: { url: string; timeoutMs?: number }) {
    this.url = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async alertingOf(clientId: ClientId): Promise<AlertingState> {
    const [targets, rules] = await Promise.all([
      this.get<TargetsAnswer>('/api/v1/targets?state=active'),
      this.get<RulesAnswer>('/api/v1/rules?type=alert'),
    ]);
    const own = (targets.data?.activeTargets ?? []).filter(
      (target) => target.labels?.['client'] === clientId,
    );
    // Several targets of one client (a restarted agent's old address): any healthy one counts.
    const best = own.find((target) => target.health === 'up') ?? own[0];
    return {
      target:
        best === undefined ? null : { health: best.health ?? 'unknown', lastError: best.lastError ?? '' },
      loadedAlerts: (rules.data?.groups ?? []).flatMap((group) =>
        (group.rules ?? []).filter((rule) => rule.type === 'alerting').map((rule) => rule.name ?? ''),
      ),
    };
  }

  async pipeline(): Promise<MonitoringPipelineState> {
    let alerts: AlertsAnswer;
    let rules: RulesAnswer;
    let alertmanagers: AlertmanagersAnswer;
    try {
      [alerts, rules, alertmanagers] = await Promise.all([
        this.get<AlertsAnswer>('/api/v1/alerts'),
        this.get<RulesAnswer>('/api/v1/rules?type=alert'),
        this.get<AlertmanagersAnswer>('/api/v1/alertmanagers'),
      ]);
    } catch (error) {
      return { prometheus: { url: this.url, error: (error as Error).message } };
    }
    const urls = [
      ...new Set(
        (alertmanagers.data?.activeAlertmanagers ?? []).flatMap((entry) =>
          typeof entry.url === 'string' ? [entry.url] : [],
        ),
      ),
    ].slice(0, MAX_ALERTMANAGERS);
    return {
      prometheus: {
        url: this.url,
        error: null,
        watchdogFiring: (alerts.data?.alerts ?? []).some(
          (alert) => alert.labels?.['alertname'] === WATCHDOG_ALERT && alert.state === 'firing',
        ),
        brokenRules: (rules.data?.groups ?? []).flatMap((group) =>
          (group.rules ?? [])
            .filter((rule) => rule.type === 'alerting' && rule.health === 'err')
            .map((rule) => ({ name: rule.name ?? '', error: rule.lastError ?? '' })),
        ),
      },
      alertmanagers: await Promise.all(urls.map((url) => this.askAlertmanager(url))),
    };
  }

  /** The Watchdog held by the Alertmanager that Prometheus posts to at `postUrl` (…/api/v2/alerts). */
  private async askAlertmanager(postUrl: string): Promise<AlertmanagerReport> {
    const base = alertmanagerBase(postUrl);
    if (base === null)
      return { url: postUrl, error: 'not an http(s) Alertmanager URL', watchdog: null };
    const filter = encodeURIComponent(`alertname="${WATCHDOG_ALERT}"`);
    let answer: unknown;
    try {
      answer = await this.fetchJson(base, `/api/v2/alerts?filter=${filter}`, 'Alertmanager');
    } catch (error) {
      return { url: base, error: (error as Error).message, watchdog: null };
    }
    const held = (Array.isArray(answer) ? (answer as AmAlert[]) : []).filter(
      (alert) => alert.labels?.['alertname'] === WATCHDOG_ALERT,
    );
    // The freshest copy counts (one per Prometheus replica).
    const latest = held.sort((a, b) => Date.parse(b.updatedAt ?? '') - Date.parse(a.updatedAt ?? ''))[0];
    return { url: base, error: null, watchdog: latest === undefined ? null : heldWatchdog(latest) };
  }

  private get<T>(path: string): Promise<T> {
    return this.fetchJson(this.url, path, 'Prometheus') as Promise<T>;
  }

  private async fetchJson(base: string, path: string, what: string): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new FleetError('unavailable', `${what} at ${base} does not answer (${(error as Error).message})`, {
        cause: error,
        retryable: true,
      });
    }
    if (!response.ok)
      throw new FleetError('unavailable', `${what} at ${base} answered ${response.status} to ${path}`, {
        retryable: response.status >= 500,
      });
    try {
      return await response.json();
    } catch (error) {
      throw new FleetError('unavailable', `${what} at ${base} answered ${path} with no JSON`, { cause: error });
    }
  }
}

function heldWatchdog(alert: AmAlert): HeldWatchdog {
  return {
    state: alert.status?.state ?? 'unknown',
    silencedBy: alert.status?.silencedBy ?? [],
    receivers: (alert.receivers ?? []).map((receiver) => receiver.name ?? ''),
    updatedAt: alert.updatedAt ?? '',
    endsAt: alert.endsAt ?? '',
  };
}

/** `http://host:9093/prefix/api/v2/alerts` → `http://host:9093/prefix`; null for anything but http(s). */
export function alertmanagerBase(postUrl: string): string | null {
  let url: URL;
  try {
    url = new URL(postUrl);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  url.pathname = url.pathname.replace(/\/api\/v[12]\/alerts\/?$/, '');
  return url.toString().replace(/\/+$/, '');
}
