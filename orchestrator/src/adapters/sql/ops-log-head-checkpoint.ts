import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { readRegularFile, writeFileAtomically } from '@agent-fleet/kernel/atomic-file';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { OpsLogHead } from '../../domain/ops-log-chain.ts';

/**
 * What `advance` did: wrote the head, kept a later (or equal) one, kept a file it cannot trust (left as
 * evidence: it fails its MAC, or records an entry the log no longer holds), or found none where one was
 * expected (`create: false`) and made none.
 */
export type CheckpointAdvance = 'advanced' | 'kept' | 'refused-invalid' | 'missing';

/**
 * The ops log's head, kept outside the database: someone who can write the database but not this file
 * cannot delete the log's last entries, or rewrite them and recompute their hashes, unnoticed.
 */
export interface OpsLogHeadCheckpoint {
  /** Where it is kept, for messages. */
  readonly location: string;
  /** The recorded head, or null when none was recorded; a file that fails its MAC: an integrity error. */
  read(): Promise<OpsLogHead | null>;
  /**
   * Records `head` unless the recorded one is at the same seq or later: it never moves backwards within one
   * process (callers serialise calls through `recordOpsLogHead`). A file that fails its MAC is not
   * overwritten. With `create: false`, no file is made where there is none: a checkpoint that existed and
   * was deleted must not be made again from whatever the database holds by then. With `holds`, the head
   * moves on only when the log still holds the recorded one: otherwise entries up to it were cut (or
   * rewritten) and appends made since have grown the log past it again; moving on would vouch for that.
   */
  advance(head: OpsLogHead, options?: AdvanceOptions): Promise<CheckpointAdvance>;
}

/** How `advance` may move the checkpoint. */
export interface AdvanceOptions {
  /** Whether a missing file may be made (default true). */
  create?: boolean | undefined;
  /** Whether the log holds `recorded` (an entry at its seq with its hash): asked before moving past it. */
  holds?: ((recorded: OpsLogHead) => Promise<boolean>) | undefined;
}

const FORMAT = 'agent-fleet ops-log head v1';
const KEY_INFO = 'agent-fleet registry ops-log head checkpoint';
const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** The MAC key, derived from the registry's master key (`<home>/registry-key/master.key`) under its own label. */
function checkpointKey(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), KEY_INFO, 32));
}

function macOf(key: Buffer, head: OpsLogHead): string {
  return createHmac('sha256', key).update(`${FORMAT}\0${head.seq}\0${head.hash}`).digest('base64url');
}

function isHead(value: unknown): value is OpsLogHead & { format: string; mac: string } {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    record.format === FORMAT &&
    Number.isSafeInteger(record.seq) &&
    (record.seq as number) >= 1 &&
    typeof record.hash === 'string' &&
    HASH_PATTERN.test(record.hash) &&
    typeof record.mac === 'string'
  );
}

/** The checkpoint as a small JSON file, authenticated with an HMAC and replaced atomically. */
export function fileOpsLogHeadCheckpoint(file: string, masterKey: Buffer): OpsLogHeadCheckpoint {
  const key = checkpointKey(masterKey);
  const invalid = (why: string) =>
    new FleetError('integrity', `ops-log head checkpoint ${file} ${why}: it was altered, or written under another key (to re-anchor the log at its current head, move the file away and restart)`);

  async function read(): Promise<OpsLogHead | null> {
    let bytes: Buffer | null;
    try {
      // Not through a link, never blocking on a FIFO, bounded: what is at the path is not trusted.
      bytes = await readRegularFile(file, { maxBytes: 4096 });
    } catch (error) {
      // Not a MAC failure but a path that cannot hold the checkpoint: a write fails, the start says so.
      if (error instanceof FleetError && error.code === 'integrity') throw new Error(`${file} is not a regular file of at most 4 KiB`, { cause: error });
      throw error;
    }
    if (bytes === null) return null;
    const text = bytes.toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw invalid('is not JSON');
    }
    if (!isHead(parsed)) throw invalid('is not a head checkpoint');
    const head = { seq: parsed.seq, hash: parsed.hash };
    const expected = Buffer.from(macOf(key, head));
    const actual = Buffer.from(parsed.mac);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw invalid('fails its MAC');
    return head;
  }

  return {
    location: file,
    read,
    async advance(head, options = {}) {
      if (!Number.isSafeInteger(head.seq) || head.seq < 1 || !HASH_PATTERN.test(head.hash)) {
        throw new FleetError('invalid_input', `not an ops-log head: seq ${head.seq}, hash ${head.hash}`);
      }
      let current: OpsLogHead | null;
      try {
        current = await read();
      } catch (error) {
        if (error instanceof FleetError && error.code === 'integrity') return 'refused-invalid';
        throw error;
      }
      if (current !== null && current.seq >= head.seq) return 'kept';
      if (current === null && options.create === false) return 'missing';
      if (current !== null && options.holds !== undefined && !(await options.holds(current))) return 'refused-invalid';
      const body = { format: FORMAT, seq: head.seq, hash: head.hash, mac: macOf(key, head) };
      await writeFileAtomically(file, `${JSON.stringify(body)}\n`, { mode: 0o600 });
      return 'advanced';
    },
  };
}
