import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { isJournalHead, type JournalHead } from '@agent-fleet/kernel/journal-anchor';
import { openEnvelope, peekEnvelopeSeq, sealEnvelope, type EnvelopePurpose } from './envelope.ts';
import type { KeyRing } from './key-ring.ts';
import { MAX_LINE_BYTES, openLineFile, scanLineFile } from './line-file.ts';

/** The envelope seq of the marker line a compacted journal starts with (events are numbered from 1). */
export const COMPACTION_MARKER_SEQ = 0;

/** Base64 characters enough to hold an envelope's clear header (14 bytes). */
const HEADER_BASE64_CHARS = 24;

/** sha256 (hex) of one stored journal line, without its newline. */
export function storedLineDigest(line: string): string {
  return createHash('sha256').update(line, 'utf8').digest('hex');
}

/** The seq a stored line claims in its clear header, or null when it has none. Not authenticated. */
export function peekLineSeq(line: string): number | null {
  return peekEnvelopeSeq(Buffer.from(line.slice(0, HEADER_BASE64_CHARS), 'base64'));
}


/**
 * The first line of a compacted journal: sealed at seq 0, it names the head the compaction replaced, and
 * the events after it carry on from that seq. A compacted journal thus still holds the head anchored
 * before it was compacted, and a journal whose first events were cut off (no marker, first seq above 1)
 * is told from a compacted one.
 */
export function sealCompactionMarker(keys: KeyRing, purpose: EnvelopePurpose, replaced: JournalHead): string {
  const plaintext = Buffer.from(JSON.stringify({ compactionOf: { seq: replaced.seq, hash: replaced.hash } }), 'utf8');
  return sealEnvelope(keys, purpose, COMPACTION_MARKER_SEQ, plaintext).toString('base64');
}

/** The head a compaction marker names. Throws FleetError('integrity') on a line that is not one. */
export function openCompactionMarker(keys: KeyRing, purpose: EnvelopePurpose, line: string, file: string): JournalHead {
  const opened = openEnvelope(keys, purpose, Buffer.from(line, 'base64'));
  if (opened.seq !== COMPACTION_MARKER_SEQ) throw new FleetError('integrity', `${file}: the first line is not a compaction marker`);
  let value: unknown;
  try {
    value = JSON.parse(opened.plaintext.toString('utf8'));
  } catch (error) {
    throw new FleetError('integrity', `${file}: the compaction marker is not JSON`, { cause: error });
  }
  const replaced = (value as { compactionOf?: unknown } | null)?.compactionOf;
  if (!isJournalHead(replaced)) throw new FleetError('integrity', `${file}: the compaction marker names no head`);
  return { seq: replaced.seq, hash: replaced.hash };
}

/** What a journal file holds of an anchored head, read at open before the journal's own reader runs. */
export interface JournalHolding {
  /** The anchored line is in the file (or is the head its compaction marker names). */
  holds: boolean;
  /** The file's own head (null for a missing or empty file). */
  head: JournalHead | null;
}

/**
 * Whether the journal at `path` holds `anchor`. Event lines are matched by their stored bytes, so they
 * need not be decrypted here (a line equal to the anchored one is the one the agent wrote); the journal's
 * reader authenticates every line when it opens the file next.
 */
export async function journalHolding(path: string, keys: KeyRing, purpose: EnvelopePurpose, anchor: JournalHead): Promise<JournalHolding> {
  let holds = false;
  let head: JournalHead | null = null;
  let first = true;
  const file = basename(path);
  await scanLineFile(path, (line) => {
    const seq = peekLineSeq(line);
    if (first && seq === COMPACTION_MARKER_SEQ) head = openCompactionMarker(keys, purpose, line, file);
    else if (seq !== null) head = { seq, hash: storedLineDigest(line) };
    first = false;
    if (head !== null && head.seq === anchor.seq && head.hash === anchor.hash) holds = true;
  });
  return { holds, head };
}

/**
 * The head of the journal at `path` as it is durable now: its last complete line, read from the end (a
 * line being written, not yet ended by its newline, does not count), then the file is fsynced so that no
 * head is ever recorded outside the volume that a crash could still take back. Null for an empty file.
 */
export async function readDurableJournalHead(path: string, keys: KeyRing, purpose: EnvelopePurpose): Promise<JournalHead | null> {
  const handle = await openLineFile(path, constants.O_RDONLY);
  if (handle === null) return null;
  try {
    const line = await lastCompleteLine(handle, (await handle.stat()).size);
    await handle.sync();
    if (line === null) return null;
    const seq = peekLineSeq(line);
    if (seq === null) throw new FleetError('integrity', `${basename(path)}: the last line has no seq`);
    return seq === COMPACTION_MARKER_SEQ ? openCompactionMarker(keys, purpose, line, basename(path)) : { seq, hash: storedLineDigest(line) };
  } finally {
    await handle.close();
  }
}

const BACKWARD_CHUNK_BYTES = 64 * 1024;

/** The last newline-terminated line of a file of `size` bytes, read backwards in chunks; null when none. */
async function lastCompleteLine(handle: FileHandle, size: number): Promise<string | null> {
  // Bytes of the line, newest chunk last; `ended` once its newline (the end of the file's complete part) was seen.
  const parts: Buffer[] = [];
  let ended = false;
  let held = 0;
  for (let position = size; position > 0; ) {
    const length = Math.min(BACKWARD_CHUNK_BYTES, position);
    position -= length;
    let chunk = Buffer.alloc(length);
    await handle.read(chunk, 0, length, position);
    if (!ended) {
      const newline = chunk.lastIndexOf(0x0a);
      if (newline === -1) continue;
      ended = true;
      chunk = chunk.subarray(0, newline);
    }
    const start = chunk.lastIndexOf(0x0a);
    parts.unshift(start === -1 ? chunk : chunk.subarray(start + 1));
    if (start !== -1) break;
    held += chunk.length;
    if (held > MAX_LINE_BYTES) throw new FleetError('integrity', `a journal line is longer than ${MAX_LINE_BYTES} bytes`);
  }
  return ended ? Buffer.concat(parts).toString('utf8') : null;
}
