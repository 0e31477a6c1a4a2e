import { canonicalJson, sha256Hex } from '@agent-fleet/kernel/canonical-json';

/** What is left of an erased client in the registry: who it was, when, and at whose request. */
export interface Tombstone {
  clientId: string;
  createdAt: string | null;
  erasedAt: string;
  requestId: string;
  requestReceivedAt: string;
}

/** One thing the erasure did, in order. */
export interface ErasureStep {
  what:
    | 'kill'
    | 'oauth-grant'
    | 'runtime'
    | 'backups'
    | 'incident-evidence'
    | 'incident-records'
    | 'egress-log'
    | 'metrics-history'
    | 'alertmanager'
    | 'vault'
    | 'data-key'
    | 'portal'
    | 'ops-log'
    | 'registry';
  /** What was found and done; `failed` and `not-configured` say that something of the client may be left. */
  outcome: string;
  detail: string;
}

/** What an erasure keeps of the client, and why: said on every certificate, whatever its steps found. */
export const KEPT_AFTER_ERASURE: readonly string[] = [
  'the tombstone and this certificate, in the ops log: the proof of when the client was erased and at whose request',
  "the client's ops-log entries, their actions, times and outcomes (their personal fields erased): the hash chain that proves the log unaltered covers them",
  "the incidents that concerned the client, with when, how and by whom it was told (not whom) and each deleted evidence bundle's SHA-256: the fleet's own record of its incidents",
  'failed portal sign-in counts: kept under a one-way key of the address typed, not by client, and dropped a day after the last failure',
  "Alertmanager's alerts and expired silences of the client: its API deletes neither, its own retention drops them (--data.retention, 120 h by default)",
];

export interface DeletionCertificate {
  format: 'agent-fleet-deletion-certificate';
  version: 1;
  clientId: string;
  requestId: string;
  /** The operator (or portal flow) that carried out the erasure. */
  erasedBy: string;
  requestReceivedAt: string;
  deadline: string;
  erasedAt: string;
  withinDeadline: boolean;
  /**
   * True when an earlier run of this erasure stopped half way: each step then says what this run found and
   * did (what the earlier run already removed is not counted again), and the tombstone's `createdAt` is
   * null when the registry row was gone before this run and no earlier run recorded it.
   */
  resumed: boolean;
  steps: ErasureStep[];
  /** What stays of the client, and why (KEPT_AFTER_ERASURE); absent on certificates issued before it was said. */
  kept?: readonly string[];
  tombstone: Tombstone;
  /** SHA-256 of the tombstone's canonical JSON: the registry keeps the tombstone, this proves it unchanged. */
  tombstoneSha256: string;
}

/** The certificate of an erasure. Pure. */
export function deletionCertificate(input: {
  tombstone: Tombstone;
  erasedBy: string;
  deadline: string;
  steps: ErasureStep[];
  resumed?: boolean;
}): DeletionCertificate {
  const { tombstone } = input;
  return {
    format: 'agent-fleet-deletion-certificate',
    version: 1,
    clientId: tombstone.clientId,
    requestId: tombstone.requestId,
    erasedBy: input.erasedBy,
    requestReceivedAt: tombstone.requestReceivedAt,
    deadline: input.deadline,
    erasedAt: tombstone.erasedAt,
    withinDeadline: tombstone.erasedAt <= input.deadline,
    resumed: input.resumed ?? false,
    steps: input.steps,
    kept: KEPT_AFTER_ERASURE,
    tombstone,
    tombstoneSha256: sha256Hex(canonicalJson(tombstone)),
  };
}
