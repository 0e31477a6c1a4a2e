import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import type { PolicyEvaluator } from '../../domain/policy/evaluate-policy.ts';
import type { PolicyState } from '../../domain/policy/policy-state.ts';
import type { AgentMetrics } from '../../observability/agent-metrics.ts';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { SendReceipts } from '../../ports/send-receipts.ts';
import type { AuditLog } from '../audit-log/audit-log.ts';
import type { ModelBudget } from '../mail-loop/model-budget.ts';
import type { Outbox } from '../outbox/outbox.ts';
import type { AgentStateStore, PauseReason } from './agent-state-store.ts';
import type { ApprovalStore } from './approval-store.ts';
import type { KillSwitch } from './kill-switch.ts';
import type { SettingsSource } from '../settings/settings-source.ts';

/** What the runtime's services share once the agent is introduced: its settings, stores and log. */
export interface RuntimeContext {
  /** The settings in force; a decision reads it once (`current()`) and records the version it used. */
  readonly settings: SettingsSource;
  /** The current settings' document (`settings.current().config`). */
  readonly config: ClientConfig;
  /** The gate compiled from the current settings (`settings.current().gate`). */
  readonly gate: PolicyEvaluator;
  readonly state: AgentStateStore;
  readonly approvals: ApprovalStore;
  readonly audit: AuditLog;
  readonly outbox: Outbox;
  readonly metrics: AgentMetrics;
  readonly kill: KillSwitch;
  /** The client's daily model budget and per-message call count: one per opened volume, shared by every model call. */
  readonly modelBudget: ModelBudget;
  readonly logger: Logger;
  now(): Date;
  /** The policy state the gate sees: persisted state plus the kill flag. */
  policyState(): PolicyState;
  /** The connected mailbox's send side; null while no provider is connected. */
  receipts(): SendReceipts | null;
  /** Pauses (audited, gauge, admins alerted once per pause). */
  pause(reason: PauseReason, detail: string): Promise<void>;
}
