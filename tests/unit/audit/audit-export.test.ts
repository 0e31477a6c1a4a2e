import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import type { AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import { AUDIT_CSV_COLUMNS, csvCell } from '@agent-fleet/kernel/audit-export-format';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { dataKey, temporaryDirectory } from './helpers.ts';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

/** An RFC 4180 reader written independently of the exporter, to check what spreadsheets would see. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        cell += '"';
        index++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(cell);
      cell = '';
    } else if (char === '\r' && text[index + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      index++;
    } else cell += char;
  }
  assert.equal(quoted, false, 'unterminated quoted cell');
  assert.equal(cell + row.join(''), '', 'CSV must end with CRLF');
  return rows;
}

function unescapeFormula(cell: string): string {
  return cell.startsWith("'") ? cell.slice(1) : cell;
}

async function capture(log: AuditLog, format: 'jsonl' | 'csv', range = {}): Promise<{ text: string; count: number }> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  const count = await log.exportTo(format, sink, range);
  sink.end();
  return { text: Buffer.concat(chunks).toString('utf8'), count };
}

const awkward = [
  { target: 'The "Boss", Smith\n<john@example.com>', subject: 'He said "hi"\nthen left' },
  { target: '=HYPERLINK("http://evil.test","click")', subject: "'quoted, with apostrophe" },
  { target: null, subject: ' leading space' },
];

async function awkwardLog(): Promise<{ log: AuditLog; records: AuditRecord[] }> {
  const dir = await temporaryDirectory('audit-export');
  cleanups.push(dir.remove);
  let second = 0;
  const log = await AuditLog.open({
    directory: dir.path,
    keys: dataKey(),
    now: () => new Date(Date.UTC(2026, 0, 7, 9, 0, second++)),
  });
  const records: AuditRecord[] = [];
  for (const { target, subject } of awkward) {
    records.push(
      await log.append({
        action_type: 'email_draft',
        actor: 'agent',
        target,
        parameters: { subject, nested: { list: [1, 'a,b'] } },
        approval_status: 'pending',
        approved_by: null,
        result: 'success',
        content_hash: 'a'.repeat(64),
      }),
    );
  }
  return { log, records };
}

describe('audit export', () => {
  it('JSON lines round-trip every field of every record', async () => {
    const { log, records } = await awkwardLog();
    const { text, count } = await capture(log, 'jsonl');
    assert.equal(count, 3);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.deepEqual(
      lines.map((line) => JSON.parse(line) as AuditRecord),
      records,
    );
    await log.close();
  });

  it('CSV quotes commas, quotes and newlines and round-trips the fields', async () => {
    const { log, records } = await awkwardLog();
    const { text } = await capture(log, 'csv');
    assert.ok(text.includes('"The ""Boss"", Smith\n<john@example.com>"'), 'quotes doubled, cell quoted, newline kept');
    const [header, ...rows] = parseCsv(text);
    assert.deepEqual(header, [...AUDIT_CSV_COLUMNS]);
    assert.equal(rows.length, records.length);
    rows.forEach((row, index) => {
      const record = records[index] as AuditRecord;
      const cells = Object.fromEntries(AUDIT_CSV_COLUMNS.map((column, at) => [column, unescapeFormula(row[at] ?? '')]));
      assert.equal(Number(cells.seq), record.seq);
      assert.equal(cells.timestamp, record.timestamp);
      assert.equal(cells.target, record.target ?? '');
      assert.deepEqual(JSON.parse(cells.parameters as string), record.parameters);
      assert.equal(cells.approval_status, record.approval_status);
      assert.equal(cells.approved_by, '');
      assert.equal(cells.hash, record.hash);
      assert.equal(cells.prev_hash, record.prev_hash);
    });
    await log.close();
  });

  it('CSV never lets a cell start like a spreadsheet formula', () => {
    assert.equal(csvCell('=1+1'), "'=1+1");
    assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
    assert.equal(csvCell("'already"), "''already");
    assert.equal(csvCell('plain'), 'plain');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell(null), '');
  });

  it('exports only records since the given time', async () => {
    const { log, records } = await awkwardLog();
    const since = new Date((records[1] as AuditRecord).timestamp);
    const { text, count } = await capture(log, 'jsonl', { since });
    assert.equal(count, 2);
    assert.deepEqual(
      text.trimEnd().split('\n').map((line) => (JSON.parse(line) as AuditRecord).seq),
      [2, 3],
    );
    await log.close();
  });
});
