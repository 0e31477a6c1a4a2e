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
