import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  approvalStatusAt, approve, approveEdited, authorizesExecution, canonicalJson, createApproval, expireApproval, hashArguments, reject,
  type ApprovalRecord,
} from '../../../agent-image/src/domain/approval.ts';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import { config, NOW, send, state } from './fixtures.ts';

const later = (hours: number) => new Date(NOW.getTime() + hours * 3_600_000);
const admin = { by: 'admin@acme.com', via: 'orchestrator-api' };

function pending(args: unknown = send({ to: 'stranger@else.com' })): ApprovalRecord {
  const result = createApproval({ id: 'ap-1', actionKind: 'mail.send', arguments: args, policyReasons: ['new_contact'], now: NOW, timeoutHours: 72 });
  assert.ok(result.ok);
  return result.record;
}

function ok(result: ReturnType<typeof approve>): ApprovalRecord {
  assert.ok(result.ok, JSON.stringify(result));
  return result.record;
}

describe('canonical JSON and hashing', () => {
  it('ignores key order and undefined members', () => {
    assert.equal(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined }), '{"a":[true,null,"x"],"b":1}');
    assert.equal(hashArguments({ a: 1, b: 2 }), hashArguments({ b: 2, a: 1 }));
    assert.match(hashArguments({}), /^sha256:[0-9a-f]{64}$/);
  });

  it('changes with any value change, including nested ones', () => {
    assert.notEqual(hashArguments({ to: ['a@x.com'] }), hashArguments({ to: ['a@x.com', 'b@x.com'] }));
    assert.notEqual(hashArguments({ n: 1 }), hashArguments({ n: '1' }));
  });

  it('rejects values JSON cannot represent faithfully', () => {
    for (const value of [Number.NaN, Infinity, 1n, () => 1, [undefined], new Date(0), Symbol('x')]) {
      assert.throws(() => canonicalJson(value), TypeError);
    }
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    assert.throws(() => canonicalJson(cyclic), TypeError);
  });
});

describe('approval lifecycle', () => {
  it('binds the approval to the hash of the proposed arguments', () => {
    const record = ok(approve(pending(), { ...admin, now: later(1) }));
    assert.equal(record.status, 'approved');
    assert.equal(record.approvedHash, record.proposedHash);
    assert.deepEqual(authorizesExecution(record, send({ to: 'stranger@else.com' }), later(2)), { ok: true });
    assert.deepEqual(authorizesExecution(record, send({ to: 'other@else.com' }), later(2)), { ok: false, reason: 'hash_mismatch' });
  });

  it('an edit approves the edited arguments, not the proposal', () => {
    const edited = send({ to: 'stranger@else.com', body: 'Toned down.' });
    const record = ok(approveEdited(pending(), { ...admin, now: later(1), arguments: edited }));
    assert.equal(record.status, 'edited');
    assert.notEqual(record.approvedHash, record.proposedHash);
    assert.deepEqual(authorizesExecution(record, edited, later(2)), { ok: true });
    assert.deepEqual(authorizesExecution(record, send({ to: 'stranger@else.com' }), later(2)), { ok: false, reason: 'hash_mismatch' });
  });

  it('an edit cannot change the kind of action', () => {
    assert.deepEqual(approveEdited(pending(), { ...admin, now: later(1), arguments: { kind: 'files.delete', fileId: '1' } }), { ok: false, error: 'kind_changed' });
  });

  it('a rejection needs a reason and never authorises execution', () => {
    assert.deepEqual(reject(pending(), { ...admin, now: later(1), reason: '  ' }), { ok: false, error: 'reason_required' });
    const record = ok(reject(pending(), { ...admin, now: later(1), reason: 'not a client' }));
    assert.equal(record.decision?.reason, 'not a client');
    assert.deepEqual(authorizesExecution(record, send({ to: 'stranger@else.com' }), later(2)), { ok: false, reason: 'rejected' });
  });

  it('a pending approval past its expiry is expired, never approved, and cannot be decided', () => {
    const record = pending();
    assert.equal(record.expiresAt, later(72).toISOString());
    assert.equal(approvalStatusAt(record, later(71.9)), 'pending');
    assert.equal(approvalStatusAt(record, later(72)), 'expired');
    assert.deepEqual(authorizesExecution(record, send({ to: 'stranger@else.com' }), later(73)), { ok: false, reason: 'expired' });
    assert.deepEqual(approve(record, { ...admin, now: later(72) }), { ok: false, error: 'expired' });
    const expired = ok(expireApproval(record, later(73)));
    assert.equal(expired.status, 'expired');
    assert.deepEqual(expireApproval(expired, later(74)), { ok: false, error: 'not_pending' });
  });

  it('only authenticated channels can decide; email content is not one', () => {
    assert.deepEqual(approve(pending(), { by: 'admin@acme.com', via: 'email', now: later(1) }), { ok: false, error: 'untrusted_channel' });
    assert.deepEqual(approve(pending(), { by: ' ', via: 'fleet-cli', now: later(1) }), { ok: false, error: 'decider_required' });
  });

  it('a decided approval cannot be decided again', () => {
    const record = ok(approve(pending(), { ...admin, now: later(1) }));
    assert.deepEqual(reject(record, { ...admin, now: later(2), reason: 'changed my mind' }), { ok: false, error: 'not_pending' });
  });

  it('a pending approval does not authorise execution', () => {
    assert.deepEqual(authorizesExecution(pending(), send({ to: 'stranger@else.com' }), later(1)), { ok: false, reason: 'pending' });
  });
});

describe('policy gate with approvals', () => {
  const proposal = send({ to: 'Stranger@Else.com' });
  const parsed = parseProposedAction(proposal);
  assert.ok(parsed.ok);

  it('an approval of the parsed action lets exactly that action through', () => {
    const record = ok(approve(pending(parsed.action), { ...admin, now: later(1) }));
    const decision = evaluatePolicy(proposal, config(), state(), later(2), { approval: record });
    assert.equal(decision.decision, 'allow');
    assert.deepEqual(decision.reasons, ['approved']);
    const changed = evaluatePolicy(send({ to: 'stranger@else.com', body: 'changed' }), config(), state(), later(2), { approval: record });
    assert.equal(changed.decision, 'needs_approval');
    assert.match(changed.details?.join(' ') ?? '', /hash_mismatch/);
  });

  it('an approval never overrides kill, permission, dry run, pause or rate limits', () => {
    const record = ok(approve(pending(parsed.action), { ...admin, now: later(1) }));
    const run = (cfg = config(), st = state()) => evaluatePolicy(proposal, cfg, st, later(2), { approval: record });
    assert.deepEqual(run(config(), state({ killed: true })).reasons, ['killed']);
    assert.deepEqual(run(config({ permissions: { 'mail.read': true } })).reasons, ['permission_denied']);
    assert.deepEqual(run(config({ dryRun: true })).reasons, ['dry_run']);
    assert.deepEqual(run(config(), state({ paused: true })).reasons, ['paused']);
    assert.deepEqual(run(config({ rateLimits: { perHour: 0, perDay: 0 } })).reasons, ['rate_limit_hour', 'rate_limit_day']);
  });

  it('an expired approval leaves the action held', () => {
    const decision = evaluatePolicy(proposal, config(), state(), later(80), { approval: pending(parsed.action) });
    assert.equal(decision.decision, 'needs_approval');
    assert.match(decision.details?.join(' ') ?? '', /expired/);
  });
});
