import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GENESIS_HASH, canonicalJson, chainRecord, hashRecord, parseAuditRecord, validateAuditEntry, type AuditEntry, type AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import { verifyChain } from '../../../agent-image/src/domain/audit-chain.ts';

function entry(index: number): AuditEntry {
  return {
    timestamp: new Date(Date.UTC(2026, 0, 7, 10, 30, index)).toISOString(),
    action_type: 'email_send',
    actor: 'agent',
    target: `client${index}@example.com`,
    parameters: { subject: `Invoice #${index}`, recipients: 1 },
    approval_status: 'approved',
    approved_by: 'human',
    result: 'success',
    content_hash: null,
  };
}

function chain(length: number): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (let index = 0; index < length; index++) {
    const previous = records.at(-1);
    records.push(chainRecord(entry(index), previous === undefined ? null : { seq: previous.seq, hash: previous.hash }));
  }
  return records;
}

function rehash(record: AuditRecord): AuditRecord {
  return { ...record, hash: hashRecord(record) };
}

describe('audit record', () => {
  it('canonical JSON sorts keys at every depth and ignores insertion order', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, 'x'], c: null } }), '{"a":{"c":null,"d":[1,"x"]},"b":1}');
    assert.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
    assert.throws(() => canonicalJson({ a: Number.NaN }), /non-finite/);
  });

  it('the first record links to the genesis hash and each next one to its predecessor', () => {
    const records = chain(3);
    assert.equal(records[0]?.seq, 1);
    assert.equal(records[0]?.prev_hash, GENESIS_HASH);
    assert.equal(records[1]?.prev_hash, records[0]?.hash);
    assert.equal(records[2]?.seq, 3);
    assert.match(records[2]?.hash ?? '', /^[0-9a-f]{64}$/);
  });

  it('an intact chain verifies and reports its head', () => {
    const records = chain(5);
    const result = verifyChain(records);
    assert.deepEqual(result, { ok: true, count: 5, head: { seq: 5, hash: records[4]?.hash } });
  });

  it('an edited field without a new hash is reported as edited at that seq', () => {
    const records = chain(5);
    records[2] = { ...(records[2] as AuditRecord), target: 'attacker@evil.test' };
    const result = verifyChain(records);
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && [result.break.kind, result.break.seq], ['edited', 3]);
  });

  it('an edit with a recomputed hash is caught by the next link and names the edited seq', () => {
    const records = chain(5);
    records[1] = rehash({ ...(records[1] as AuditRecord), result: 'failure' });
    const result = verifyChain(records);
    assert.deepEqual(!result.ok && [result.break.kind, result.break.seq], ['edited', 2]);
  });

  it('a deleted record is a gap at its seq', () => {
    const records = chain(6);
    records.splice(3, 1);
    const result = verifyChain(records);
    assert.deepEqual(!result.ok && [result.break.kind, result.break.seq], ['gap', 4]);
  });

  it('two swapped records are reported as reordered, not deleted', () => {
    const records = chain(6);
    const [fourth, fifth] = [records[3] as AuditRecord, records[4] as AuditRecord];
    records[3] = fifth;
    records[4] = fourth;
    const result = verifyChain(records);
    assert.deepEqual(!result.ok && [result.break.kind, result.break.seq], ['reordered', 4]);
  });

  it('a duplicated record is reported as a duplicate', () => {
    const records = chain(4);
    records.splice(3, 0, records[2] as AuditRecord);
    const result = verifyChain(records);
    assert.deepEqual(!result.ok && [result.break.kind, result.break.seq], ['duplicate', 3]);
  });

  it('a truncated tail verifies alone but not against the checkpoint', () => {
    const records = chain(6);
    const checkpoint = { seq: 6, hash: (records[5] as AuditRecord).hash };
    const truncated = records.slice(0, 4);
    assert.equal(verifyChain(truncated).ok, true);
    const result = verifyChain(truncated, checkpoint);
    assert.deepEqual(!result.ok && [result.break.kind, result.break.seq], ['truncated', 5]);
  });

  it('a whole chain rewritten by someone holding the key is caught by the checkpoint', () => {
    const original = chain(4);
    const checkpoint = { seq: 3, hash: (original[2] as AuditRecord).hash };
    const forged: AuditRecord[] = [];
    for (const record of original) {
      const previous = forged.at(-1);
      forged.push(chainRecord({ ...record, actor: 'forger' }, previous ? { seq: previous.seq, hash: previous.hash } : null));
    }
    assert.equal(verifyChain(forged).ok, true);
    const result = verifyChain(forged, checkpoint);
    assert.deepEqual(!result.ok && [result.break.kind, result.break.seq], ['rewritten', 3]);
  });

  it('entries with bad fields are rejected with the field named', () => {
    const bad = { ...entry(1), timestamp: '2026-01-07 10:30', action_type: 'email_teleport', content_hash: 'abc' };
    const problems = validateAuditEntry(bad as unknown as AuditEntry);
    assert.equal(problems.length, 3);
    assert.match(problems.join('\n'), /timestamp/);
    assert.match(problems.join('\n'), /action_type/);
    assert.match(problems.join('\n'), /content_hash/);
  });

  it('parsing rejects unknown fields and missing chain fields', () => {
    const record = chain(1)[0] as AuditRecord;
    assert.equal(parseAuditRecord(record).ok, true);
    const parsed = parseAuditRecord({ ...record, extra: 1, seq: 0 });
    assert.equal(parsed.ok, false);
    assert.match(!parsed.ok ? parsed.problems.join(';') : '', /unknown field "extra".*|seq must be/);
  });
});
