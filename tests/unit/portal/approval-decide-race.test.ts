// Two admins deciding one approval at the same moment (one approves from the email link while the other
// edits out a Bcc in the portal): exactly one decision is made, audited and carried out; the other is
// refused as already decided. Real approval store, audit log, outbox, send pipeline and approval desk; a
// gate that holds every send until it is approved (the gate itself is not under test here).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { PolicyEvaluator } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { Outbox } from '../../../agent-image/src/services/outbox/outbox.ts';
import { AgentStateStore } from '../../../agent-image/src/services/runtime/agent-state-store.ts';
import { RuntimeApprovalDesk } from '../../../agent-image/src/services/runtime/approval-desk.ts';
import { ApprovalStore } from '../../../agent-image/src/services/runtime/approval-store.ts';
import { KillSwitch } from '../../../agent-image/src/services/runtime/kill-switch.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import type { MailSend } from '../../../agent-image/src/services/runtime/send-execution.ts';
import { SendPipeline } from '../../../agent-image/src/services/runtime/send-pipeline.ts';
import { FakeSendReceipts } from '../outbox/fake-send-receipts.ts';
import { volumePause } from '../outbox/volume-pause.ts';

const config = (() => {
  const parsed = parseClientConfig({ client: 'acme', mailbox: 'me@acme.example' });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
})();

/** Holds every send for approval; runs one under a valid approval. */
const evaluateParsed: PolicyEvaluator['evaluateParsed'] = (_action, _state, _now, options) =>
  options?.approval === undefined ? { decision: 'needs_approval', reasons: ['new_contact'] } : { decision: 'allow', reasons: ['approved'] };
const holdingGate = { evaluateParsed } as unknown as PolicyEvaluator;

const PROPOSED = { kind: 'mail.send', to: ['client@example.com'], bcc: ['collector@outside.example'], subject: 'Figures', body: 'Attached.', emailType: 'question' };

async function bed() {
  const directory = await mkdtemp(join(tmpdir(), 'decide-race-'));
  const keys = KeyRing.single(randomBytes(32));
  const now = () => new Date('2026-06-01T08:00:00Z');
  const audit = await AuditLog.open({ directory: join(directory, 'audit'), keys, now });
  const state = await AgentStateStore.open({ directory: join(directory, 'state'), keys, now });
  const approvals = await ApprovalStore.open({ directory: join(directory, 'state'), keys, now });
  const kill = new KillSwitch(join(directory, 'KILLED'));
  const provider = new FakeSendReceipts();
  const outbox = await Outbox.open({ directory: join(directory, 'outbox'), keys, audit, now, pause: await volumePause(join(directory, 'pause'), randomBytes(32), []), backoff: { maxAttempts: 1 } });
  await outbox.recover(provider);
  const metrics = new AgentMetrics(new Registry(), { client: 'acme', version: '1.0.0' });
  const settings = { current: () => ({ version: 1, hash: null, config, gate: holdingGate }) };
  const context = {
    settings,
    config,
    gate: holdingGate,
    state,
    approvals,
    audit,
    outbox,
    metrics,
    kill,
    logger: createSilentLogger(),
    now,
    policyState: () => ({ ...state.policy, killed: kill.killed }),
    receipts: () => provider,
    pause: async () => undefined,
  } as unknown as RuntimeContext;
  const pipeline = new SendPipeline(context);
  const desk = new RuntimeApprovalDesk({ approvals, audit, metrics, state, kill, pipeline, outbox, settings, now });
  const parsed = parseProposedAction(PROPOSED);
  assert.ok(parsed.ok && parsed.action.kind === 'mail.send');
  assert.equal(await pipeline.propose(parsed.action as MailSend, { key: 'send-1', messageId: null, draftId: null }), 'approval');
  const [pending] = approvals.list(now(), 'pending');
  assert.ok(pending !== undefined);
  return {
    desk,
    provider,
    id: pending.record.id,
    decisions: async () => (await audit.read()).filter((record) => record.action_type === 'approval_decided'),
    close: async () => {
      await outbox.close();
      await approvals.close();
      await audit.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

describe('one approval decided twice at once', () => {
  let b: Awaited<ReturnType<typeof bed>>;
  beforeEach(async () => {
    b = await bed();
  });
  afterEach(() => b.close());

  test('an approval and an edit dropping the Bcc, at once: one is made and carried out, the other is refused', async () => {
    const results = await Promise.allSettled([
      b.desk.decide(b.id, { decision: 'approve', by: 'dana' }),
      b.desk.decide(b.id, { decision: 'edit', by: 'lee', arguments: { ...PROPOSED, bcc: [] } }),
    ]);
    assert.deepEqual(results.map((result) => result.status), ['fulfilled', 'rejected']);
    assert.match(String((results[1] as PromiseRejectedResult).reason), /already decided/);
    assert.equal((await b.decisions()).length, 1, 'one decision in the audit log');
    assert.equal(b.provider.sendsFor('send-1'), 1);
  });

  test('a rejection racing an approval never leaves a sent email recorded as rejected', async () => {
    const results = await Promise.allSettled([
      b.desk.decide(b.id, { decision: 'approve', by: 'dana' }),
      b.desk.decide(b.id, { decision: 'reject', by: 'lee', reason: 'wrong recipient' }),
    ]);
    assert.deepEqual(results.map((result) => result.status), ['fulfilled', 'rejected']);
    assert.equal(b.desk.approvalAsOf(b.id)?.record.status, 'approved');
    assert.equal((await b.decisions()).length, 1);
  });
});
