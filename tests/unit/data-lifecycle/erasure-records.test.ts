import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalJson, sha256Hex } from '@agent-fleet/kernel/canonical-json';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { OpsLogEntry } from '../../../orchestrator/src/domain/ops-log-entry.ts';
import { deletionCertificate } from '../../../orchestrator/src/services/erasure/deletion-certificate.ts';
import { foldErasureRequests, openErasureRequests, parseRequestId } from '../../../orchestrator/src/services/erasure/erasure-records.ts';

let seq = 0;
function entry(action: string, clientId: string, details: Record<string, unknown>, at: string, outcome = 'success'): OpsLogEntry {
  seq++;
  return { seq, at, actor: 'op', action, clientId, reason: null, outcome, details, prevHash: '', hash: '' };
}

describe('erasure requests in the ops log', () => {
  test('a request is open until its client is erased; the deadline is 30 days after receipt', () => {
    const log = [
      entry('erasure-request', 'acme', { requestId: 'DSR-1', receivedAt: '2026-11-01T09:00:00.000Z' }, '2026-11-02T10:00:00.000Z', 'pending'),
      entry('erasure-request', 'beta', { requestId: 'DSR-2' }, '2026-11-20T10:00:00.000Z', 'pending'),
      entry('erasure-request', 'acme', { requestId: 'DSR-1', receivedAt: '2026-11-05T09:00:00.000Z' }, '2026-11-05T10:00:00.000Z', 'pending'),
      entry('erase', 'acme', { requestId: 'DSR-1' }, '2026-11-10T10:00:00.000Z'),
    ];
    const all = foldErasureRequests(log);
    assert.deepEqual(
      all.map((request) => [request.clientId, request.requestId, request.receivedAt, request.deadline, request.erasedAt]),
      [
        ['acme', 'DSR-1', '2026-11-01T09:00:00.000Z', '2026-12-01T09:00:00.000Z', '2026-11-10T10:00:00.000Z'],
        ['beta', 'DSR-2', '2026-11-20T10:00:00.000Z', '2026-12-20T10:00:00.000Z', null],
      ],
      'the first record of a request counts; without receivedAt the entry time is the receipt',
    );
    assert.deepEqual(openErasureRequests(log).map((request) => request.requestId), ['DSR-2']);
  });

  test('a failed erasure settles nothing', () => {
    const log = [entry('erasure-request', 'gamma', { requestId: 'R1' }, '2026-11-01T00:00:00.000Z', 'pending'), entry('erase', 'gamma', { requestId: 'R1' }, '2026-11-02T00:00:00.000Z', 'failed')];
    assert.equal(openErasureRequests(log).length, 1);
  });

  test('request ids are short printable names', () => {
    assert.equal(parseRequestId('DSR-2026-014'), 'DSR-2026-014');
    for (const bad of ['', ' DSR', 'a'.repeat(65), 'x/y', 42]) assert.throws(() => parseRequestId(bad), (error) => isFleetError(error) && error.code === 'invalid_input');
  });
});

describe('the deletion certificate', () => {
  test('carries the tombstone, its SHA-256 over the canonical JSON, and whether the deadline was met', () => {
    const tombstone = { clientId: 'acme', createdAt: '2026-01-01T00:00:00.000Z', erasedAt: '2026-11-10T10:00:00.000Z', requestId: 'DSR-1', requestReceivedAt: '2026-11-01T09:00:00.000Z' };
    const certificate = deletionCertificate({ tombstone, erasedBy: 'op', deadline: '2026-12-01T09:00:00.000Z', steps: [{ what: 'data-key', outcome: 'destroyed', detail: '' }] });
    assert.equal(certificate.tombstoneSha256, sha256Hex(canonicalJson(tombstone)));
    assert.equal(certificate.withinDeadline, true);
    assert.equal(deletionCertificate({ tombstone, erasedBy: 'op', deadline: '2026-11-09T00:00:00.000Z', steps: [] }).withinDeadline, false);
    assert.notEqual(deletionCertificate({ tombstone: { ...tombstone, requestId: 'DSR-9' }, erasedBy: 'op', deadline: '', steps: [] }).tombstoneSha256, certificate.tombstoneSha256);
  });
});
