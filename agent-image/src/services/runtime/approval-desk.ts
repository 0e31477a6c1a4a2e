import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { approvalStatusAt, approve, approveEdited, expireApproval, reject, type ApprovalResult, type ApprovalStatus } from '../../domain/approval.ts';
import { approvalDecided, approvalExpired } from '../../domain/audit-events.ts';
import { parseProposedAction } from '../../domain/policy/proposed-action.ts';
import type { AgentMetrics } from '../../observability/agent-metrics.ts';
import type { AuditLog } from '../audit-log/audit-log.ts';
import type { AgentStateStore } from './agent-state-store.ts';
import { publishApprovalGauges, type ApprovalStore, type StoredApproval } from './approval-store.ts';
import type { ApprovalDesk, DecisionInput } from './control-api.ts';
import type { Outbox } from '../outbox/outbox.ts';
import type { KillSwitch } from './kill-switch.ts';
import { HELD_BY_KILL } from './send-execution.ts';
import type { SendPipeline } from './send-pipeline.ts';
import type { SettingsSource } from '../settings/settings-source.ts';
import { SerialQueue } from '@agent-fleet/kernel/serial-queue';

export interface RuntimeApprovalDeskOptions {
  approvals: ApprovalStore;
  audit: AuditLog;
  metrics: AgentMetrics;
  state: AgentStateStore;
  kill: KillSwitch;
  pipeline: SendPipeline;
  /** Where a send the revive withdrew (kill-holds.ts) is discarded when its approval is rejected or expires. */
  outbox: Outbox;
  /** The settings in force: the decision records the version it was made under. */
  settings: SettingsSource;
  now: () => Date;
}

/**
 * The approval queue as the admins work it: list, decide (audited; an approved send runs at once when
 * the gate allows it), and the expiry sweep. Keeps the approval gauges current after every change.
 */
export class RuntimeApprovalDesk implements ApprovalDesk {
  private readonly options: RuntimeApprovalDeskOptions;
  /** Decisions and the expiry sweep, one at a time. */
  private readonly queue = new SerialQueue();

  constructor(options: RuntimeApprovalDeskOptions) {
    this.options = options;
  }

  listApprovals(status?: ApprovalStatus): StoredApproval[] {
    return this.options.approvals.list(this.options.now(), status);
  }

  /** One approval with its status as of now (a pending one past its expiry is expired); undefined when unknown. */
  approvalAsOf(id: string): StoredApproval | undefined {
    const entry = this.options.approvals.get(id);
    return entry === undefined ? undefined : { ...entry, record: { ...entry.record, status: approvalStatusAt(entry.record, this.options.now()) } };
  }

  async decide(id: string, input: DecisionInput): Promise<StoredApproval> {
    const { approvals, state, kill, pipeline } = this.options;
    const next = await this.queue.run(() => this.recordDecision(id, input));
    // Executed at once when the gate allows it; otherwise it waits (pause, rate limit) for a later round.
    if (next.execution === 'waiting' && !kill.killed && state.pause === null) await pipeline.executeApproval(next);
    return approvals.get(id) as StoredApproval;
  }

  /**
   * Checks, audits and stores one decision. Run one at a time: two admins deciding the same approval at
   * once (an approval from the email link, an edit dropping a Bcc in the portal) both read it pending, and
   * both were audited and carried out, the email going out unedited while recorded as edited.
   */
  private async recordDecision(id: string, input: DecisionInput): Promise<StoredApproval> {
    const { approvals, audit } = this.options;
    const entry = approvals.get(id);
    if (entry === undefined) throw new FleetError('not_found', `no approval ${id}`);
    const now = this.options.now();
    const result = decided(entry, input, now);
    if (!result.ok) {
      switch (result.error) {
        case 'not_pending':
        case 'expired':
          throw new FleetError('conflict', `approval ${id} is ${result.error === 'expired' ? 'expired' : 'already decided'}`);
        default:
          throw new FleetError('invalid_input', `cannot decide approval ${id}: ${result.error}`);
      }
    }
    const record = result.record;
    await audit.append(
      approvalDecided({
        by: input.by,
        to: entry.preview.to,
        status: record.status === 'edited' ? 'edited' : record.status === 'rejected' ? 'rejected' : 'approved',
        parameters: {
          approval_id: id,
          decision: input.decision,
          via: input.via ?? 'orchestrator-api',
          reason: record.decision?.reason ?? null,
          proposed_hash: record.proposedHash,
          approved_hash: record.approvedHash ?? null,
          idempotency_key: entry.idempotencyKey,
          settings_version: this.options.settings.current().version,
        },
      }),
    );
    const next: StoredApproval = { ...entry, record, execution: record.status === 'rejected' ? 'none' : 'waiting' };
    await approvals.put(next);
    if (record.status === 'rejected') await this.discardWithdrawn(entry, input.by, 'rejected');
    this.publishGauges(now);
    return next;
  }

  /**
   * Runs `work` with no decision recorded meanwhile: a revive holds what the kill stopped and releases
   * the switch in one go, so an approval clicked during the kill is either held by it (asked again) or
   * decided after the release, never left in between to run on its own.
   */
  withoutDecisions<T>(work: () => Promise<T>): Promise<T> {
    return this.queue.run(work);
  }

  /** Marks pending approvals past their expiry as expired: audited, counted, never executed. */
  sweepExpired(): Promise<number> {
    // One at a time with decisions: a decision in flight is not expired under it.
    return this.queue.run(() => this.expireDue());
  }

  private async expireDue(): Promise<number> {
    const { approvals, audit, metrics } = this.options;
    const now = this.options.now();
    let expired = 0;
    for (const entry of approvals.dueForExpiry(now)) {
      const result = expireApproval(entry.record, now);
      if (!result.ok) continue;
      await audit.append(
        approvalExpired({ to: entry.preview.to, approvalId: entry.record.id, expiresAt: entry.record.expiresAt, idempotencyKey: entry.idempotencyKey }),
      );
      await approvals.put({ ...entry, record: result.record });
      await this.discardWithdrawn(entry, 'system', 'expired');
      metrics.approvalExpired();
      expired++;
    }
    this.publishGauges(now);
    return expired;
  }


  /** A send the revive withdrew is given up for good when the approval asking about it is refused or expires. */
  private async discardWithdrawn(entry: StoredApproval, by: string, why: 'rejected' | 'expired'): Promise<void> {
    const { outbox } = this.options;
    if (!entry.record.policyReasons.includes(HELD_BY_KILL) || outbox.get(entry.idempotencyKey)?.status !== 'withdrawn') return;
    await outbox.discard(entry.idempotencyKey, by, why);
  }

  /** Publishes the pending and expiring-soon gauges. */
  publishGauges(now = this.options.now()): void {
    publishApprovalGauges(this.options.metrics, this.options.approvals, now);
  }
}

function decided(entry: StoredApproval, input: DecisionInput, now: Date): ApprovalResult {
  const base = { by: input.by, via: input.via ?? 'orchestrator-api', now };
  if (input.decision === 'approve') return approve(entry.record, base);
  if (input.decision === 'reject') return reject(entry.record, { ...base, reason: input.reason ?? '' });
  const parsed = parseProposedAction(input.arguments);
  if (!parsed.ok) throw new FleetError('invalid_input', `edited arguments are not a valid action: ${parsed.issues.join('; ')}`);
  return approveEdited(entry.record, { ...base, arguments: parsed.action });
}
