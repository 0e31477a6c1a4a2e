// The client's daily model budget: a flood of inbound mail (anyone can send thousands of messages) costs
// at most `modelDailyBudgetUsd` a day. Everything real but the model: audit log, state store, metrics.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { parseClientConfig, type ClientConfig, type ClientConfigInput } from '@agent-fleet/kernel/client-config';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { emptyPolicyState } from '../../../agent-image/src/domain/policy/policy-state.ts';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import { ModelOutputError, type CallCeilingGate, type TokenUsage } from '../../../agent-image/src/ports/llm-client.ts';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { ModelBudget, ModelBudgetExhaustedError } from '../../../agent-image/src/services/mail-loop/model-budget.ts';
import { AdminNotifier } from '../../../agent-image/src/services/runtime/admin-notifier.ts';
import { callModel } from '../../../agent-image/src/services/mail-loop/model-call.ts';
import { AgentStateStore } from '../../../agent-image/src/services/runtime/agent-state-store.ts';
import { KillSwitch } from '../../../agent-image/src/services/runtime/kill-switch.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';

const retry = { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 3, sleep: async () => undefined };
/** 100 000 input tokens of claude-sonnet-4-6 ($3 per million): 0.30 USD a call. */
const CALL: TokenUsage = { model: 'claude-sonnet-4-6', inputTokens: 100_000, outputTokens: 0 };

const directories: string[] = [];
const opened: { close(): Promise<void> }[] = [];
after(async () => {
  for (const store of opened) await store.close();
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

function configOf(overrides: Partial<ClientConfigInput>): ClientConfig {
  const parsed = parseClientConfig({ client: 'acme', admins: ['dana@acme.example'], permissions: { 'mail.read': true, 'mail.send': true }, ...overrides });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

/** One agent process over a volume directory (a second one over the same directory is a restart). */
async function agent(directory: string, keys: KeyRing, clock: { now: Date }, overrides: Partial<ClientConfigInput> = {}) {
  const audit = await AuditLog.open({ directory: join(directory, 'audit'), keys, now: () => clock.now });
  opened.push(audit);
  const state = await AgentStateStore.open({ directory: join(directory, 'state'), keys, now: () => clock.now });
  opened.push(state);
  const kill = new KillSwitch(join(directory, 'killed.json'));
  const registry = new Registry();
  const mailed: { subject: string; to: string[] }[] = [];
  const settings = { config: configOf(overrides) };
  const outbox = {
    get: () => undefined,
    enqueue: async (entry: { message: { subject: string; to: string[] }; idempotencyKey: string }) => {
      mailed.push(entry.message);
      return entry;
    },
  };
  const partial = {
    get config() {
      return settings.config;
    },
    audit,
    state,
    kill,
    outbox,
    receipts: () => null,
    metrics: new AgentMetrics(registry, { client: 'acme', version: '1.0.0' }),
    logger: createSilentLogger(),
    now: () => clock.now,
    policyState: () => ({ ...emptyPolicyState(), killed: kill.killed }),
  };
  const context = partial as unknown as RuntimeContext;
  // As openVolume makes it: the context's own budget, alerting the admins through the outbox.
  const modelBudget = new ModelBudget({
    ...{ audit, metrics: partial.metrics, logger: partial.logger, now: partial.now },
    get config() {
      return settings.config;
    },
    alert: (key, notice) => new AdminNotifier(context).notify('alert', key, notice.subject, notice.text),
  });
  Object.assign(partial, { modelBudget });
  return { context, audit, state, registry, mailed, settings };
}

async function volume() {
  const directory = await mkdtemp(join(tmpdir(), 'model-budget-'));
  directories.push(directory);
  return { directory, keys: KeyRing.single(randomBytes(32)) };
}

/** A model that reports its ceiling like the Anthropic adapter, then answers with `usage`. */
function model(usage: TokenUsage, ceiling: TokenUsage = usage) {
  const sent = { count: 0 };
  const call = async (gate: CallCeilingGate) => {
    gate.beforeRequest(ceiling);
    sent.count++;
    return { value: { type: 'routine' }, usage };
  };
  return { call, sent };
}

async function gauge(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  assert.ok(metric !== undefined, name);
  return (await metric.get()).values[0]?.value ?? Number.NaN;
}

/** Waits for the audit records written without being awaited (a call's `llm_call`). */
async function settled(audit: AuditLog, count: number): Promise<void> {
  for (let waited = 0; (audit.head()?.seq ?? 0) < count && waited < 200; waited++) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('the daily model budget', () => {
  test('a flood of messages stops at the budget: no request is sent past it, nothing goes to review, the admins are told once', async () => {
    const { directory, keys } = await volume();
    const clock = { now: new Date('2026-12-07T09:00:00Z') };
    const { context, state, audit, registry, mailed } = await agent(directory, keys, clock, { modelDailyBudgetUsd: 1 });
    const { call, sent } = model(CALL);
    const outcomes: string[] = [];
    for (let index = 0; index < 50; index++) {
      try {
        await callModel({ context, retry }, 'classify', `m-${index}`, call);
        outcomes.push('answered');
      } catch (error) {
        assert.ok(error instanceof ModelBudgetExhaustedError, String(error));
        outcomes.push('waits');
      }
    }
    assert.equal(sent.count, 3, 'three calls of 0.30 fit in 1 USD; a fourth would not');
    assert.deepEqual(outcomes.slice(0, 4), ['answered', 'answered', 'answered', 'waits']);
    assert.equal(outcomes.filter((outcome) => outcome === 'waits').length, 47);
    assert.equal(state.progress('m-10'), undefined, 'a message that waits keeps its place: no review, no progress written');
    // The alert of the call that did not fit is written after the refusal returns.
    await settled(audit, 4);
    for (let waited = 0; mailed.length === 0 && waited < 200; waited++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(mailed.length, 1, 'one alert for the day');
    assert.match(mailed[0]?.subject ?? '', /daily language-model budget/);
    assert.deepEqual(mailed[0]?.to, ['dana@acme.example']);
    const pauses = (await audit.read()).filter((record) => record.action_type === 'pause');
    assert.equal(pauses.length, 1);
    assert.deepEqual(pauses[0]?.parameters, { reason: 'model_budget', day: '2026-12-07', limit_usd: 1, spent_usd: 0.9, resumes_at: '2026-12-08T00:00:00.000Z' });
    assert.equal(await gauge(registry, 'agent_llm_budget_exhausted'), 1);
    assert.equal(await gauge(registry, 'agent_llm_budget_usd'), 1);
    assert.ok(Math.abs((await gauge(registry, 'agent_llm_cost_usd_total')) - 0.9) < 1e-9);
  });

  test('each request holds its ceiling while in flight: concurrent calls cannot overshoot together', async () => {
    const { directory, keys } = await volume();
    const clock = { now: new Date('2026-12-07T09:00:00Z') };
    const { context } = await agent(directory, keys, clock, { modelDailyBudgetUsd: 1 });
    // Each request could cost 0.45 (its input bound) but costs 0.30: two fit at once, not four.
    const ceiling = { ...CALL, inputTokens: 150_000 };
    let sent = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = async (budgetGate: CallCeilingGate) => {
      budgetGate.beforeRequest(ceiling);
      sent++;
      await gate;
      return { value: { type: 'routine' }, usage: CALL };
    };
    const results = Promise.allSettled([0, 1, 2, 3].map((index) => callModel({ context, retry }, 'classify', `c-${index}`, slow)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    const outcomes = await results;
    assert.equal(sent, 2);
    assert.equal(outcomes.filter((outcome) => outcome.status === 'rejected' && outcome.reason instanceof ModelBudgetExhaustedError).length, 2);
    // What they really cost (0.60) leaves room for one more request once they are settled.
    assert.equal((await callModel({ context, retry }, 'classify', 'c-4', model(CALL).call)).ok, true);
  });

  test('the day’s spend survives a restart, read from the audit log, and is not counted twice', async () => {
    const { directory, keys } = await volume();
    const clock = { now: new Date('2026-12-07T09:00:00Z') };
    const first = await agent(directory, keys, clock, { modelDailyBudgetUsd: 1 });
    const { call } = model(CALL);
    await callModel({ context: first.context, retry }, 'classify', 'r-1', call);
    await callModel({ context: first.context, retry }, 'draft', 'r-1', call);
    await settled(first.audit, 2);
    clock.now = new Date('2026-12-07T10:00:00Z');
    // Restarted with a budget of 1.20: 0.60 spent before, so two more calls fit, not three.
    const second = await agent(directory, keys, clock, { modelDailyBudgetUsd: 1.2 });
    const restarted = model(CALL);
    assert.equal((await callModel({ context: second.context, retry }, 'classify', 'r-2', restarted.call)).ok, true);
    await settled(second.audit, 3);
    assert.equal((await callModel({ context: second.context, retry }, 'classify', 'r-3', restarted.call)).ok, true, 'its own calls are not read back from the log as well');
    await assert.rejects(callModel({ context: second.context, retry }, 'classify', 'r-4', restarted.call), ModelBudgetExhaustedError);
    assert.equal(restarted.sent.count, 2);
  });

  test('model work resumes at the client’s next local midnight, or at once when the budget is raised', async () => {
    const { directory, keys } = await volume();
    // 23:00 in Auckland on the 7th (UTC+13 in December) is 10:00 UTC.
    const clock = { now: new Date('2026-12-07T10:00:00Z') };
    const { context, settings, registry } = await agent(directory, keys, clock, { modelDailyBudgetUsd: 0.5, timezone: 'Pacific/Auckland' });
    const { call } = model(CALL);
    await callModel({ context, retry }, 'classify', 'd-1', call);
    await assert.rejects(callModel({ context, retry }, 'classify', 'd-2', call), (error: unknown) => {
      assert.ok(error instanceof ModelBudgetExhaustedError);
      assert.equal(error.resumesAt.toISOString(), '2026-12-07T11:00:00.000Z');
      return true;
    });
    assert.equal(context.modelBudget.exhausted(), true, 'the loop can leave model work alone this round');
    clock.now = new Date('2026-12-07T11:00:01Z');
    assert.equal(context.modelBudget.exhausted(), false, 'past local midnight');
    assert.equal((await callModel({ context, retry }, 'classify', 'd-2', call)).ok, true, 'a new local day');
    assert.equal(await gauge(registry, 'agent_llm_budget_exhausted'), 0);
    await assert.rejects(callModel({ context, retry }, 'classify', 'd-3', call), ModelBudgetExhaustedError);
    settings.config = configOf({ modelDailyBudgetUsd: 2, timezone: 'Pacific/Auckland' });
    assert.equal(context.modelBudget.exhausted(), false, 'a raised budget');
    assert.equal((await callModel({ context, retry }, 'classify', 'd-3', call)).ok, true, 'a raised budget reopens the day');
  });

  test('unusable answers are billed and count against the budget too', async () => {
    const { directory, keys } = await volume();
    const clock = { now: new Date('2026-12-07T09:00:00Z') };
    const { context } = await agent(directory, keys, clock, { modelDailyBudgetUsd: 0.5 });
    const malformed = async (gate: CallCeilingGate): Promise<never> => {
      gate.beforeRequest(CALL);
      throw new ModelOutputError('not the agreed shape', CALL, ['type: invalid']);
    };
    assert.equal((await callModel({ context, retry }, 'classify', 'u-1', malformed)).ok, false);
    await assert.rejects(callModel({ context, retry }, 'classify', 'u-2', malformed), ModelBudgetExhaustedError);
  });

  test('a budget of 0 turns model work off; a call that alone costs more than the whole budget goes to review', async () => {
    const { directory, keys } = await volume();
    const clock = { now: new Date('2026-12-07T09:00:00Z') };
    const off = await agent(directory, keys, clock, { modelDailyBudgetUsd: 0 });
    const { call, sent } = model(CALL);
    await assert.rejects(callModel({ context: off.context, retry }, 'classify', 'z-1', call), ModelBudgetExhaustedError);
    assert.equal(sent.count, 0);
    const small = await agent((await volume()).directory, keys, clock, { modelDailyBudgetUsd: 0.2 });
    const huge = await callModel({ context: small.context, retry }, 'classify', 'z-2', call);
    assert.deepEqual(!huge.ok && huge.progress, { stage: 'review', at: clock.now.toISOString(), reviewReason: 'model_call_over_budget' });
    assert.equal(sent.count, 0);
  });
});
