// Model-call accounting with everything real but the model: audit log, state store, metrics, kill switch.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { emptyPolicyState } from '../../../agent-image/src/domain/policy/policy-state.ts';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import { ModelOutputError, type TokenUsage } from '../../../agent-image/src/ports/llm-client.ts';
import type { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { llmCostUsd } from '../../../agent-image/src/services/mail-loop/llm-cost.ts';
import { ModelBudget } from '../../../agent-image/src/services/mail-loop/model-budget.ts';
import { MODEL_CALLS_PER_MESSAGE, callModel } from '../../../agent-image/src/services/mail-loop/model-call.ts';
import { classificationFacts } from '../../../agent-image/src/services/mail-loop/triage-message.ts';
import { KillSwitch } from '../../../agent-image/src/services/runtime/kill-switch.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import { agentStores } from '../../helpers/agent-stores.ts';

const NOW = new Date('2026-03-02T10:00:00Z');
const USAGE: TokenUsage = { model: 'claude-sonnet-4-5', inputTokens: 1200, outputTokens: 80 };
const retry = { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 3, sleep: async () => undefined };

const stores = agentStores('model-call-');

async function setup() {
  const { directory, audit, state } = await stores.open(() => NOW);
  const kill = new KillSwitch(join(directory, 'killed.json'));
  const registry = new Registry();
  const parsed = parseClientConfig({ client: 'acme' });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  const partial = {
    config: parsed.config,
    audit,
    state,
    kill,
    metrics: new AgentMetrics(registry, { client: 'acme', version: '1.0.0' }),
    logger: createSilentLogger(),
    now: () => NOW,
    policyState: () => ({ ...emptyPolicyState(), killed: kill.killed }),
  };
  const modelBudget = new ModelBudget({ ...partial, alert: async () => undefined });
  return { context: { ...partial, modelBudget } as unknown as RuntimeContext, audit, state, kill, registry };
}

/** The records once `count` are durable: a successful call's record is written without being awaited. */
async function durableRecords(audit: AuditLog, count: number) {
  for (let waited = 0; (audit.head()?.seq ?? 0) < count && waited < 200; waited++) await new Promise((resolve) => setTimeout(resolve, 10));
  return audit.read();
}

/** The input and output token counters (the cache kinds are never touched here). */
async function tokens(registry: Registry): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric('agent_llm_tokens_total');
  assert.ok(metric !== undefined);
  const counted: Record<string, number> = {};
  for (const sample of (await metric.get()).values) {
    const kind = String(sample.labels['kind']);
    if (kind === 'input' || kind === 'output') counted[kind] = sample.value;
  }
  return counted;
}

describe('a model call about a message', () => {
  test('its answer is returned, its tokens counted, and the call audited with its cost and facts', async () => {
    const { context, audit, registry } = await setup();
    const result = await callModel(
      { context, retry },
      'classify',
      'm-1',
      async () => ({ value: { type: 'routine', confidence: 0.9, reasons: ['a question'] }, usage: USAGE }),
      classificationFacts,
    );
    assert.equal(result.ok, true);
    assert.deepEqual(result.ok && result.value.type, 'routine');
    assert.deepEqual(await tokens(registry), { input: 1200, output: 80 });
    const records = await durableRecords(audit, 1);
    assert.equal(records.length, 1);
    assert.equal(records[0]?.action_type, 'llm_call');
    assert.equal(records[0]?.actor, 'agent');
    assert.equal(records[0]?.target, 'm-1');
    assert.equal(records[0]?.result, 'success');
    assert.deepEqual(records[0]?.parameters, {
      purpose: 'classify',
      message_id: 'm-1',
      model: 'claude-sonnet-4-5',
      input_tokens: 1200,
      output_tokens: 80,
      cost_usd: llmCostUsd(USAGE),
      email_type: 'routine',
      confidence: 0.9,
    });
  });

  test('a throttled call is retried, and only the answer that came is counted', async () => {
    const { context, audit, registry } = await setup();
    let calls = 0;
    const result = await callModel({ context, retry }, 'draft', 'm-2', async () => {
      calls++;
      if (calls === 1) throw new FleetError('unavailable', 'overloaded', { retryable: true });
      return { value: { subject: 'Re: hi', body: 'Hello' }, usage: USAGE };
    });
    assert.equal(result.ok, true);
    assert.equal(calls, 2);
    assert.deepEqual(await tokens(registry), { input: 1200, output: 80 });
    assert.equal((await durableRecords(audit, 1)).length, 1);
  });

  test('malformed output is audited as a failed call, and the message goes to review', async () => {
    const { context, audit, state, registry } = await setup();
    const result = await callModel({ context, retry }, 'draft', 'm-3', async () => {
      throw new ModelOutputError('not the agreed shape', USAGE, ['body: required', 'subject: required', 'x', 'y']);
    });
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.progress, { stage: 'review', at: NOW.toISOString(), reviewReason: 'malformed_model_output' });
    assert.deepEqual(state.progress('m-3'), { stage: 'review', at: NOW.toISOString(), reviewReason: 'malformed_model_output' });
    assert.deepEqual(await tokens(registry), { input: 1200, output: 80 }, 'tokens spent on an unusable answer still count');
    const records = await audit.read();
    assert.deepEqual(
      records.map((record) => [record.action_type, record.result]),
      [
        ['llm_call', 'failure'],
        ['review_queued', 'pending'],
      ],
    );
    assert.deepEqual(records[0]?.parameters['issues'], ['body: required', 'subject: required', 'x']);
    assert.deepEqual(records[1]?.parameters, { message_id: 'm-3', reason: 'malformed_model_output', purpose: 'draft' });
    assert.equal(records[1]?.approval_status, 'pending');
  });

  test('any other error goes back to the caller, with nothing counted or audited', async () => {
    const { context, audit, state, registry } = await setup();
    await assert.rejects(
      callModel({ context, retry }, 'classify', 'm-4', async () => {
        throw new FleetError('unauthorized', 'key revoked');
      }),
      /key revoked/,
    );
    assert.deepEqual(await tokens(registry), { input: 0, output: 0 });
    assert.equal((await audit.read()).length, 0);
    assert.equal(state.progress('m-4'), undefined);
  });

  test('once killed the model is not asked at all', async () => {
    const { context, kill } = await setup();
    await kill.engage({ reason: 'test', by: 'ops', at: NOW });
    let asked = false;
    await assert.rejects(
      callModel({ context, retry }, 'classify', 'm-5', async () => {
        asked = true;
        return { value: {}, usage: USAGE };
      }),
      (error: unknown) => error instanceof FleetError && error.code === 'killed',
    );
    assert.equal(asked, false);
  });

  test('a message asked about again and again goes to review once it has had its share of answers', async () => {
    const { context, state, audit } = await setup();
    let asked = 0;
    const answer = async () => {
      asked++;
      return { value: { type: 'routine' }, usage: USAGE };
    };
    // A stage failing after its answer (the mailbox refusing a label as transient) asks again each round.
    for (let round = 0; round < MODEL_CALLS_PER_MESSAGE; round++) {
      assert.equal((await callModel({ context, retry }, 'classify', 'm-6', answer)).ok, true);
    }
    const capped = await callModel({ context, retry }, 'classify', 'm-6', answer);
    assert.equal(asked, MODEL_CALLS_PER_MESSAGE, 'the model is not asked once the share is spent');
    assert.deepEqual(!capped.ok && capped.progress, { stage: 'review', at: NOW.toISOString(), reviewReason: 'model_call_limit' });
    assert.equal(state.progress('m-6')?.reviewReason, 'model_call_limit');
    const review = (await durableRecords(audit, MODEL_CALLS_PER_MESSAGE + 1)).at(-1);
    assert.deepEqual(review?.parameters, { message_id: 'm-6', reason: 'model_call_limit', purpose: 'classify', model_calls: MODEL_CALLS_PER_MESSAGE });
    assert.equal((await callModel({ context, retry }, 'classify', 'm-7', answer)).ok, true, 'other messages are still answered');
    // A human sends it back from review for one more try: it gets a fresh share, once.
    await state.setProgress('m-6', { stage: 'queued', at: NOW.toISOString(), reviewRetriedFrom: 'model_call_limit' });
    assert.equal((await callModel({ context, retry }, 'classify', 'm-6', answer)).ok, true, 'the retry is answered');
    assert.equal(asked, MODEL_CALLS_PER_MESSAGE + 2);
  });

  test('unusable answers count towards the share too: they are billed as well', async () => {
    const { context } = await setup();
    const malformed = async (): Promise<never> => {
      throw new ModelOutputError('not the agreed shape', USAGE, ['type: invalid']);
    };
    for (let round = 0; round < MODEL_CALLS_PER_MESSAGE; round++) await callModel({ context, retry }, 'draft', 'm-8', malformed);
    const capped = await callModel({ context, retry }, 'draft', 'm-8', malformed);
    assert.deepEqual(!capped.ok && capped.progress, { stage: 'review', at: NOW.toISOString(), reviewReason: 'model_call_limit' });
  });

  test('a kill during the backoff ends the call: no attempt after it', async () => {
    const { context, kill } = await setup();
    let calls = 0;
    const killedWhileWaiting = { ...retry, sleep: () => kill.engage({ reason: 'test', by: 'ops', at: NOW }) };
    await assert.rejects(
      callModel({ context, retry: killedWhileWaiting }, 'classify', 'm-9', async () => {
        calls++;
        throw new FleetError('unavailable', 'overloaded', { retryable: true });
      }),
      (error: unknown) => error instanceof FleetError && error.code === 'killed',
    );
    assert.equal(calls, 1);
  });
});
