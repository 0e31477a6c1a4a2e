import type { ClientId } from '@agent-fleet/kernel/client-id';

/** What became of a client's stored metrics history: an expected outcome, never an exception. */
export type MetricsHistoryOutcome =
  | {
      outcome: 'removed';
      /** Series labelled with the client that existed before the deletion (0: there were none). */
      series: number;
      detail: string;
    }
  | { outcome: 'failed'; detail: string };

/**
 * The time series a metrics store (Prometheus) keeps of each client, under its `client` label, for the
 * store's own retention period: how many emails the agent sent, drafted, had refused, and when. An
 * erasure removes them with everything else of the client.
 */
export interface MetricsHistory {
  /**
   * Deletes every stored series labelled with the client, over all time, and confirms none is left.
   * Idempotent. Resolves with `failed` (and why) rather than throwing when the store refuses or is down.
   */
  forgetClient(clientId: ClientId): Promise<MetricsHistoryOutcome>;
}
