import { randomBytes } from 'node:crypto';
import { type JournalHead } from '@agent-fleet/kernel/journal-anchor';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { openEnvelope, sealEnvelope, type EnvelopePurpose } from '../audit-log/envelope.ts';
import { GroupCommitAppender, syncDirectory } from '../audit-log/group-commit-appender.ts';
import { ensureJournalDirectory } from '../audit-log/journal-directory.ts';
import type { KeyRing } from '../audit-log/key-ring.ts';
import { COMPACTION_MARKER_SEQ, openCompactionMarker, peekLineSeq, sealCompactionMarker, storedLineDigest } from '../audit-log/journal-heads.ts';
import { completeTornLine, MAX_LINE_BYTES, quarantineTornTail, scanLineFile } from '../audit-log/line-file.ts';

export interface EncryptedJournalOptions<E> {
  /** Directory in the client's volume (created 0700; never a link). */
  directory: string;
  /** File name inside the directory, e.g. `state.log`. */
  file: string;
  /** The envelope purpose: a record of one journal cannot be passed off as another's (e.g. `state`, `outbox`). */
  purpose: Exclude<EnvelopePurpose, 'audit'>;
  /** The client's data key ring (the audit log's). */
  keys: KeyRing;
  /** Validates one decrypted event (the file is untrusted); throws FleetError('integrity') on anything else. */
  parse: (value: unknown) => E;
  /**
   * Called at open when the journal holds more than `compactAbove` events: returns the events that
   * reproduce the same state, which atomically replace the file when they are at least `compactAbove / 2`
   * fewer.
   */
  snapshot?: (events: E[]) => E[];
  /** Default 2000 events. */
  compactAbove?: number;
  now?: () => Date;
}

/** What opening found of a write cut short by a crash (never acknowledged to a caller). */
export interface JournalTornTail {
  bytes: number;
  /** The cut-short line was a whole event missing only its newline, so it was kept. */
  kept: boolean;
  /** Where the unreadable bytes were moved, when not kept. */
  quarantinedTo: string | null;
}

export interface OpenedJournal<E> {
  journal: EncryptedJournal<E>;
  /** Every event, oldest first (after compaction, the snapshot's). */
  events: E[];
  torn: JournalTornTail | null;
}

/**
 * A durable, encrypted, append-only event journal, generic over its event type: the agent's own state
 * (policy state, approvals, sync progress) and the outbox. One AES-256-GCM envelope per line, written with
 * group commit and fsync, replayed at open; a gap or reorder in the sequence is an integrity error. A
 * write torn by a crash is kept when whole, moved aside otherwise.
 */
export class EncryptedJournal<E> {
  private readonly keys: KeyRing;
  private readonly file: string;
  private readonly purpose: EncryptedJournalOptions<E>['purpose'];
  private readonly appender: GroupCommitAppender;
  private readonly parse: (value: unknown) => E;
  private seq: number;

  private constructor(options: EncryptedJournalOptions<E>, seq: number) {
    this.keys = options.keys;
    this.parse = options.parse;
    this.file = options.file;
    this.purpose = options.purpose;
    this.appender = new GroupCommitAppender(options.directory);
    this.seq = seq;
  }

  static async open<E>(options: EncryptedJournalOptions<E>): Promise<OpenedJournal<E>> {
    await ensureJournalDirectory(options.directory);
    await removeStaleTemporaries(options.directory, options.file);
    const path = join(options.directory, options.file);
    const decode = (line: string): { seq: number; event: E } => {
      const opened = openEnvelope(options.keys, options.purpose, Buffer.from(line, 'base64'));
      let value: unknown;
      try {
        value = JSON.parse(opened.plaintext.toString('utf8'));
      } catch (error) {
        throw new FleetError('integrity', `${options.file}: event ${opened.seq} is not JSON`, { cause: error });
      }
      return { seq: opened.seq, event: options.parse(value) };
    };
    let events: E[] = [];
    let seq = 0;
    // Assigned in the scan callback, which narrowing does not follow.
    let head = null as JournalHead | null;
    let first = true;
    // Line by line: memory holds the events and one line, and a hostile file fails at its first bad line.
    const content = await scanLineFile(path, (line) => {
      if (first && peekLineSeq(line) === COMPACTION_MARKER_SEQ) {
        // A compacted journal carries on from the seq of the head it replaced.
        head = openCompactionMarker(options.keys, options.purpose, line, options.file);
        seq = head.seq;
        first = false;
        return;
      }
      first = false;
      const decoded = decode(line);
      if (decoded.seq !== seq + 1) throw new FleetError('integrity', `${options.file}: event ${seq + 1} is missing or out of order`);
      seq = decoded.seq;
      head = { seq, hash: storedLineDigest(line) };
      events.push(decoded.event);
    });
    let torn: JournalTornTail | null = null;
    if (content.tail.length > 0) {
      let whole: { seq: number; event: E } | null = null;
      try {
        whole = decode(content.tail);
      } catch {
        whole = null;
      }
      if (whole !== null && whole.seq === seq + 1) {
        await completeTornLine(path);
        seq = whole.seq;
        head = { seq, hash: storedLineDigest(content.tail) };
        events.push(whole.event);
        torn = { bytes: content.tail.length, kept: true, quarantinedTo: null };
      } else {
        const quarantinedTo = await quarantineTornTail(path, content, String((options.now ?? (() => new Date()))().getTime()));
        torn = { bytes: content.tail.length, kept: false, quarantinedTo };
      }
    }
    const compactAbove = options.compactAbove ?? 2000;
    if (options.snapshot !== undefined && events.length > compactAbove) {
      const snapshot = options.snapshot(events);
      // A journal that is mostly live state (many entries, few superseded events) is not rewritten whole at every open.
      if (head !== null && events.length - snapshot.length >= compactAbove / 2) {
        events = snapshot;
        seq = await rewrite(options, events, head);
      }
    }
    return { journal: new EncryptedJournal<E>(options, seq), events, torn };
  }

  /**
   * Appends an event; resolves once it is durable. An event that cannot be written (not JSON, or larger
   * than a journal line may be) is refused without using up a seq: a gap would stop the next open.
   */
  append(event: E): Promise<void> {
    let line: string;
    try {
      const json = jsonOf(event);
      this.readableOrThrow(json);
      line = sealJson(this.keys, this.purpose, this.seq + 1, json);
    } catch (error) {
      return Promise.reject(error);
    }
    this.seq++;
    return this.appender.append(this.file, line);
  }

  close(): Promise<void> {
    return this.appender.close();
  }

  /**
   * Refuses an event the journal's own reader would refuse at the next open (a field longer than its
   * schema allows, taken from a hostile email): written, it would stop the agent from ever starting again.
   */
  private readableOrThrow(json: string): void {
    try {
      this.parse(JSON.parse(json));
    } catch (error) {
      throw new FleetError('invalid_input', `${this.file}: an event its reader would refuse at the next open was not written`, { cause: error });
    }
  }
}

/**
 * Replaces the journal with `events` atomically (temp file, fsync, rename, fsync of the directory),
 * written line by line: the journal is never held as one string. A temp file a crash (or a failure here)
 * left is removed. The new file starts with a marker naming `replaced`, the head it replaces, and numbers
 * its events on from there: seqs never go back, and a head recorded outside the volume before the
 * compaction is still held by the compacted file (journal-heads.ts). Returns the new last seq.
 */
async function rewrite<E>(options: EncryptedJournalOptions<E>, events: E[], replaced: JournalHead): Promise<number> {
  const { directory, file, keys, purpose } = options;
  const temporary = join(directory, `${temporaryPrefix(file)}${randomBytes(6).toString('hex')}`);
  const handle = await open(temporary, 'wx', 0o600);
  let seq = replaced.seq;
  try {
    try {
      await handle.write(`${sealCompactionMarker(keys, purpose, replaced)}\n`);
      for (const event of events) await handle.write(`${sealLine(keys, purpose, ++seq, event)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, join(directory, file));
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(directory);
  return seq;
}

function temporaryPrefix(file: string): string {
  return `${file}.tmp-`;
}

/**
 * Temp files of compactions a crash cut short: the rename never happened, so the journal itself is whole.
 * Only files (and links, removed as entries) are the agent's; anything else so named was put there by
 * something else and is left alone: removing it as a file would fail and stop every open of the journal.
 */
async function removeStaleTemporaries(directory: string, file: string): Promise<void> {
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (!entry.name.startsWith(temporaryPrefix(file)) || !(entry.isFile() || entry.isSymbolicLink())) continue;
    await rm(join(directory, entry.name), { force: true });
  }
}

/** One journal line: the event's JSON sealed as `seq`, in base64; refused when no reader would take it back. */
function sealLine<E>(keys: KeyRing, purpose: EnvelopePurpose, seq: number, event: E): string {
  return sealJson(keys, purpose, seq, jsonOf(event));
}

function jsonOf(event: unknown): string {
  const json = JSON.stringify(event) as string | undefined;
  if (json === undefined) throw new FleetError('invalid_input', 'a journal event must be JSON');
  return json;
}

function sealJson(keys: KeyRing, purpose: EnvelopePurpose, seq: number, json: string): string {
  const line = sealEnvelope(keys, purpose, seq, Buffer.from(json, 'utf8')).toString('base64');
  if (line.length > MAX_LINE_BYTES) throw new FleetError('invalid_input', `a journal event may take at most ${MAX_LINE_BYTES} bytes stored`);
  return line;
}
