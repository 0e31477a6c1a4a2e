import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { Clock } from '../ports/clock.ts';
import type { Registry } from '../ports/registry.ts';
import type { AgentProxyService } from './agent-proxy.ts';
import type { AdminNoticeOutcome, AgentViewsService } from './agent-views.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const APPROVAL_ID = /^[A-Za-z0-9_-]{1,100}$/;

/** How many one-tap approval emails one client's admins get at most (the rest wait in the portal). */
export interface ApprovalNoticeLimits {
  /** In any hour; default 30. */
  perHour: number;
  /** In any 24 hours; default 200. */
  perDay: number;
}

export const DEFAULT_APPROVAL_NOTICE_LIMITS: ApprovalNoticeLimits = { perHour: 30, perDay: 200 };

/** The ops-log action of one approval notice handed to the agent to mail; what the limits count across restarts. */
export const APPROVAL_NOTICE_ACTION = 'approval-notice';

export interface ApprovalNoticeDependencies {
  /** The ops log records each notice mailed, so that the limits hold across a restart of the orchestrator. */
  registry: Pick<Registry, 'listClients' | 'appendOpsLog' | 'listOpsLog'>;
  agents: Pick<AgentProxyService, 'listApprovals'>;
  views: Pick<AgentViewsService, 'notice'>;
  /** Signs the one-tap link for an approval (the portal holds the key). */
  approvalLink(clientId: string, approvalId: string, approvalExpiresAt?: Date): string;
  logger: Logger;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: DEFAULT_APPROVAL_NOTICE_LIMITS. */
  limits?: ApprovalNoticeLimits;
}

interface PendingApproval {
  id: string;
  expiresAt: Date;
}

/**
 * One-tap approval emails: the orchestrator holds the link-signing key, so it watches each agent's pending
 * approvals and asks the agent to mail each new one's signed link to the client's admins through the
 * client's own mailbox. The agent sends at most once per approval (its outbox key): asked again after a
 * restart here, it answers `conflict` (the new link makes another mail under the same key), which settles
 * that approval as a decided one does; this service only avoids asking again within its lifetime.
 *
 * Each approval stems from an inbound email a stranger may have sent, so a flood of them must not become
 * a flood of mail from the client's own mailbox (using up its provider's daily sending quota, and burying
 * the admins in mails quoting the strangers' subjects): past `limits`, approvals wait, unmailed, in the
 * portal and the daily summary, and are mailed later while still pending, the soonest to expire first. One
 * approval whose notice fails does not hold up the others. Each notice mailed is in the ops log, and the
 * limits count from there before each notice: a restart loop does not start them afresh each time, and
 * orchestrators sharing the registry (the CLI's server and the portal, replicas) count each other's.
 */
export class ApprovalNoticeService {
  private readonly deps: ApprovalNoticeDependencies;
  private readonly clock: Clock;
  private readonly limits: ApprovalNoticeLimits;
  private readonly announced = new Map<string, Set<string>>();
  /**
   * Per client, when each notice handed over in the last 24 hours whose record the ops log refused was
   * handed: the registry does not count those, this process does (fails closed) for as long as it lives.
   */
  private readonly unrecordedAt = new Map<string, number[]>();
  private readonly running = new Set<string>();

  constructor(deps: ApprovalNoticeDependencies) {
    this.deps = deps;
    this.clock = deps.clock ?? { now: () => new Date() };
    this.limits = deps.limits ?? DEFAULT_APPROVAL_NOTICE_LIMITS;
  }

  /** Announces the client's pending approvals not announced yet; returns how many were handed to the agent. */
  async announceNew(clientId: string): Promise<number> {
    // Passes can overlap (a slow agent, a short interval): one at a time per client.
    if (this.running.has(clientId)) return 0;
    this.running.add(clientId);
    try {
      return await this.announce(clientId);
    } finally {
      this.running.delete(clientId);
    }
  }

  private async announce(clientId: string): Promise<number> {
    const pending = this.pendingOf(clientId, await this.deps.agents.listApprovals(clientId, 'pending'));
    const ids = new Set(pending.map((approval) => approval.id));
    const known = this.announced.get(clientId) ?? new Set<string>();
    // Forget decided and expired ones, so that the memory stays bounded by what is pending.
    for (const id of known) if (!ids.has(id)) known.delete(id);
    this.announced.set(clientId, known);
    let handed = 0;
    let held = 0;
    // Once a limit is reached it stays reached for the rest of the pass: the others are held without a read.
    let limited = false;
    // Soonest to expire first (the agent lists newest first): under a limit, a stream of new approvals
    // must not keep an older one unmailed until it expires.
    const bySoonest = [...pending].sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime());
    for (const approval of bySoonest) {
      if (known.has(approval.id)) continue;
      if (limited || !(await this.withinLimits(clientId))) {
        limited = true;
        held++;
        continue;
      }
      const url = this.deps.approvalLink(clientId, approval.id, approval.expiresAt);
      let outcome: AdminNoticeOutcome;
      try {
        outcome = await this.deps.views.notice(clientId, { kind: 'approval', approvalId: approval.id, url });
      } catch (error) {
        if (isFleetError(error) && error.code === 'conflict') {
          // Settled on the agent's side: mailed before under this approval's outbox key (before a restart
          // here, or an answer lost to a timeout; each ask signs a new link, so it is not the same mail), or
          // no longer pending. Asking again would fail the same way on every pass.
          known.add(approval.id);
          this.deps.logger.info('approval notice already settled by the agent', { client: clientId, approval: approval.id });
          continue;
        }
        this.deps.logger.warn('approval notice failed; tried again next time', { client: clientId, approval: approval.id, error });
        continue;
      }
      known.add(approval.id);
      handed++;
      this.deps.logger.info('approval notice handed to the agent', { client: clientId, outcome });
      if (outcome !== 'skipped') await this.record(clientId, approval.id, outcome);
    }
    if (held > 0) {
      this.deps.logger.warn('approval notices held back: too many this hour or day; they wait in the portal', { client: clientId, held, limits: this.limits });
    }
    return handed;
  }

  /** The well-formed entries of the agent's answer; anything else is logged and left out. */
  private pendingOf(clientId: string, answer: unknown): PendingApproval[] {
    const list = (answer as { approvals?: unknown } | null)?.approvals;
    if (!Array.isArray(list)) throw new Error('the agent answered the approvals list without a list');
    const pending: PendingApproval[] = [];
    let malformed = 0;
    for (const entry of list as unknown[]) {
      const { id, expiresAt } = (entry ?? {}) as { id?: unknown; expiresAt?: unknown };
      const expires = typeof expiresAt === 'string' ? new Date(expiresAt) : null;
      if (typeof id !== 'string' || !APPROVAL_ID.test(id) || expires === null || Number.isNaN(expires.getTime())) malformed++;
      else pending.push({ id, expiresAt: expires });
    }
    if (malformed > 0) this.deps.logger.warn('malformed pending approvals from the agent left out', { client: clientId, malformed });
    return pending;
  }

  /**
   * When the ops log says notices of the client were mailed in the last 24 hours (by this process, before a
   * restart, or by another orchestrator on the registry): only the window the limits count, not every notice
   * the client ever had. Read before each notice, not once: what the others mail is counted as it happens.
   */
  private async recordedTimes(clientId: string): Promise<number[]> {
    const since = new Date(this.clock.now().getTime() - DAY_MS);
    const entries = await this.deps.registry.listOpsLog({ clientId, actions: [APPROVAL_NOTICE_ACTION], since });
    const times: number[] = [];
    for (const entry of entries) {
      const at = Date.parse(entry.at);
      if (entry.outcome === 'success' && Number.isFinite(at)) times.push(at);
    }
    return times;
  }

  private async withinLimits(clientId: string): Promise<boolean> {
    const now = this.clock.now().getTime();
    const unrecorded = (this.unrecordedAt.get(clientId) ?? []).filter((at) => at > now - DAY_MS);
    if (unrecorded.length > 0) this.unrecordedAt.set(clientId, unrecorded);
    else this.unrecordedAt.delete(clientId);
    const times = [...(await this.recordedTimes(clientId)), ...unrecorded];
    const lastDay = times.filter((at) => at > now - DAY_MS).length;
    const lastHour = times.filter((at) => at > now - HOUR_MS).length;
    return lastDay < this.limits.perDay && lastHour < this.limits.perHour;
  }

  /**
   * On the record, where the limits count it. If the ops log refuses the record, this pass stops (fails
   * closed) and the notice still counts, here, for as long as this process lives.
   */
  private async record(clientId: string, approvalId: string, outcome: 'sent' | 'queued'): Promise<void> {
    const at = this.clock.now();
    try {
      await this.deps.registry.appendOpsLog({
        actor: 'system',
        action: APPROVAL_NOTICE_ACTION,
        clientId,
        reason: 'one-tap approval link mailed to the client admins through the client mailbox',
        outcome: 'success',
        details: { approval: approvalId, delivery: outcome },
        at: at.toISOString(),
      });
    } catch (error) {
      this.unrecordedAt.set(clientId, [...(this.unrecordedAt.get(clientId) ?? []), at.getTime()]);
      throw error;
    }
  }

  /** Every active client, one at a time; a failing agent is logged and tried again next time. */
  async announceAll(): Promise<void> {
    for (const client of await this.deps.registry.listClients()) {
      if (client.status !== 'active') continue;
      try {
        await this.announceNew(client.id);
      } catch (error) {
        this.deps.logger.warn('approval notices failed', { client: client.id, error });
      }
    }
  }
}
