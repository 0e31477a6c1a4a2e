import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import type { AuditExportFormat } from '@agent-fleet/kernel/audit-export-format';
import { AuditLog, type AuditAppend, type AuditRange } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { buildOutboundMessage } from '../../../agent-image/src/services/outbox/outbound-message.ts';
import { dataKey, temporaryDirectory } from './helpers.ts';

/**
 * docs/audit-export.md tells auditors how to verify an export without our code. These tests build records
 * with the agent's own code, then verify them with an implementation written here from the doc alone (no
 * import of our hashing or canonical JSON), and run the doc's own Python script, taken from the doc.
 */

const DOC = join(import.meta.dirname, '../../../docs/audit-export.md');
const GENESIS = '0'.repeat(64);
const FIELDS = ['seq', 'timestamp', 'action_type', 'actor', 'target', 'parameters', 'approval_status', 'approved_by', 'result', 'content_hash', 'prev_hash', 'hash'];

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function scratch(): Promise<string> {
  const directory = await temporaryDirectory('audit-doc');
  cleanups.push(directory.remove);
  return directory.path;
}

function fencedBlocks(markdown: string, language: string): string[] {
  const pattern = new RegExp('^```' + language + '\\n([\\s\\S]*?)^```$', 'gm');
  return [...markdown.matchAll(pattern)].map((match) => match[1] as string);
}

function onlyBlock(markdown: string, language: string): string {
  const blocks = fencedBlocks(markdown, language);
  assert.equal(blocks.length, 1, `the doc has exactly one \`\`\`${language} block`);
  return blocks[0] as string;
}

// ── the doc's procedure, implemented independently ─────────────────────────────────────────────────────

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Row = { [field: string]: Json };

const SHORT_ESCAPES: Record<string, string> = { '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r', '"': '\\"', '\\': '\\\\' };

/** A string as the doc's "strings" rule describes it, written out rule by rule. */
function docString(text: string): string {
  let out = '"';
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    const char = text[index] as string;
    const high = unit >= 0xd800 && unit <= 0xdbff;
    const low = unit >= 0xdc00 && unit <= 0xdfff;
    const next = text.charCodeAt(index + 1);
    if (high && next >= 0xdc00 && next <= 0xdfff) {
      out += char + (text[index + 1] as string);
      index++;
    } else if (SHORT_ESCAPES[char] !== undefined) out += SHORT_ESCAPES[char];
    else if (unit < 0x20 || high || low) out += `\\u${unit.toString(16).padStart(4, '0')}`;
    else out += char;
  }
  return `${out}"`;
}

function compareUtf16Units(a: string, b: string): number {
  for (let index = 0; index < Math.min(a.length, b.length); index++) {
    const difference = a.charCodeAt(index) - b.charCodeAt(index);
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

function docCanonical(value: Json): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return String(value); // JavaScript's number form, as the doc says
  if (typeof value === 'string') return docString(value);
  if (Array.isArray(value)) return `[${value.map(docCanonical).join(',')}]`;
  const keys = Object.keys(value).sort(compareUtf16Units);
  return `{${keys.map((key) => `${docString(key)}:${docCanonical(value[key] as Json)}`).join(',')}}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');
}

/** The doc's three checks, in order; returns the first break as text, or null when the chain holds. */
function docVerify(rows: Row[], checkpoint: { seq: number; hash: string } | null = null): string | null {
  let previous: { seq: number; hash: string } | null = null;
  for (const row of rows) {
    if (Object.keys(row).sort().join() !== [...FIELDS].sort().join()) return 'fields';
    const { hash, ...unhashed } = row;
    const seq = row['seq'] as number;
    if (sha256(docCanonical(unhashed)) !== hash) return `edited at ${seq}`;
    if (previous === null && seq === 1 && row['prev_hash'] !== GENESIS) return 'genesis';
    if (previous !== null && seq !== previous.seq + 1) return `sequence at ${previous.seq + 1}`;
    if (previous !== null && row['prev_hash'] !== previous.hash) return `link at ${seq}`;
    if (checkpoint !== null && seq === checkpoint.seq && hash !== checkpoint.hash) return `rewritten at ${seq}`;
    previous = { seq, hash: hash as string };
  }
  if (checkpoint !== null && (previous === null || previous.seq < checkpoint.seq)) return 'truncated';
  return null;
}

function parseJsonl(text: string): Row[] {
  return text.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as Row);
}

/** RFC 4180, written here, then the doc's rules: empty is null, one leading apostrophe removed. */
function parseDocCsv(text: string): Row[] {
  const table: string[][] = [];
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
      table.push(row);
      row = [];
      cell = '';
      index++;
    } else cell += char;
  }
  const [header, ...body] = table;
  assert.deepEqual(header, FIELDS);
  return body.map((cells) => {
    const record: Row = {};
    FIELDS.forEach((field, column) => {
      const raw = cells[column] as string;
      const value = raw.startsWith("'") ? raw.slice(1) : raw;
      record[field] = value === '' ? null : value;
    });
    record['seq'] = Number(record['seq']);
    record['parameters'] = JSON.parse(record['parameters'] as string) as Json;
    return record;
  });
}

// ── records made by the agent's own code ───────────────────────────────────────────────────────────────

async function exportText(log: AuditLog, format: AuditExportFormat, range: AuditRange = {}): Promise<string> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  await log.exportTo(format, sink, range);
  sink.end();
  return Buffer.concat(chunks).toString('utf8');
}

async function openLog(): Promise<AuditLog> {
  const log = await AuditLog.open({ directory: await scratch(), keys: dataKey() });
  cleanups.push(() => log.close());
  return log;
}

function exampleSend(): { entry: Omit<AuditAppend, 'result'>; contentHash: string } {
  const { contentHash } = buildOutboundMessage({ to: ['ana@example.com'], subject: 'Your quote', text: 'Hi Ana, the quote is attached.' }, 'af-example-1');
  return {
    contentHash,
    entry: {
      action_type: 'email_send',
      actor: 'agent',
      target: 'ana@example.com',
      parameters: { idempotency_key: 'af-example-1', recipients: 1, subject: 'Your quote' },
      approval_status: 'approved',
      approved_by: 'human',
      content_hash: contentHash,
    },
  };
}

/** Records whose strings, keys and numbers exercise every canonical JSON rule, across three day files. */
function hostileEntries(): AuditAppend[] {
  const parameters = {
    subject: 'Re: "quote", =SUM(A1)\r\nBcc: x@example.com \\ / \t',
    unicode: 'Olá ☃ 😀 \u2028 \u007f \u0001\u001f',
    lone: 'a\ud800b\udc00c',
    numbers: [1.5, 1e-7, 1e21, -0, 12345678901234567000, 0.1, -3],
    nested: { z: [null, true, false, { y: 'x' }], a: {} },
    '\uff01': 'fullwidth',
    '\u{1F600}': 'astral',
    Z: 1,
    a: 2,
    '': 'empty key',
    ['__proto__']: 'own key',
  };
  const base = { actor: 'agent', approval_status: 'not_required', approved_by: null, result: 'success' } as const;
  return [
    { ...base, timestamp: '2026-11-01T23:59:59.999Z', action_type: 'email_read', target: "'quoted", parameters, content_hash: 'a'.repeat(64) },
    { ...base, timestamp: '2026-11-02T00:00:00Z', action_type: 'llm_call', target: '-1', parameters: { n: 1 } },
    { ...base, timestamp: '2026-11-02T08:00:00.5Z', action_type: 'email_label', target: ' padded ', parameters: {} },
    // The clock stepped back: this record goes to the newer file, and the export keeps chain order.
    { ...base, timestamp: '2026-11-01T12:00:00.000Z', action_type: 'pause', actor: 'admin:ops', target: '@x', parameters: { reason: 'a,b' } },
    { ...base, timestamp: '2026-11-03T10:00:00.000Z', action_type: 'resume', target: null, parameters: { by: '+1' } },
  ];
}

async function hostileLog(): Promise<AuditLog> {
  const log = await openLog();
  for (const entry of hostileEntries()) await log.append(entry);
  return log;
}

describe('the audit export doc', () => {
  it('shows exactly the export the agent writes for its worked example', async () => {
    const doc = await readFile(DOC, 'utf8');
    const { entry } = exampleSend();
    const log = await openLog();
    await log.append({ ...entry, timestamp: '2026-11-02T09:15:04.120Z', result: 'intended' });
    await log.append({ ...entry, timestamp: '2026-11-02T09:15:05.031Z', result: 'success' });
    assert.equal(await exportText(log, 'jsonl'), onlyBlock(doc, 'jsonl'));
    assert.equal(await exportText(log, 'csv'), onlyBlock(doc, 'csv').replaceAll('\n', '\r\n'));
  });

  it('gives hashes in its printf examples that match the text hashed and the records', async () => {
    const doc = await readFile(DOC, 'utf8');
    const examples = [...doc.matchAll(/^printf '%s' '([^']*)' \| sha256sum\n# ([0-9a-f]{64}) {2}-$/gm)];
    assert.equal(examples.length, 2);
    const [recordExample, contentExample] = examples.map((match) => ({ text: match[1] as string, hash: match[2] as string }));
    const [first] = parseJsonl(onlyBlock(doc, 'jsonl'));
    assert.ok(first !== undefined && recordExample !== undefined && contentExample !== undefined);
    const { hash, ...unhashed } = first;
    assert.equal(recordExample.text, docCanonical(unhashed));
    assert.equal(sha256(recordExample.text), hash);
    assert.equal(recordExample.hash, hash);
    // The content hash is the canonical JSON of subject, text and html of the message the outbox built.
    assert.equal(contentExample.text, docCanonical({ subject: 'Your quote', text: 'Hi Ana, the quote is attached.', html: null }));
    assert.equal(sha256(contentExample.text), contentExample.hash);
    assert.equal(exampleSend().contentHash, contentExample.hash);
    assert.equal(first['content_hash'], contentExample.hash);
  });

  it('describes a procedure that verifies real records, from JSONL and from CSV', async () => {
    const log = await hostileLog();
    const head = log.head();
    assert.ok(head !== null && head.seq === 5);
    const fromJsonl = parseJsonl(await exportText(log, 'jsonl'));
    assert.deepEqual(fromJsonl.map((row) => row['seq']), [1, 2, 3, 4, 5]);
    assert.equal(docVerify(fromJsonl, head), null);
    const fromCsv = parseDocCsv(await exportText(log, 'csv'));
    assert.equal(docVerify(fromCsv, head), null);
    assert.deepEqual(fromCsv, fromJsonl);
  });

  it('describes a procedure that finds each kind of break', async () => {
    const rows = parseJsonl(await exportText(await hostileLog(), 'jsonl'));
    const head = { seq: 5, hash: rows[4]?.['hash'] as string };
    const edited = rows.map((row) => (row['seq'] === 3 ? { ...row, result: 'failure' } : row));
    assert.equal(docVerify(edited), 'edited at 3');
    assert.equal(docVerify(rows.filter((row) => row['seq'] !== 3)), 'sequence at 3');
    assert.equal(docVerify([rows[0], rows[2], rows[1], rows[3]] as Row[]), 'sequence at 2');
    assert.equal(docVerify(rows.slice(0, 4), head), 'truncated');
    // History rebuilt from record 2 on: self-consistent, so only the checkpoint tells.
    const rebuilt: Row[] = [rows[0] as Row];
    for (const row of rows.slice(1)) {
      const { hash: _old, ...kept } = row;
      const unhashed: Row = { ...kept, parameters: { rebuilt: true }, prev_hash: rebuilt.at(-1)?.['hash'] as string };
      rebuilt.push({ ...unhashed, hash: sha256(docCanonical(unhashed)) });
    }
    assert.equal(docVerify(rebuilt), null);
    assert.equal(docVerify(rebuilt, head), 'rewritten at 5');
  });

  it('an empty target or approver is written as null, so the CSV export verifies as the JSONL does', async () => {
    const log = await openLog();
    await log.append({ timestamp: '2026-11-02T00:00:00.000Z', action_type: 'llm_call', actor: 'agent', target: '', parameters: {}, approval_status: 'not_required', approved_by: '', result: 'success' });
    const [record] = parseJsonl(await exportText(log, 'jsonl'));
    assert.deepEqual([record?.['target'], record?.['approved_by']], [null, null]);
    assert.equal(docVerify(parseJsonl(await exportText(log, 'jsonl'))), null);
    assert.equal(docVerify(parseDocCsv(await exportText(log, 'csv'))), null);
  });

  // python3 is part of the machine the tests run on (scripts/k8s-tools.sh needs it too): missing, these fail.
  const python = spawnSync('python3', ['--version']).status === 0;

  it('has a Python script that verifies the agent\'s exports and reports breaks', async () => {
    assert.ok(python, 'python3 is not installed: the doc\'s script cannot be checked');
    const doc = await readFile(DOC, 'utf8');
    const directory = await scratch();
    const script = join(directory, 'verify_audit.py');
    await writeFile(script, onlyBlock(doc, 'python'));
    const run = (file: string, ...checkpoint: string[]): { status: number | null; out: string } => {
      const result = spawnSync('python3', [script, file, ...checkpoint], { encoding: 'utf8' });
      assert.equal(result.stderr, '');
      return { status: result.status, out: result.stdout.trim() };
    };
    const log = await hostileLog();
    const head = log.head();
    assert.ok(head !== null);
    const jsonl = join(directory, 'acme-audit.jsonl');
    const csv = join(directory, 'acme-audit.csv');
    await writeFile(jsonl, await exportText(log, 'jsonl'));
    await writeFile(csv, await exportText(log, 'csv'));
    for (const file of [jsonl, csv]) {
      const checked = run(file, String(head.seq), head.hash);
      assert.equal(checked.status, 0, checked.out);
      assert.equal(checked.out, `OK: 5 records, seq 1..5 chained from genesis; head ${head.hash}`);
      assert.equal(run(file, String(head.seq + 1), head.hash).status, 1);
      assert.match(run(file, String(head.seq), 'b'.repeat(64)).out, /^BREAK at seq 5: differs from the checkpoint/);
    }

    // A ranged export starts mid-chain; a record dated before the range (the clock stepped back) is a gap.
    const ranged = join(directory, 'ranged.jsonl');
    await writeFile(ranged, await exportText(log, 'jsonl', { since: new Date('2026-11-03T00:00:00.000Z') }));
    assert.deepEqual(run(ranged), { status: 0, out: `OK: 1 records, seq 5..5 chained from seq 4 (not in this export); head ${head.hash}` });
    await writeFile(ranged, await exportText(log, 'jsonl', { since: new Date('2026-11-02T00:00:00.000Z') }));
    assert.deepEqual(run(ranged), { status: 1, out: 'BREAK at seq 4: expected next, found seq 5 (gap, reorder or duplicate)' });

    const lines = (await readFile(jsonl, 'utf8')).split('\n');
    const edited = join(directory, 'edited.jsonl');
    await writeFile(edited, lines.map((line, index) => (index === 2 ? line.replace('"result":"success"', '"result":"failure"') : line)).join('\n'));
    assert.deepEqual(run(edited), { status: 1, out: 'BREAK at seq 3: the record does not match its hash (edited)' });
    const gap = join(directory, 'gap.jsonl');
    await writeFile(gap, lines.filter((_line, index) => index !== 2).join('\n'));
    assert.deepEqual(run(gap), { status: 1, out: 'BREAK at seq 3: expected next, found seq 4 (gap, reorder or duplicate)' });
  });

  it('has a Python script that agrees with the agent on the worked example', async () => {
    assert.ok(python, 'python3 is not installed: the doc\'s script cannot be checked');
    const doc = await readFile(DOC, 'utf8');
    const directory = await scratch();
    const script = join(directory, 'verify_audit.py');
    await writeFile(script, onlyBlock(doc, 'python'));
    await writeFile(join(directory, 'example.jsonl'), onlyBlock(doc, 'jsonl'));
    const [, second] = parseJsonl(onlyBlock(doc, 'jsonl'));
    const result = spawnSync('python3', [script, join(directory, 'example.jsonl'), '2', second?.['hash'] as string], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });
});
