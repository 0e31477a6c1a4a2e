import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AlertingProbe, AlertingState } from '../../ports/onboarding-probes.ts';

type TargetsAnswer = {
  data?: { activeTargets?: { labels?: Record<string, string>; health?: string; lastError?: string }[] };
};
type RulesAnswer = { data?: { groups?: { rules?: { type?: string; name?: string }[] }[] } };

/** AlertingProbe over Prometheus's HTTP API (`/api/v1/targets`, `/api/v1/rules`). */
export class PrometheusAlertingProbe implements AlertingProbe {
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

  private async get<T>(path: string): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new FleetError(
        'unavailable',
        `Prometheus at ${this.url} does not answer (${(error as Error).message})`,
        { cause: error, retryable: true },
      );
    }
    if (!response.ok)
      throw new FleetError(
        'unavailable',
        `Prometheus at ${this.url} answered ${response.status} to ${path}`,
        { retryable: response.status >= 500 },
      );
    return (await response.json()) as T;
  }
}
