/**
 * How audit records leave a client's keeping: JSON lines, or CSV for spreadsheets. The agent (its own
 * export endpoint) and the orchestrator (the complete client export) format records through this one
 * module, so both produce the same columns in the same order. Pure: no I/O.
 */

/** Every field of a stored audit record, in the order exports present them. */
export const AUDIT_RECORD_FIELDS = [
  'seq',
  'timestamp',
  'action_type',
  'actor',
  'target',
  'parameters',
  'approval_status',
  'approved_by',
  'result',
  'content_hash',
  'prev_hash',
  'hash',
] as const;
export type AuditRecordField = (typeof AUDIT_RECORD_FIELDS)[number];

/** Any record that carries every exported field (the agent's `AuditRecord` is one). */
export type AuditExportRow = { readonly [K in AuditRecordField]: unknown };

export type AuditExportFormat = 'jsonl' | 'csv';
export const AUDIT_EXPORT_FORMATS: readonly AuditExportFormat[] = ['jsonl', 'csv'];
export const AUDIT_CSV_COLUMNS = AUDIT_RECORD_FIELDS;

/** One record as a JSON line, fields in export order (unknown extra fields are left out). */
export function auditJsonLine(record: AuditExportRow): string {
  const ordered: Record<string, unknown> = {};
  for (const column of AUDIT_CSV_COLUMNS) ordered[column] = record[column];
  return `${JSON.stringify(ordered)}\n`;
}

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;
// Spreadsheets run cells that start with these as formulas; email content must never become one.
const FORMULA_START = /^[=+\-@\t\r']/;

/**
 * One CSV cell (RFC 4180). Cells starting like a formula get a leading apostrophe, and so do cells that
 * already start with one, so the escaping stays reversible: strip one leading apostrophe when reading.
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function auditCsvHeader(): string {
  return `${AUDIT_CSV_COLUMNS.join(',')}\r\n`;
}

function cellValue(value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number') return value;
  return JSON.stringify(value);
}

export function auditCsvRow(record: AuditExportRow): string {
  const cells = AUDIT_CSV_COLUMNS.map((column) =>
    csvCell(column === 'parameters' ? JSON.stringify(record[column]) : cellValue(record[column])),
  );
  return `${cells.join(',')}\r\n`;
}

/** Export chunks for records, header first for CSV. */
export async function* formatAuditExport(
  format: AuditExportFormat,
  records: AsyncIterable<AuditExportRow> | Iterable<AuditExportRow>,
): AsyncGenerator<string> {
  if (format === 'csv') yield auditCsvHeader();
  for await (const record of records) yield format === 'csv' ? auditCsvRow(record) : auditJsonLine(record);
}
