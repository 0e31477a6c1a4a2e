import { join } from 'node:path';
import { GENESIS_HASH, chainRecord, hashRecord, validateAuditEntry, type AuditCheckpoint, type AuditEntry, type AuditRecord } from '../../domain/audit-record.ts';
import { ChainVerifier, type ChainVerification } from '../../domain/audit-chain.ts';
import type { AuditEvent } from '../../domain/audit-events.ts';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger, type Logger } from '@agent-fleet/kernel/logger';
import { decodeAuditLine, decodeAuditLineOrThrow, encodeAuditLine, type DecodedAuditLine } from './audit-codec.ts';
import { formatAuditExport, type AuditExportFormat } from '@agent-fleet/kernel/audit-export-format';
import { auditFileName, listAuditFiles, utcDay, type AuditFile } from './audit-files.ts';
import { followChain } from './chain-follower.ts';
import { GroupCommitAppender } from './group-commit-appender.ts';
import { ensureJournalDirectory } from './journal-directory.ts';
import { KeyRing } from './key-ring.ts';
import { completeTornLine, lineFileLines, MAX_LINE_BYTES, quarantineTornTail, scanLineFile, type LineFileEnd } from './line-file.ts';

export interface AuditLogOptions {
  /** Directory in the client's volume holding `audit-YYYY-MM-DD.log` files; created (0700) if missing; never a link. */
  directory: string;
  /** The client's data key (32 bytes, used as version 1) or a key ring after rotations. */
  keys: Buffer | KeyRing;
  /** Time source for timestamps the caller leaves out. Default: the system clock. */
  now?: () => Date;
  logger?: Logger;
}

/** An entry to append (one of the events built in domain/audit-events.ts); the log fills in `timestamp` and `content_hash` when absent. */
export type AuditAppend = AuditEvent;

/** What opening the log found after a crash: a write cut short in the newest file. */
export interface TornTailReport {
  file: string;
  bytes: number;
  /** The cut-short line was a whole record missing only its newline, so it was kept. */
  kept: boolean;
  /** Where the unreadable bytes were moved, when not kept. They were never acknowledged to a caller. */
  quarantinedTo: string | null;
}

export interface AuditRange {
  /** Inclusive lower bound on `timestamp`. */
  since?: Date;
  /** Inclusive upper bound on `timestamp`. */
  until?: Date;
}

/**
 * The client's tamper-evident audit log: hash-chained records, each encrypted with AES-256-GCM under the
 * client's data key, one file per UTC day, appended durably (a promise resolves after fsync; concurrent
 * appends share one write+fsync). Open with `AuditLog.open`, which resumes the chain from the last
 * record and repairs a write torn by a crash. One process writes a given directory at a time.
 */
export class AuditLog {
  private readonly directory: string;
  private readonly keys: KeyRing;
  private readonly now: () => Date;
  private readonly logger: Logger;
  private readonly appender: GroupCommitAppender;
  private tip: AuditCheckpoint | null;
  private durableHead: AuditCheckpoint | null;
  private currentDay: string | null;
  private failed: unknown = null;
  /** Set when opening found and handled a torn write; null otherwise. */
  readonly tornTail: TornTailReport | null;

  private constructor(
    options: AuditLogOptions,
    keys: KeyRing,
    head: AuditCheckpoint | null,
    day: string | null,
    torn: TornTailReport | null,
  ) {
    this.directory = options.directory;
    this.keys = keys;
    this.now = options.now ?? (() => new Date());
    this.logger = options.logger ?? createSilentLogger();
    this.appender = new GroupCommitAppender(options.directory);
    this.tip = head;
    this.durableHead = head;
    this.currentDay = day;
    this.tornTail = torn;
  }

  static async open(options: AuditLogOptions): Promise<AuditLog> {
    const keys = KeyRing.from(options.keys);
    const logger = options.logger ?? createSilentLogger();
    await ensureJournalDirectory(options.directory);
    const files = await listAuditFiles(options.directory);
    const resumed = await resumeChain(options.directory, files, keys, (options.now ?? (() => new Date()))());
    if (resumed.torn !== null) {
      logger.warn('audit log: a write cut short by a crash was found on open', { ...resumed.torn });
    }
    return new AuditLog(options, keys, resumed.head, resumed.day, resumed.torn);
  }

  /**
   * Appends a record and resolves once it is durable. Throws FleetError('invalid_input') for a bad entry
   * and FleetError('unavailable') after a write failure (reopen the log to continue).
   */
  append(entry: AuditAppend): Promise<AuditRecord> {
    if (this.failed !== null) {
      return Promise.reject(new FleetError('unavailable', 'the audit log stopped after a write failure; reopen it', { cause: this.failed }));
    }
    const full: AuditEntry = {
      ...entry,
      timestamp: entry.timestamp ?? this.now().toISOString(),
      content_hash: entry.content_hash ?? null,
    };
    const problems = validateAuditEntry(full);
    if (problems.length > 0) {
      return Promise.reject(new FleetError('invalid_input', `invalid audit entry: ${problems.join('; ')}`));
    }
    const record = chainRecord(full, this.tip);
    const recordDay = utcDay(record.timestamp);
    // Files are read in day order, so a record never goes to a file older than the newest one.
    const day = this.currentDay !== null && this.currentDay > recordDay ? this.currentDay : recordDay;
    let line: string;
    try {
      line = encodeAuditLine(this.keys, record);
    } catch (error) {
      return Promise.reject(new FleetError('internal', 'encrypting the audit record failed', { cause: error }));
    }
    // Written, a longer line would stop every later open and verification of the log.
    if (line.length > MAX_LINE_BYTES) return Promise.reject(new FleetError('invalid_input', `an audit record may take at most ${MAX_LINE_BYTES} bytes stored`));
    this.tip = { seq: record.seq, hash: record.hash };
    this.currentDay = day;
    return this.appender.append(auditFileName(day), line).then(
      () => {
        if (this.durableHead === null || record.seq > this.durableHead.seq) this.durableHead = { seq: record.seq, hash: record.hash };
        return record;
      },
      (error: unknown) => {
        if (this.failed === null) {
          this.failed = error;
          this.logger.error('audit log: append failed; the log refuses further appends until reopened', { error });
        }
        throw error;
      },
    );
  }

  /** The last durable record, to checkpoint outside the container; null for an empty log. */
  head(): AuditCheckpoint | null {
    return this.durableHead === null ? null : { ...this.durableHead };
  }

  /** Records in chain order whose timestamp falls in the range. Throws FleetError('integrity') on a bad line. */
  records(range: AuditRange = {}): AsyncGenerator<AuditRecord> {
    return inRange(this.storedRecords(range), range);
  }

  /** Every record of the files that can hold records in the range, in chain order, unfiltered. */
  private async *storedRecords(range: AuditRange): AsyncGenerator<AuditRecord> {
    const sinceDay = range.since === undefined ? null : utcDay(range.since);
    for (const file of await listAuditFiles(this.directory)) {
      // A record is never in a file older than its own day, so older files cannot hold matches.
      if (sinceDay !== null && file.day < sinceDay) continue;
      for await (const line of lineFileLines(join(this.directory, file.name))) yield decodeAuditLineOrThrow(this.keys, line, file.name);
    }
  }

  async read(range: AuditRange = {}): Promise<AuditRecord[]> {
    const result: AuditRecord[] = [];
    for await (const record of this.records(range)) result.push(record);
    return result;
  }

  /**
   * Verifies the whole chain across files: every record decrypts and authenticates, matches its hash,
   * follows its predecessor; and, given the last external checkpoint, the log still reaches it with the
   * same hash. The result names the first bad seq and the kind of break.
   */
  async verify(options: { checkpoint?: AuditCheckpoint | null } = {}): Promise<ChainVerification> {
    const verifier = new ChainVerifier({ expectedHead: options.checkpoint ?? null });
    let lastSeq = 0;
    const files = await listAuditFiles(this.directory);
    for (const [index, file] of files.entries()) {
      let end: LineFileEnd;
      let lineNumber = 0;
      try {
        // Line by line: a hostile file of millions of short lines is read in constant memory.
        end = await scanLineFile(join(this.directory, file.name), (line) => {
          lineNumber++;
          const where = `${file.name} line ${lineNumber}`;
          const decoded = decodeAuditLine(this.keys, line);
          if (!decoded.ok) {
            verifier.fail(decoded.kind, trustedSeq(decoded, lastSeq), `${where}, after record ${lastSeq}, ${UNREADABLE[decoded.kind]}: ${decoded.message}`);
            return;
          }
          lastSeq = decoded.record.seq;
          checkDayFile(verifier, decoded.record, file);
          verifier.push(decoded.record, where);
        });
      } catch (error) {
        if (!isFleetError(error) || error.code !== 'integrity') throw error;
        verifier.fail('malformed', lastSeq + 1, `${file.name}, after line ${lineNumber} (record ${lastSeq}): ${error.message}`);
        break;
      }
      // Opening the log repairs a torn write in the newest file, and appends never go back to an older
      // one: bytes after the last newline of an older file were put there by something else.
      if (end.tail.length > 0 && index < files.length - 1)
        verifier.fail('malformed', lastSeq + 1, `${file.name} ends with ${end.tail.length} bytes that are not a whole line, after line ${lineNumber} (an older day file is never appended to)`);
    }
    return verifier.finish();
  }

  /**
   * Verifies that the log still extends `anchor`, an earlier checkpoint: record `anchor.seq` still has that
   * hash, and every later record chains from it. Reads only from the file holding the anchor on, so it is
   * cheap enough to ask before every checkpoint moves (a full `verify` reads the whole log).
   */
  async verifyExtension(anchor: AuditCheckpoint): Promise<ChainVerification> {
    const verifier = new ChainVerifier({ anchor });
    let reached = false;
    let lastSeq = anchor.seq;
    for (const file of await this.filesFrom(anchor.seq)) {
      const { name } = file;
      let lineNumber = 0;
      for await (const line of lineFileLines(join(this.directory, name))) {
        lineNumber++;
        const where = `${name} line ${lineNumber}`;
        const decoded = decodeAuditLine(this.keys, line);
        if (!decoded.ok) {
          if (!reached && (decoded.seq ?? 0) < anchor.seq) continue;
          reached = true;
          verifier.fail(decoded.kind, trustedSeq(decoded, lastSeq), `${where}, after record ${lastSeq}, ${UNREADABLE[decoded.kind]}: ${decoded.message}`);
          continue;
        }
        const { record } = decoded;
        if (!reached) {
          if (record.seq < anchor.seq) continue;
          reached = true;
          if (record.seq > anchor.seq) {
            verifier.fail('rewritten', anchor.seq, `record ${anchor.seq} of the checkpoint is no longer in the log`);
          } else if (record.hash !== anchor.hash || hashRecord(record) !== record.hash) {
            verifier.fail('rewritten', anchor.seq, `record ${anchor.seq} differs from the checkpoint`);
          }
          continue;
        }
        lastSeq = record.seq;
        checkDayFile(verifier, record, file);
        verifier.push(record, where);
      }
    }
    if (!reached) verifier.fail('truncated', anchor.seq, `the log ends before record ${anchor.seq} of the checkpoint`);
    return verifier.finish();
  }

  /**
   * The files from the one holding record `seq` on, oldest first: newest back until one starts at or
   * before `seq` (all of them when none can be told). Only each file's first line is read here.
   */
  private async filesFrom(seq: number): Promise<AuditFile[]> {
    const files = await listAuditFiles(this.directory);
    const from: AuditFile[] = [];
    for (let index = files.length - 1; index >= 0; index--) {
      const file = files[index] as AuditFile;
      from.unshift(file);
      const line = await firstLine(join(this.directory, file.name));
      const first = line === null ? null : decodeAuditLine(this.keys, line);
      const firstSeq = first === null ? null : first.ok ? first.record.seq : first.seq;
      if (firstSeq !== null && firstSeq <= seq) break;
    }
    return from;
  }

  /**
   * Writes the records in the range to `sink` as JSON lines or CSV, in plain text for the client.
   * Returns the number of records written. Every record read is checked to chain to the one before it
   * (from record 1 for an export without `since`): at a break, FleetError('integrity') is thrown and
   * nothing from the broken record on is written.
   */
  async exportTo(format: AuditExportFormat, sink: NodeJS.WritableStream, range: AuditRange = {}): Promise<number> {
    let count = 0;
    const counted = async function* (source: AsyncIterable<AuditRecord>): AsyncGenerator<AuditRecord> {
      for await (const record of source) {
        count++;
        yield record;
      }
    };
    // The chain is followed over every record read, before the range leaves some out.
    const chained = followChain(this.storedRecords(range), { fromGenesis: range.since === undefined });
    for await (const chunk of formatAuditExport(format, counted(inRange(chained, range)))) {
      if (!sink.write(chunk)) await new Promise<void>((resolve) => sink.once('drain', () => resolve()));
    }
    return count;
  }

  /** Waits for pending appends and closes the file. */
  async close(): Promise<void> {
    await this.appender.close();
  }
}

/** The records whose timestamp falls in the range (both bounds inclusive), in the order read. */
async function* inRange(records: AsyncIterable<AuditRecord>, range: AuditRange): AsyncGenerator<AuditRecord> {
  // Compared as instants, not strings: stored timestamps may carry 0 to 3 fraction digits, and a bound
  // past year 9999 has an ISO form ("+010000-…") that sorts before every four-digit year.
  const since = range.since?.getTime();
  const until = range.until?.getTime();
  for await (const record of records) {
    const at = Date.parse(record.timestamp);
    if (since !== undefined && at < since) continue;
    if (until !== undefined && at > until) continue;
    yield record;
  }
}

/** What an unreadable stored line is, in plain words. */
const UNREADABLE = {
  undecryptable: 'is not a record sealed with the client\'s key (altered, or written by something else)',
  malformed: 'decrypts but is not a valid audit record',
} as const;

/**
 * The seq a break at an unreadable line concerns: the one its envelope was sealed with when it decrypted,
 * else the one after the last good record. The seq in the clear header of a line that does not
 * authenticate is whatever was written there, and would send an auditor to the wrong record.
 */
function trustedSeq(decoded: Extract<DecodedAuditLine, { ok: false }>, lastSeq: number): number {
  return decoded.kind === 'malformed' && decoded.seq !== null ? decoded.seq : lastSeq + 1;
}

/**
 * A record is written to the file of its own UTC day or a later one, never an earlier one, and `records`
 * skips files older than a range's start on that rule. A record found in an earlier day's file was moved
 * there (lines move between files without the key, the chain order intact): it would drop out of every
 * ranged read and export, so the verification fails.
 */
function checkDayFile(verifier: ChainVerifier, record: AuditRecord, file: AuditFile): void {
  const recordDay = utcDay(record.timestamp);
  if (recordDay > file.day)
    verifier.fail('reordered', record.seq, `record ${record.seq} is dated ${recordDay} but is in ${file.name}, an earlier day's file: it was moved there`);
}

/** The first complete line of a line file, or null. */
async function firstLine(path: string): Promise<string | null> {
  for await (const line of lineFileLines(path)) return line;
  return null;
}

/** The last complete line of a line file (null when none) and what follows it, read in constant memory. */
async function lastLineOf(path: string): Promise<{ last: string | null; end: LineFileEnd }> {
  let last: string | null = null;
  const end = await scanLineFile(path, (line) => {
    last = line;
  });
  return { last, end };
}

async function resumeChain(
  directory: string,
  files: AuditFile[],
  keys: KeyRing,
  now: Date,
): Promise<{ head: AuditCheckpoint | null; day: string | null; torn: TornTailReport | null }> {
  let newestWritten: number | null = null;
  let newestContent: { last: string | null; end: LineFileEnd } | null = null;
  for (let index = files.length - 1; index >= 0; index--) {
    const content = await lastLineOf(join(directory, (files[index] as AuditFile).name));
    if (content.last !== null || content.end.tail.length > 0) {
      newestWritten = index;
      newestContent = content;
      break;
    }
  }
  if (newestWritten === null || newestContent === null) return { head: null, day: files.at(-1)?.day ?? null, torn: null };

  const newest = files[newestWritten] as AuditFile;
  const newestPath = join(directory, newest.name);
  const { end } = newestContent;
  let head = await lastRecord(directory, files, newestWritten, newestContent.last, keys);
  let torn: TornTailReport | null = null;
  if (end.tail.length > 0) {
    const decoded = decodeAuditLine(keys, end.tail);
    const expectedSeq = (head?.seq ?? 0) + 1;
    const whole =
      decoded.ok &&
      decoded.record.seq === expectedSeq &&
      decoded.record.prev_hash === (head?.hash ?? GENESIS_HASH) &&
      hashRecord(decoded.record) === decoded.record.hash;
    if (whole && decoded.ok) {
      await completeTornLine(newestPath);
      head = { seq: decoded.record.seq, hash: decoded.record.hash };
      torn = { file: newest.name, bytes: end.tail.length, kept: true, quarantinedTo: null };
    } else {
      const quarantinedTo = await quarantineTornTail(newestPath, end, String(now.getTime()));
      torn = { file: newest.name, bytes: end.tail.length, kept: false, quarantinedTo };
    }
  }
  return { head, day: files.at(-1)?.day ?? null, torn };
}

/**
 * The last complete record at or before file `fromIndex`, whose last line (`fromLast`) was already read;
 * a bad last line stops the agent (fail closed).
 */
async function lastRecord(
  directory: string,
  files: AuditFile[],
  fromIndex: number,
  fromLast: string | null,
  keys: KeyRing,
): Promise<AuditCheckpoint | null> {
  for (let index = fromIndex; index >= 0; index--) {
    const file = files[index] as AuditFile;
    const last = index === fromIndex ? fromLast : (await lastLineOf(join(directory, file.name))).last;
    if (last === null) continue;
    const record = decodeAuditLineOrThrow(keys, last, file.name);
    if (hashRecord(record) !== record.hash) {
      throw new FleetError('integrity', `the last audit record (${record.seq}) in ${file.name} does not match its hash`);
    }
    return { seq: record.seq, hash: record.hash };
  }
  return null;
}
