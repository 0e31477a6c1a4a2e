import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { OnboardingReport } from '../domain/onboarding-checklist.ts';

/** The client's stored mailbox grant, as far as the doctor reads it: never a token. */
export interface StoredGrantScopes {
  /** The scopes the provider granted at consent, as recorded with the grant; null when it records none. */
  scopes: string[] | null;
}

/** Reads what a client's stored OAuth grant covers (the secret `fleet/<id>/<provider>`). */
export interface GrantScopeReader {
  /** The grant's recorded scopes; null when no grant is stored for the provider. */
  grantScopes(clientId: ClientId, provider: 'gmail' | 'outlook'): Promise<StoredGrantScopes | null>;
}

/** What Prometheus reports about one client's monitoring. */
export interface AlertingState {
  /** The client's scrape target: its health and last error; null when Prometheus has no target for it. */
  target: { health: string; lastError: string } | null;
  /** Names of the alerting rules Prometheus has loaded. */
  loadedAlerts: string[];
}

/** Asks the fleet's Prometheus whether a client's anomaly alerts are live. */
export interface AlertingProbe {
  /** Where Prometheus is asked (for the evidence). */
  readonly url: string;
  /** Fails `unavailable` when Prometheus does not answer. */
  alertingOf(clientId: ClientId): Promise<AlertingState>;
}

/** The last doctor run per client, for `fleet status` and the open-items gauge. */
export interface OnboardingCheckStore {
  save(report: OnboardingReport): Promise<void>;
  /** The last saved report of each client (latest run only). */
  latest(): Promise<OnboardingReport[]>;
  latestOf(clientId: ClientId): Promise<OnboardingReport | null>;
}

/** The always-firing alert that proves the alerting pipeline works (deploy/prometheus/rules/monitoring.yml). */
export const WATCHDOG_ALERT = 'Watchdog';

/** The Watchdog as one Alertmanager holds it (its API v2 `alerts`). */
export interface HeldWatchdog {
  /** active, suppressed (silenced or inhibited) or unprocessed. */
  state: string;
  silencedBy: string[];
  receivers: string[];
  /** When Alertmanager last received it from Prometheus (ISO 8601). */
  updatedAt: string;
  /** When it resolves unless Prometheus sends it again (ISO 8601). */
  endsAt: string;
}

/** One Alertmanager that Prometheus sends to, as it answered. */
export interface AlertmanagerReport {
  url: string;
  /** Why it could not be asked; null when it answered. */
  error: string | null;
  /** The Watchdog it holds; null when it holds none (or did not answer). */
  watchdog: HeldWatchdog | null;
}

/** What the fleet's Prometheus and the Alertmanagers it sends to say about the alerting pipeline. */
export type MonitoringPipelineState =
  | { prometheus: { url: string; error: string } }
  | {
      prometheus: {
        url: string;
        error: null;
        /** Whether the Watchdog alert is firing in Prometheus (its rules are loaded and evaluated). */
        watchdogFiring: boolean;
        /** Alerting rules whose last evaluation failed (they can never fire), with their error. */
        brokenRules: { name: string; error: string }[];
      };
      /** Every Alertmanager Prometheus has discovered and sends to; none: alerts go nowhere. */
      alertmanagers: AlertmanagerReport[];
    };

/** Asks Prometheus and, through it, its Alertmanagers whether alerts can reach anyone. */
export interface MonitoringPipelineProbe {
  /** Where Prometheus is asked. */
  readonly url: string;
  /** Never throws for an unreachable Prometheus or Alertmanager: that is the answer. */
  pipeline(): Promise<MonitoringPipelineState>;
}
