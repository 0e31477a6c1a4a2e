import {
  AUDIT_RECORD_FIELDS,
  formatAuditExport,
  type AuditExportRow,
} from '@agent-fleet/kernel/audit-export-format';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { LineSplitter } from '@agent-fleet/kernel/line-splitter';
import type { OpsLogEntry } from '../../domain/ops-log-entry.ts';

/**
 * Streams of records into the export's standard formats, one record at a time (memory never holds a
 * whole log). Audit records use the kernel's one export format, the same the agent's own export uses.
 */

type Records<T> = AsyncIterable<T> | Iterable<T>;

/** Audit records as JSON lines, fields in the export order. */
export function auditRecordsToJsonl(records: Records<AuditExportRow>): AsyncGenerator<string> {
  return formatAuditExport('jsonl', records);
}

/** Audit records as CSV (RFC 4180, header row first, formula-looking cells defused). */
export function auditRecordsToCsv(records: Records<AuditExportRow>): AsyncGenerator<string> {
  return formatAuditExport('csv', records);
}

/** Every field of an ops-log entry, in the order the export presents them. */
export const OPS_LOG_FIELDS = [
  'seq',
  'at',
  'actor',
  'action',
  'clientId',
  'reason',
  'outcome',
  'details',
  'prevHash',
  'hash',
  'seals',
  'erasedAt',
] as const satisfies readonly (keyof OpsLogEntry)[];

/** Ops-log entries as JSON lines, with their chain fields so the export can be checked against the log. */
export async function* opsLogToJsonl(entries: Records<OpsLogEntry>): AsyncGenerator<string> {
  for await (const entry of entries) {
    const ordered: Record<string, unknown> = {};
    for (const field of OPS_LOG_FIELDS) ordered[field] = entry[field];
    yield `${JSON.stringify(ordered)}\n`;
  }
}

/**
 * The longest line taken from the agent's export, in bytes: the bound the agent's own journals keep
 * (agent-image/src/services/audit-log/line-file.ts), since each exported line carries one journal event
 * (an outbox entry holds a message of up to 5 MB text and 5 MB HTML, an approval a draft of up to 10 MB).
 */
export const MAX_AGENT_LINE_BYTES = 128 * 1024 * 1024;

/**
 * Splits a byte stream into lines, each looked at once (linear in the stream's size whatever the lines'
 * lengths). Refuses a line longer than `maxLineBytes` before holding more of it, and one that is not
 * UTF-8: the agent only ever writes UTF-8, and a replacement character would put in the archive what it
 * never held.
 */
export async function* splitLines(
  chunks: Records<Uint8Array | string>,
  maxLineBytes = MAX_AGENT_LINE_BYTES,
): AsyncGenerator<{ line: string; number: number }> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let number = 0;
  const decode = (bytes: Buffer): string => {
    try {
      return decoder.decode(bytes);
    } catch (error) {
      throw new FleetError('integrity', `line ${number + 1} is not UTF-8: refused`, { cause: error });
    }
  };
  const splitter = new LineSplitter(maxLineBytes, () => new FleetError('integrity', `line ${number + 1} is longer than ${maxLineBytes} bytes: refused`), decode);
  const numbered = (line: string) => ({ line: line.endsWith('\r') ? line.slice(0, -1) : line, number: ++number });
  for await (const raw of chunks) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    for (const line of splitter.lines(chunk)) yield numbered(line);
  }
  const tail = splitter.tail();
  if (tail.length > 0) yield numbered(decode(tail));
}

/**
 * Audit records from JSON lines (as the agent's export endpoint streams them), checked for shape: each
 * line must be an object carrying every exported field. Blank lines are skipped.
 */
export async function* parseAuditJsonl(
  chunks: Records<Uint8Array | string>,
  maxLineBytes?: number,
): AsyncGenerator<AuditExportRow> {
  for await (const { line, number } of splitLines(chunks, maxLineBytes)) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new FleetError('integrity', `audit line ${number} is not JSON`, { cause: error });
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new FleetError('integrity', `audit line ${number} is not a JSON object`);
    const missing = AUDIT_RECORD_FIELDS.filter((field) => !(field in value));
    if (missing.length > 0)
      throw new FleetError('integrity', `audit line ${number} lacks ${missing.join(', ')}`);
    yield value as AuditExportRow;
  }
}
