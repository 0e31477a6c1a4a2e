// The runtime the approvals executor's calendar tests share: real gate, audit log, stores and kill switch
// on a fresh directory, and approvals granted by a human as the portal stores them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import {
  parseClientConfig,
  type ClientConfig,
  type ClientConfigInput,
} from '@agent-fleet/kernel/client-config';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { approve, createApproval } from '../../../agent-image/src/domain/approval.ts';
import { compilePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import type { EventDetails } from '../../../agent-image/src/ports/calendar-provider.ts';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { AgentStateStore } from '../../../agent-image/src/services/runtime/agent-state-store.ts';
import {
  ApprovalStore,
  type StoredApproval,
} from '../../../agent-image/src/services/runtime/approval-store.ts';
import { KillSwitch } from '../../../agent-image/src/services/runtime/kill-switch.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import { fixedSettings } from '../../../agent-image/src/services/settings/settings-source.ts';

/** The clock every calendar runtime test runs at. */
export const NOW = new Date('2026-06-01T08:00:00Z');

/** A client config from test input (client acme in Berlin, onboarded); a fixture that does not parse fails the test at once. */
export function clientConfig(input: Partial<ClientConfigInput>): ClientConfig {
  const parsed = parseClientConfig({
    client: 'acme',
    timezone: 'Europe/Berlin',
    onboarding: { startedAt: '2026-01-01T00:00:00Z', days: 28 },
    ...input,
  });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

export interface TestRuntime {
  context: RuntimeContext;
  audit: AuditLog;
  state: AgentStateStore;
  /** Each reason sending was paused for (a limit reached pauses it, as the runtime does). */
  paused: string[];
  /** The registry the runtime's metrics are exported from (what Prometheus scrapes). */
  registry: Registry;
}

/** The value a scrape reads of an unlabelled counter or gauge (0 when it was never set). */
export async function metricValue(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  assert.ok(metric !== undefined, `${name} is registered`);
  return (await metric.get()).values[0]?.value ?? 0;
}

/** The runtime parts an approval's execution touches, kept under `directory`. */
export async function openTestRuntime(directory: string, config: ClientConfig): Promise<TestRuntime> {
  const keys = KeyRing.single(randomBytes(32));
  const audit = await AuditLog.open({ directory: join(directory, 'audit'), keys, now: () => NOW });
  const state = await AgentStateStore.open({ directory: join(directory, 'state'), keys, now: () => NOW });
  const approvals = await ApprovalStore.open({ directory: join(directory, 'state'), keys, now: () => NOW });
  const kill = new KillSwitch(join(directory, 'KILLED'));
  const paused: string[] = [];
  const registry = new Registry();
  const partial = {
    config,
    gate: compilePolicy(config),
    settings: fixedSettings(config),
    state,
    approvals,
    audit,
    kill,
    metrics: new AgentMetrics(registry, { client: 'acme', version: '1.0.0' }),
    logger: createSilentLogger(),
    now: () => NOW,
    policyState: () => ({ ...state.policy, killed: kill.killed }),
    receipts: () => null,
    pause: async (reason: string) => {
      paused.push(reason);
      await state.setPolicy({ ...state.policy, paused: true });
    },
  };
  return { context: partial as unknown as RuntimeContext, audit, state, paused, registry };
}

/** Stores an approval of `args` a human granted (shown its arguments only), waiting to run. */
export async function putApproved(
  context: RuntimeContext,
  args: Record<string, unknown>,
  ids: { id: string; key: string; policyReasons?: readonly string[] },
): Promise<StoredApproval> {
  const parsed = parseProposedAction(args);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  const created = createApproval({
    id: ids.id,
    actionKind: parsed.action.kind,
    arguments: parsed.action,
    policyReasons: ids.policyReasons ?? [],
    now: NOW,
    timeoutHours: 72,
  });
  assert.ok(created.ok);
  const decided = approve(created.record, { by: 'boss', via: 'orchestrator-api', now: NOW });
  assert.ok(decided.ok);
  const entry: StoredApproval = {
    record: decided.record,
    idempotencyKey: ids.key,
    messageId: null,
    draftId: null,
    preview: { to: [], cc: [], subject: '', bodyPreview: '', emailType: null },
    execution: 'waiting',
  };
  await context.approvals.put(entry);
  return entry;
}

/** A human approves `held` (an approval asked again) as shown; stored waiting to run. */
export async function approveHeld(context: RuntimeContext, held: StoredApproval): Promise<StoredApproval> {
  const decided = approve(held.record, { by: 'boss', via: 'orchestrator-api', now: NOW });
  assert.ok(decided.ok);
  const entry: StoredApproval = { ...held, record: decided.record, execution: 'waiting' };
  await context.approvals.put(entry);
  return entry;
}

/**
 * An event the mailbox owner organised, as the calendar reads it: one hour on 3 June 2026 at 10:00 UTC, a
 * single event at version v1 with no description or location, unless `fields` says otherwise.
 */
export function ownedEvent(fields: Pick<EventDetails, 'id' | 'title' | 'attendees'> & Partial<EventDetails>): EventDetails {
  return {
    start: new Date('2026-06-03T10:00:00Z'),
    end: new Date('2026-06-03T11:00:00Z'),
    idempotencyKey: null,
    content: { description: '', location: '' },
    organizedByOwner: true,
    cancelled: false,
    recurrence: 'single',
    version: 'v1',
    ...fields,
  };
}
