import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AUDIT_RECORD_FIELDS } from '@agent-fleet/kernel/audit-export-format';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { chainRecord, type AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import { eraseFields, hashOpsLogEntry, newSeals } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import type { OpsLogEntry } from '../../../orchestrator/src/domain/ops-log-entry.ts';
import {
  auditRecordsToCsv,
  auditRecordsToJsonl,
  opsLogToJsonl,
  parseAuditJsonl,
  splitLines,
} from '../../../orchestrator/src/services/export/record-converters.ts';

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function records(): AuditRecord[] {
  const first = chainRecord(
    {
      timestamp: '2026-12-04T10:00:00.000Z',
      action_type: 'email_send',
      actor: 'agent',
      target: '=HYPERLINK("http://evil")',
      parameters: { subject: 'Re: "quote", with comma', recipients: 2 },
      approval_status: 'approved',
      approved_by: 'admin:alice',
      result: 'success',
      content_hash: 'a'.repeat(64),
    },
    null,
  );
  const second = chainRecord(
    {
      timestamp: '2026-12-04T10:01:00.000Z',
      action_type: 'email_read',
      actor: 'agent',
      target: null,
      parameters: { note: 'line one\nline two — ünïcode' },
      approval_status: 'not_required',
      approved_by: null,
      result: 'success',
      content_hash: null,
    },
    first,
  );
  return [first, second];
}

void describe('export converters', () => {
  void test('CSV has a header, quotes commas, quotes and newlines, and defuses formula-looking cells', async () => {
    const csv = await text(auditRecordsToCsv(records()));
    const lines = csv.split('\r\n');
    assert.equal(lines[0], AUDIT_RECORD_FIELDS.join(','));
    assert.ok(csv.includes(`"'=HYPERLINK(""http://evil"")"`));
    assert.ok(csv.includes('"{""subject"":""Re: \\""quote\\"", with comma"",""recipients"":2}"'));
    assert.ok(csv.endsWith('\r\n'));
  });

  void test('JSONL round-trips through the parser, split at any byte, multibyte characters included', async () => {
    const jsonl = Buffer.from(await text(auditRecordsToJsonl(records())));
    for (const size of [1, 3, 17, jsonl.length]) {
      const chunks = async function* () {
        for (let at = 0; at < jsonl.length; at += size) yield jsonl.subarray(at, at + size);
      };
      assert.deepEqual(
        await collect(parseAuditJsonl(chunks())),
        JSON.parse(`[${jsonl.toString().trim().split('\n').join(',')}]`),
      );
    }
  });

  void test('malformed audit lines are refused with their line number; over-long lines are refused', async () => {
    const good = await text(auditRecordsToJsonl(records().slice(0, 1)));
    await assert.rejects(collect(parseAuditJsonl([good, '{"seq":2}\n'])), /audit line 2 lacks timestamp/);
    await assert.rejects(collect(parseAuditJsonl([good, 'not json\n'])), /audit line 2 is not JSON/);
    await assert.rejects(collect(parseAuditJsonl(['[1]\n'])), /line 1 is not a JSON object/);
    await assert.rejects(
      collect(splitLines(['x'.repeat(50), 'y'.repeat(60)], 100)),
      (e: unknown) =>
        isFleetError(e) && e.code === 'integrity' && /line 1 is longer than 100 bytes/.test(e.message),
    );
    assert.deepEqual(await collect(splitLines(['a\r\nb', '\n', 'c'])), [
      { line: 'a', number: 1 },
      { line: 'b', number: 2 },
      { line: 'c', number: 3 },
    ]);
  });

  void test('ops-log entries become JSON lines in a fixed field order, with their chain hashes intact', async () => {
    const unhashed = {
      seq: 1,
      at: '2026-12-04T10:00:00.000Z',
      actor: 'ops:bob',
      action: 'kill',
      clientId: 'acme',
      reason: 'incident 42',
      outcome: 'ok',
      details: { revoked: 2 },
      prevHash: '0'.repeat(64),
    };
    const entry: OpsLogEntry = { ...unhashed, hash: hashOpsLogEntry(unhashed) };
    const jsonl = await text(opsLogToJsonl([entry]));
    assert.equal(
      jsonl,
      `{"seq":1,"at":"2026-12-04T10:00:00.000Z","actor":"ops:bob","action":"kill","clientId":"acme","reason":"incident 42","outcome":"ok","details":{"revoked":2},"prevHash":"${'0'.repeat(64)}","hash":"${entry.hash}"}\n`,
    );
    assert.equal(hashOpsLogEntry(JSON.parse(jsonl) as OpsLogEntry), entry.hash);

    // An entry with seals, one field erased: the line carries the seals, so its hash can still be checked.
    const sealedUnhashed = { ...unhashed, seals: newSeals(() => 'salt') };
    const erased = eraseFields({ ...sealedUnhashed, hash: hashOpsLogEntry(sealedUnhashed) }, ['reason'], new Date('2026-12-05T00:00:00Z'));
    const line = JSON.parse(await text(opsLogToJsonl([erased]))) as OpsLogEntry;
    assert.equal(line.reason, null);
    assert.equal(line.erasedAt, '2026-12-05T00:00:00.000Z');
    assert.equal(hashOpsLogEntry(line), erased.hash);
  });
});
