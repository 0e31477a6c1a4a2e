import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { AgentMetrics } from '../../observability/agent-metrics.ts';
import type { RetryOptions } from '../mail-loop/provider-retry.ts';
import type { BackoffPolicy } from '../outbox/backoff.ts';
import type { ConnectorFactory, SecretSourceFactory } from './connectors.ts';
import type { PushTokenVerifier } from '../../ports/push-token-verifier.ts';

export interface AgentRuntimeOptions {
  config: ClientConfig;
  /** The client's volume, e.g. /data. */
  dataDir: string;
  logger: Logger;
  metrics: AgentMetrics;
  secretSource: SecretSourceFactory;
  connectors: ConnectorFactory;
  /** VAULT_ADDR from the environment; an introduction may name another. */
  vaultAddr?: string;
  /** AGENT_PLACED_FILES_DIR: read-only files the orchestrator placed (Kubernetes), e.g. its kill flag. */
  placedFilesDir?: string | undefined;
  /** AGENT_VAULT_SINK_FILE: the token file Vault Agent keeps current (Kubernetes); see `introduceFromSinkWhenPresent`. */
  vaultSinkFile?: string | undefined;
  now?: () => Date;
  /** Mailbox sync period, ms. Default 60 000. 0 disables the timer (tests call `tick`). */
  syncIntervalMs?: number;
  /** Approval expiry sweep period, ms. Default 60 000. 0 disables the timer. */
  sweepIntervalMs?: number;
  /** Messages processed at once. Default 4. */
  concurrency?: number;
  /** Backoff for reads, drafts and model calls. */
  retry?: Partial<RetryOptions>;
  /** Backoff of the outbox's sends. */
  sendBackoff?: Partial<BackoffPolicy>;
  /** Schedule the daily summary. Default true. */
  scheduleSummary?: boolean;
  /** How often the push watch is checked for renewal (and failed calls retried), ms. Default 60 000. 0 disables. */
  watchCheckIntervalMs?: number;
  /** Checks the OIDC token a Gmail push carries (the subscription's identity, Google's keys). Default none: the push URL token only. */
  gmailPushVerifier?: PushTokenVerifier | undefined;
  /** Delay that coalesces a burst of push notifications into one sync, ms. Default 250. */
  notificationDebounceMs?: number;
  /** AGENT_PORTAL_URL: the client portal's origin, for the links in the admins' mail. Default: none. */
  portalUrl?: string | undefined;
  /** Backoff of failed watch calls, ms. Default 30 s doubling to one hour. */
  watchBackoff?: { baseMs: number; maxMs: number };
}
