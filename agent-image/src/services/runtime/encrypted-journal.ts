import { randomBytes } from 'node:crypto';
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { openEnvelope, sealEnvelope } from '../audit-log/envelope.ts';
import { GroupCommitAppender, syncDirectory } from '../audit-log/group-commit-appender.ts';
import type { KeyRing } from '../audit-log/key-ring.ts';
import { completeTornLine, quarantineTornTail, readLineFile } from '../audit-log/line-file.ts';

export interface EncryptedJournalOptions<E> {
  /** Directory in the client's volume (created 0700). */
  directory: string;
  /** File name inside the directory, e.g. `state.log`. */
  file: string;
  /** The client's data key ring (the audit log's). */
  keys: KeyRing;
  /** Validates one decrypted event (the file is untrusted); throws on anything else. */
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

/**
 * A durable, encrypted, append-only event journal for the agent's own state (policy state, approvals,
 * sync progress): one AES-256-GCM envelope (purpose `state`) per line, written with group commit and
 * fsync, replayed at open. A write torn by a crash is kept when whole, moved aside otherwise.
 */
export class EncryptedJournal<E> {
  private readonly keys: KeyRing;
  private readonly file: string;
  private readonly appender: GroupCommitAppender;
  private seq: number;

  private constructor(directory: string, file: string, keys: KeyRing, seq: number) {
    this.keys = keys;
    this.file = file;
    this.appender = new GroupCommitAppender(directory);
    this.seq = seq;
  }

  static async open<E>(options: EncryptedJournalOptions<E>): Promise<{ journal: EncryptedJournal<E>; events: E[] }> {
    await mkdir(options.directory, { recursive: true, mode: 0o700 });
    const path = join(options.directory, options.file);
    const content = await readLineFile(path);
    const decode = (line: string): { seq: number; event: E } => {
      const opened = openEnvelope(options.keys, 'state', Buffer.from(line, 'base64'));
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
      } else {
        await quarantineTornTail(path, content, String((options.now ?? (() => new Date()))().getTime()));
      }
    }
    if (options.snapshot !== undefined && events.length > (options.compactAbove ?? 2000)) {
      events = options.snapshot(events);
      seq = await rewrite(options.directory, options.file, options.keys, events);
    }
    return { journal: new EncryptedJournal<E>(options.directory, options.file, options.keys, seq), events };
  }

  /** Appends an event; resolves once it is durable. */
  append(event: E): Promise<void> {
    this.seq++;
    const line = sealEnvelope(this.keys, 'state', this.seq, Buffer.from(JSON.stringify(event), 'utf8')).toString('base64');
    return this.appender.append(this.file, line);
  }

  close(): Promise<void> {
    return this.appender.close();
  }
}

/** Replaces the journal with `events` atomically (temp file, fsync, rename, fsync of the directory). */
async function rewrite<E>(directory: string, file: string, keys: KeyRing, events: E[]): Promise<number> {
  const temporary = join(directory, `${file}.tmp-${randomBytes(6).toString('hex')}`);
  const handle = await open(temporary, 'wx', 0o600);
  try {
    let seq = 0;
    const lines = events.map((event) => {
      seq++;
      return sealEnvelope(keys, 'state', seq, Buffer.from(JSON.stringify(event), 'utf8')).toString('base64');
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
