import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as z from 'zod';
import { draftOf, editedArguments } from '../../../orchestrator/src/portal/gateway/approval-mapping.ts';
import { auditEventOf } from '../../../orchestrator/src/portal/gateway/audit-event.ts';
import {
  addressList,
  isoDate,
  nextPath,
  parseForm,
  requiredText,
} from '../../../orchestrator/src/portal/http/forms.ts';
import { PageError } from '../../../orchestrator/src/portal/http/page-error.ts';
import { nextFailureState } from '../../../orchestrator/src/portal/identity/lockout.ts';

const t = (ms: number) => new Date(Date.UTC(2026, 2, 1) + ms);
const policy = { maxFailures: 3, windowMs: 60_000 };

void test('lockout: the limit within the window locks for one period, failures while locked change nothing, then a new count', () => {
  let state = nextFailureState(null, t(0), policy);
  state = nextFailureState(state, t(1000), policy);
  assert.equal(state.lockedUntil, null);
  state = nextFailureState(state, t(2000), policy);
  assert.deepEqual(state.lockedUntil, t(62_000));
  assert.equal(nextFailureState(state, t(30_000), policy), state);
  assert.deepEqual(nextFailureState(state, t(62_000), policy), {
    failures: 1,
    windowStartedAt: t(62_000),
    lockedUntil: null,
  });
  const slow = nextFailureState(nextFailureState(null, t(0), policy), t(61_000), policy);
  assert.equal(slow.failures, 1, 'failures spread beyond the window do not add up');
});

void test('forms: the first problem is a 400 naming its field; unknown fields are refused', () => {
  const schema = z.object({ reason: requiredText(10), to: addressList(2) }).strict();
  const failure = (body: unknown) => {
    try {
      parseForm(schema, body);
    } catch (error) {
      assert.ok(error instanceof PageError);
      return [error.status, error.field, error.message];
    }
    return null;
  };
  assert.deepEqual(failure({ reason: ' ', to: 'a@b.co' }), [400, 'reason', 'reason: is required']);
  assert.deepEqual(failure({ reason: 'x'.repeat(11), to: 'a@b.co' }), [
    400,
    'reason',
    'reason: is limited to 10 characters',
  ]);
  assert.deepEqual(failure({ reason: 'ok', to: 'a@b.co, c@d.co, e@f.co' }), [
    400,
    'to',
    'to: has more than 2 addresses',
  ]);
  assert.deepEqual(failure({ reason: 'ok', to: 'a@b.co', extra: '1' }), [
    400,
    'extra',
    'extra: is not a field of this form',
  ]);
  assert.deepEqual(parseForm(schema, { reason: ' ok ', to: 'a@b.co;\nc@d.co' }), {
    reason: 'ok',
    to: ['a@b.co', 'c@d.co'],
  });
});

void test('a return path after sign-in stays inside the portal; dates are real dates', () => {
  for (const good of ['/approvals', '/a/l1.abc.def', '/activity?type=email_send&from=2026-01-01'])
    assert.ok(nextPath.safeParse(good).success, good);
  for (const bad of ['//evil.example', '/\\evil.example', 'https://evil.example', 'approvals', '/x y'])
    assert.ok(!nextPath.safeParse(bad).success, bad);
  assert.ok(isoDate.safeParse('2026-02-28').success);
  assert.ok(!isoDate.safeParse('2026-02-30').success);
  assert.ok(!isoDate.safeParse('2026-2-3').success);
});

void test('the draft of a message action comes from the gate arguments; an edit keeps kind, bcc and thread', () => {
  const args = {
    kind: 'mail.send',
    to: ['a@b.co'],
    cc: null,
    bcc: ['x@y.co'],
    subject: 'Hi',
    body: 'Body',
    inReplyTo: 'm-1',
  };
  assert.deepEqual(draftOf('mail.send', args), {
    to: ['a@b.co'],
    cc: [],
    bcc: ['x@y.co'],
    subject: 'Hi',
    body: 'Body',
  });
  assert.equal(draftOf('calendar.write', args), null);
  assert.deepEqual(editedArguments(args, { to: ['c@d.co'], cc: [], subject: 'New', body: 'Edited' }), {
    kind: 'mail.send',
    to: ['c@d.co'],
    cc: [],
    bcc: ['x@y.co'],
    subject: 'New',
    body: 'Edited',
    inReplyTo: 'm-1',
  });
});

void test('an agent audit record maps to the fields the activity page shows; anything else is dropped', () => {
  const record = {
    seq: 7,
    timestamp: t(7).toISOString(),
    action_type: 'email_send',
    actor: 'agent',
    target: 'client@example.com',
    result: 'success',
    approval_status: 'approved',
    parameters: { subject: 'not shown' },
  };
  assert.deepEqual(auditEventOf(record), {
    seq: 7,
    at: t(7).toISOString(),
    type: 'email_send',
    actor: 'agent',
    target: 'client@example.com',
    result: 'success',
    approval: 'approved',
  });
  assert.equal(auditEventOf({ ...record, seq: '7' }), null);
  assert.equal(auditEventOf('not a record'), null);
  assert.equal(auditEventOf(null), null);
});
