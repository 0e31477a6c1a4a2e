/** One entry of the orchestrator's append-only, hash-chained log of admin actions. */
export interface OpsLogEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  clientId: string | null;
  reason: string | null;
  outcome: string;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}
