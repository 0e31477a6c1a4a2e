import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { verifyOpsLogPages, type OpsLogHead, type OpsLogVerification } from '../../domain/ops-log-chain.ts';
import type { OpsLogEntry, Registry } from '../../ports/registry.ts';

/** Entries read at a time for a bundle's ops-log parts: memory bounded by a page, whatever the log's length. */
export const EVIDENCE_OPS_LOG_PAGE_SIZE = 500;

/**
 * Whether an entry belongs in a client's slice of an incident's ops log: the client's entries and the
 * incident's own under no client; not the incident's entries about its other clients (who at them was told,
 * what was done to them), which are theirs.
 */
export function inOpsLogSlice(entry: OpsLogEntry, clientId: string, incidentId: string): boolean {
  if (entry.clientId === clientId) return true;
  if (entry.clientId !== null) return false;
  // Read back from storage: details that are not an object name no incident.
  const details: unknown = entry.details;
  return typeof details === 'object' && details !== null && (details as Record<string, unknown>)['incident'] === incidentId;
}

/** What `ops-log/verification.json` holds. */
export interface OpsLogVerificationRecord {
  /** Of the entries read; when `readProblem` is set, only of those before the one that could not be read. */
  verification: OpsLogVerification;
  head: OpsLogHead | null;
  headCheckpoint: OpsLogHead | null;
  headCheckpointProblem: string | null;
  /** Why the log could not be read to its end (an entry whose sealed fields do not open), or null. */
  readProblem: string | null;
}

export interface OpsLogEvidence {
  /** The slice as JSON lines, in the work directory. */
  sliceFile: string;
  sliceEntries: number;
  sliceBytes: number;
  /** Entries of the whole log read (and verified). */
  readEntries: number;
  readProblem: string | null;
  verification: OpsLogVerificationRecord;
}

async function write(sink: Writable, text: string): Promise<void> {
  if (text.length > 0 && !sink.write(text)) await once(sink, 'drain');
}

/**
 * One pass over the whole ops log, a page at a time: the incident's slice streamed to `file`, the whole chain
 * verified against the head checkpoint. Neither the log nor the slice is held in memory, and the slice is
 * whole (forensic evidence is not cut short). An entry that cannot be read (its sealed fields altered) stops
 * the read there, and the record says so: the evidence of a tampered log is still sealed.
 */
export async function collectOpsLog(
  registry: Pick<Registry, 'opsLogHeadCheckpoint' | 'readOpsLogPages'>,
  target: { clientId: string; incidentId: string; file: string },
  pageSize: number = EVIDENCE_OPS_LOG_PAGE_SIZE,
): Promise<OpsLogEvidence> {
  // The head recorded outside the database first (an append meanwhile leaves the entries ahead of it): a
  // tail cut from the database then shows in the bundle's verification. A checkpoint that fails its MAC is
  // reported there, not a reason to lose the evidence.
  let headCheckpoint: OpsLogHead | null = null;
  let headCheckpointProblem: string | null = null;
  try {
    headCheckpoint = (await registry.opsLogHeadCheckpoint?.()) ?? null;
  } catch (error) {
    if (!isFleetError(error) || error.code !== 'integrity') throw error;
    headCheckpointProblem = error.message;
  }
  const sink = createWriteStream(target.file, { mode: 0o600 });
  let sliceEntries = 0;
  let sliceBytes = 0;
  let readEntries = 0;
  let head: OpsLogHead | null = null;
  let readProblem: string | null = null;
  async function* pages(): AsyncGenerator<readonly OpsLogEntry[]> {
    try {
      for await (const page of registry.readOpsLogPages({ pageSize })) {
        const lines = page.filter((entry) => inOpsLogSlice(entry, target.clientId, target.incidentId)).map((entry) => `${JSON.stringify(entry)}\n`);
        const text = lines.join('');
        await write(sink, text);
        sliceEntries += lines.length;
        sliceBytes += Buffer.byteLength(text);
        readEntries += page.length;
        const last = page.at(-1);
        if (last !== undefined) head = { seq: last.seq, hash: last.hash };
        yield page;
      }
    } catch (error) {
      if (!isFleetError(error) || error.code !== 'integrity') throw error;
      readProblem = error.message;
    }
  }
  let verification: OpsLogVerification;
  try {
    verification = await verifyOpsLogPages(pages(), headCheckpoint);
    sink.end();
    await finished(sink);
  } catch (error) {
    sink.destroy();
    throw error;
  }
  return {
    sliceFile: target.file,
    sliceEntries,
    sliceBytes,
    readEntries,
    readProblem,
    verification: { verification, head, headCheckpoint, headCheckpointProblem, readProblem },
  };
}
