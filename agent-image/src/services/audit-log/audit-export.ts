import { AUDIT_RECORD_FIELDS, type AuditRecord } from '../../domain/audit-record.ts';

/** Formats a client can take away: JSON lines, or CSV for spreadsheets. */
export type AuditExportFormat = 'jsonl' | 'csv';

export const AUDIT_EXPORT_FORMATS: readonly AuditExportFormat[] = ['jsonl', 'csv'];

export const AUDIT_CSV_COLUMNS = AUDIT_RECORD_FIELDS;

export function toJsonLine(record: AuditRecord): string {
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

export function csvHeader(): string {
  return `${AUDIT_CSV_COLUMNS.join(',')}\r\n`;
}

export function toCsvRow(record: AuditRecord): string {
  const cells = AUDIT_CSV_COLUMNS.map((column) => {
    const value = record[column];
    return csvCell(column === 'parameters' ? JSON.stringify(value) : (value as string | number | null));
  });
  return `${cells.join(',')}\r\n`;
}

/** Export chunks for records, header first for CSV. */
export async function* formatExport(
  format: AuditExportFormat,
  records: AsyncIterable<AuditRecord>,
): AsyncGenerator<string> {
  if (format === 'csv') yield csvHeader();
  for await (const record of records) yield format === 'csv' ? toCsvRow(record) : toJsonLine(record);
}
