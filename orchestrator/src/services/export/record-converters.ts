import { StringDecoder } from 'node:string_decoder';
import {
  AUDIT_RECORD_FIELDS,
  formatAuditExport,
  type AuditExportRow,
} from '@agent-fleet/kernel/audit-export-format';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
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

/** Splits a byte stream into lines (UTF-8 safe across chunk boundaries); refuses over-long lines. */
export async function* splitLines(
  chunks: Records<Uint8Array | string>,
  maxLineBytes = 1024 * 1024,
): AsyncGenerator<{ line: string; number: number }> {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let number = 0;
  const tooLong = () =>
    new FleetError('integrity', `line ${number + 1} is longer than ${maxLineBytes} bytes: refused`);
  for await (const chunk of chunks) {
    partial +=
      typeof chunk === 'string'
        ? chunk
        : decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    let newline = partial.indexOf('\n');
    while (newline !== -1) {
      const line = partial.slice(0, newline);
      partial = partial.slice(newline + 1);
      if (Buffer.byteLength(line) > maxLineBytes) throw tooLong();
      number++;
      yield { line: line.endsWith('\r') ? line.slice(0, -1) : line, number };
      newline = partial.indexOf('\n');
    }
    if (Buffer.byteLength(partial) > maxLineBytes) throw tooLong();
  }
  partial += decoder.end();
  if (partial.length > 0) yield { line: partial, number: number + 1 };
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
