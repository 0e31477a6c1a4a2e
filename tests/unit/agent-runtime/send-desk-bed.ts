// The send side of a real agent runtime over a temporary volume, for tests of approvals and the kill
// switch: audit log, state and approval stores, outbox (one attempt per send), kill switch, send pipeline
// and approval desk, with an in-memory provider. The gate is the test's; the clock can be moved.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { PolicyEvaluator } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { Outbox } from '../../../agent-image/src/services/outbox/outbox.ts';
import { AgentStateStore } from '../../../agent-image/src/services/runtime/agent-state-store.ts';
import { RuntimeApprovalDesk } from '../../../agent-image/src/services/runtime/approval-desk.ts';
import { ApprovalStore } from '../../../agent-image/src/services/runtime/approval-store.ts';
import { KillSwitch } from '../../../agent-image/src/services/runtime/kill-switch.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import { SendPipeline } from '../../../agent-image/src/services/runtime/send-pipeline.ts';
import { FakeSendReceipts } from '../outbox/fake-send-receipts.ts';
import { volumePause } from '../outbox/volume-pause.ts';

export interface SendDeskBed {
  context: RuntimeContext;
  pipeline: SendPipeline;
  desk: RuntimeApprovalDesk;
  provider: FakeSendReceipts;
  kill: KillSwitch;
  audit: AuditLog;
  approvals: ApprovalStore;
  outbox: Outbox;
  clock: { now: Date };
  close(): Promise<void>;
}

export async function openSendDeskBed(input: { config: ClientConfig; gate: PolicyEvaluator; prefix: string }): Promise<SendDeskBed> {
  const { config, gate } = input;
  const directory = await mkdtemp(join(tmpdir(), input.prefix));
  const keys = KeyRing.single(randomBytes(32));
  const clock = { now: new Date('2026-06-01T08:00:00Z') };
  const now = () => clock.now;
  const audit = await AuditLog.open({ directory: join(directory, 'audit'), keys, now });
  const state = await AgentStateStore.open({ directory: join(directory, 'state'), keys, now });
  const approvals = await ApprovalStore.open({ directory: join(directory, 'state'), keys, now });
  const kill = new KillSwitch(join(directory, 'KILLED'));
  const provider = new FakeSendReceipts();
  const outbox = await Outbox.open({
    directory: join(directory, 'outbox'),
    keys,
    audit,
    now,
    pause: await volumePause(join(directory, 'pause'), randomBytes(32), []),
    backoff: { maxAttempts: 1 },
  });
  await outbox.recover(provider);
  const metrics = new AgentMetrics(new Registry(), { client: config.client, version: '1.0.0' });
  const settings = { current: () => ({ version: 1, hash: null, config, gate }) };
  const context = {
    settings,
    config,
    gate,
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
  return {
    context,
    pipeline,
    desk,
    provider,
    kill,
    audit,
    approvals,
    outbox,
    clock,
    close: async () => {
      await outbox.close();
      await approvals.close();
      await audit.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
