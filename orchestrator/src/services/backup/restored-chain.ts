import { PassThrough } from 'node:stream';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AgentControl } from '../../ports/agent-control.ts';
import type { AuditCheckpoint, Registry } from '../../ports/registry.ts';
import type { SecretStore } from '../../ports/secret-store.ts';

/** A restored agent's audit chain, against the checkpoint the orchestrator kept outside its volume. */
export interface RestoredChain {
  /** The whole chain verifies (every record authenticates, hashes and links). */
  ok: boolean;
  /** The last record that came from the backup (records the agent wrote since the restore excluded). */
  restoredHead: { seq: number } | null;
  checkpoint: AuditCheckpoint | null;
  /** Records the checkpoint proves existed but the backup lacks: the backup is older than the checkpoint. */
  missingRecords: number;
  message: string;
}

interface Verification {
  ok: boolean;
  count: number;
  head?: { seq: number; hash: string } | null;
  break?: { kind: string; seq: number; message: string };
}

export interface RestoredChainDependencies {
  registry: Pick<Registry, 'getAuditCheckpoint'>;
  secrets: Pick<SecretStore, 'readControlToken'>;
  control: Pick<AgentControl, 'request' | 'stream'>;
}

/**
 * Verifies the restored agent's chain (inside the agent) and says exactly how many records are missing
 * against the checkpoint. The restored head is the record before the first one the agent appended after
 * `restoredAt` (its config check, its first work): the agent keeps working while this runs, so counting
 * the newer records and subtracting them from an earlier head would come out short.
 */
export async function checkRestoredChain(deps: RestoredChainDependencies, clientId: ClientId, address: string, restoredAt: Date): Promise<RestoredChain> {
  const token = await deps.secrets.readControlToken(clientId);
  if (!token) throw new FleetError('internal', `${clientId} has no control token`);
  const verification = await deps.control.request<Verification>(clientId, address, token, 'GET', '/v1/audit/verify', undefined, 120_000);
  const checkpoint = await deps.registry.getAuditCheckpoint(clientId);
  if (!verification.ok) {
    return { ok: false, restoredHead: null, checkpoint, missingRecords: 0, message: `the restored audit chain is broken: ${verification.break?.message ?? 'unknown'}` };
  }
  const firstNewer = await firstSeqSince(deps.control, clientId, address, token, restoredAt);
  const headSeq = firstNewer === null ? (verification.head?.seq ?? 0) : Math.max(0, firstNewer - 1);
  const restoredHead = headSeq === 0 ? null : { seq: headSeq };
  if (checkpoint !== null && headSeq >= checkpoint.seq) {
    // Reaching the checkpoint's seq is not enough: a backup from another branch of the history (made before
    // an earlier restore and re-anchor) has as many records but not the ones the checkpoint names.
    const query = new URLSearchParams({ seq: String(checkpoint.seq), hash: checkpoint.hash });
    const held = await deps.control.request<Verification>(clientId, address, token, 'GET', `/v1/audit/verify?${query}`, undefined, 120_000);
    if (!held.ok) {
      return {
        ok: false,
        restoredHead,
        checkpoint,
        missingRecords: 0,
        message: `the restored chain does not hold the checkpoint's record ${checkpoint.seq}: it is another history than the one the orchestrator saw (${held.break?.message ?? 'unknown'}); records up to the checkpoint may be lost`,
      };
    }
  }
  const missingRecords = checkpoint === null ? 0 : Math.max(0, checkpoint.seq - headSeq);
  const message =
    checkpoint === null
      ? `the restored chain verifies (${headSeq} records); no checkpoint was kept to compare with`
      : missingRecords > 0
        ? `the backup is older than the checkpoint: ${missingRecords} audit records (${headSeq + 1}..${checkpoint.seq}) are missing`
        : `the restored chain verifies and reaches the checkpoint (record ${checkpoint.seq})`;
  return { ok: true, restoredHead, checkpoint, missingRecords, message };
}

async function firstSeqSince(control: RestoredChainDependencies['control'], clientId: ClientId, address: string, token: string, since: Date): Promise<number | null> {
  const sink = new PassThrough();
  const firstLine: Buffer[] = [];
  let complete = false;
  sink.on('data', (chunk: Buffer) => {
    if (complete) return;
    const end = chunk.indexOf(0x0a);
    firstLine.push(end === -1 ? chunk : chunk.subarray(0, end));
    complete = end !== -1;
  });
  await control.stream(clientId, address, token, `/v1/audit/export?format=jsonl&since=${encodeURIComponent(since.toISOString())}`, sink);
  const line = Buffer.concat(firstLine).toString('utf8');
  if (line.trim() === '') return null;
  const seq = parseSeq(line);
  if (seq === null) throw new FleetError('integrity', 'the restored agent exported an audit record without a sequence number');
  return seq;
}

function parseSeq(line: string): number | null {
  try {
    const record: unknown = JSON.parse(line);
    if (typeof record !== 'object' || record === null) return null;
    const seq = (record as { seq?: unknown }).seq;
    return Number.isSafeInteger(seq) && (seq as number) > 0 ? (seq as number) : null;
  } catch {
    return null;
  }
}
