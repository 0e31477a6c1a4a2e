import type { ClientId } from '@agent-fleet/kernel/client-id';

/** What became of a client's silences: an expected outcome, never an exception. */
export type AlertSilencesOutcome =
  | {
      outcome: 'expired';
      /** Silences of the client that were active or pending and are expired now (0: there were none). */
      silences: number;
      detail: string;
    }
  | { outcome: 'failed'; detail: string };

/**
 * The silences an alert router (Alertmanager) holds for a client, each matching its `client` label exactly,
 * with their author and comment. An erasure ends them with everything else of the client.
 */
export interface AlertSilences {
  /**
   * Expires every active or pending silence with the matcher client="<id>" (no other: a silence whose
   * matcher names several clients is not the client's alone). Idempotent. Resolves with `failed` (and why)
   * rather than throwing when the router refuses or is down.
   */
  expireClientSilences(clientId: ClientId): Promise<AlertSilencesOutcome>;
}
