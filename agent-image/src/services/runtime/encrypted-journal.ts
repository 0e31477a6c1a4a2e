import { randomBytes } from 'node:crypto';
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { openEnvelope, sealEnvelope, type EnvelopePurpose } from '../audit-log/envelope.ts';
import { GroupCommitAppender, syncDirectory } from '../audit-log/group-commit-appender.ts';
import type { KeyRing } from '../audit-log/key-ring.ts';
import { completeTornLine, quarantineTornTail, readLineFile } from '../audit-log/line-file.ts';

export interface EncryptedJournalOptions<E> {
  /** Directory in the client's volume (created 0700). */
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
   * reproduce the same state, which atomically replace the file.
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
  private seq: number;

  private constructor(options: EncryptedJournalOptions<E>, seq: number) {
    this.keys = options.keys;
    this.file = options.file;
    this.purpose = options.purpose;
    this.appender = new GroupCommitAppender(options.directory);
    this.seq = seq;
  }

  static async open<E>(options: EncryptedJournalOptions<E>): Promise<OpenedJournal<E>> {
    await mkdir(options.directory, { recursive: true, mode: 0o700 });
    const path = join(options.directory, options.file);
    const content = await readLineFile(path);
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
    for (const line of content.lines) {
      const decoded = decode(line);
      if (decoded.seq !== seq + 1) throw new FleetError('integrity', `${options.file}: event ${seq + 1} is missing or out of order`);
      seq = decoded.seq;
      events.push(decoded.event);
    }
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
        events.push(whole.event);
        torn = { bytes: content.tail.length, kept: true, quarantinedTo: null };
      } else {
        const quarantinedTo = await quarantineTornTail(path, content, String((options.now ?? (() => new Date()))().getTime()));
        torn = { bytes: content.tail.length, kept: false, quarantinedTo };
      }
    }
    if (options.snapshot !== undefined && events.length > (options.compactAbove ?? 2000)) {
      events = options.snapshot(events);
      seq = await rewrite(options, events);
    }
    return { journal: new EncryptedJournal<E>(options, seq), events, torn };
  }

  /** Appends an event; resolves once it is durable. */
  append(event: E): Promise<void> {
    this.seq++;
    const line = sealEnvelope(this.keys, this.purpose, this.seq, Buffer.from(JSON.stringify(event), 'utf8')).toString('base64');
    return this.appender.append(this.file, line);
  }

  close(): Promise<void> {
    return this.appender.close();
  }
}

/** Replaces the journal with `events` atomically (temp file, fsync, rename, fsync of the directory). */
async function rewrite<E>(options: EncryptedJournalOptions<E>, events: E[]): Promise<number> {
  const { directory, file, keys, purpose } = options;
  const temporary = join(directory, `${file}.tmp-${randomBytes(6).toString('hex')}`);
  const handle = await open(temporary, 'wx', 0o600);
  try {
    let seq = 0;
    const lines = events.map((event) => {
      seq++;
      return sealEnvelope(keys, purpose, seq, Buffer.from(JSON.stringify(event), 'utf8')).toString('base64');
    });
    await handle.writeFile(lines.length === 0 ? '' : `${lines.join('\n')}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, join(directory, file));
  await syncDirectory(directory);
  return events.length;
}
