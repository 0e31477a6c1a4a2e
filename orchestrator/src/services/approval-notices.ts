import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { Clock } from '../ports/clock.ts';
import type { OpsLogAppendGuard, OpsLogEntry, Registry } from '../ports/registry.ts';
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

/**
 * The ops-log action of one approval notice reserved, just before it is handed to the agent to mail: what
 * the limits count, across restarts and across orchestrators on the registry, unless its result releases it.
 */
export const APPROVAL_NOTICE_ACTION = 'approval-notice';
/** The ops-log action of what became of a reserved notice (details.reservation: the reservation's seq). */
export const APPROVAL_NOTICE_RESULT_ACTION = 'approval-notice-result';

export interface ApprovalNoticeDependencies {
  /**
   * The ops log holds each notice, reserved there before it is mailed (a guarded append, decided under the
   * log's lock), so that the limits hold across a restart and between orchestrators on the registry.
   */
  registry: Pick<Registry, 'listClients' | 'appendOpsLog' | 'appendOpsLogIf'>;
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
 * approval whose notice fails does not hold up the others. Each notice is reserved in the ops log before it
 * is handed over, by an append the registry makes only while the limits have room (decided under the log's
 * lock): a restart loop does not start them afresh, and orchestrators sharing the registry (the CLI's server
 * and the portal, replicas) cannot both take the last place. A hand-over that fails releases its place; one
 * whose end was never recorded (a crash part way) keeps it: the limits err on the side of fewer mails.
 */
export class ApprovalNoticeService {
  private readonly deps: ApprovalNoticeDependencies;
  private readonly clock: Clock;
  private readonly limits: ApprovalNoticeLimits;
  private readonly announced = new Map<string, Set<string>>();
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
      // A registry that cannot record the reservation stops the pass: nothing is mailed unrecorded.
      const reservation = limited ? null : await this.reserve(clientId, approval.id);
      if (reservation === null) {
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
          await this.settle(reservation, 'already-settled');
          continue;
        }
        this.deps.logger.warn('approval notice failed; tried again next time', { client: clientId, approval: approval.id, error });
        await this.settle(reservation, 'failed');
        continue;
      }
      known.add(approval.id);
      handed++;
      this.deps.logger.info('approval notice handed to the agent', { client: clientId, outcome });
      if (outcome === 'held') this.deps.logger.warn('approval notice held in the agent outbox for a person; not mailed', { client: clientId, approval: approval.id });
      await this.settle(reservation, outcome === 'skipped' || outcome === 'held' ? outcome : 'success', outcome);
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
   * Takes a place under the limits for one notice: the reservation entry, appended only while the client's
   * last hour and last 24 hours (as the registry holds them at the append, every orchestrator's notices
   * included) have room. Null when they have none.
   */
  private async reserve(clientId: string, approvalId: string): Promise<OpsLogEntry | null> {
    const now = this.clock.now();
    const appended = await this.deps.registry.appendOpsLogIf(
      {
        actor: 'system',
        action: APPROVAL_NOTICE_ACTION,
        clientId,
        reason: 'one-tap approval link to be mailed to the client admins through the client mailbox',
        outcome: 'reserved',
        details: { approval: approvalId },
        at: now.toISOString(),
      },
      limitsGuard(clientId, now, this.limits),
    );
    return appended.outcome === 'appended' ? appended.entry : null;
  }

  /**
   * Records what became of a reserved notice; any end but 'success' gives its place back. A record the ops
   * log refuses leaves the reservation counting (fails closed): logged here, and the pass goes on, as the
   * next reservation needs the registry anyway.
   */
  private async settle(reservation: OpsLogEntry, result: NoticeResult, delivery?: AdminNoticeOutcome): Promise<void> {
    try {
      await this.deps.registry.appendOpsLog({
        actor: 'system',
        action: APPROVAL_NOTICE_RESULT_ACTION,
        clientId: reservation.clientId,
        reason: RESULT_REASONS[result],
        outcome: result,
        details: { reservation: reservation.seq, approval: reservation.details['approval'], ...(delivery === undefined ? {} : { delivery }) },
        at: this.clock.now().toISOString(),
      });
    } catch (error) {
      this.deps.logger.warn('approval notice result not recorded; its reservation keeps counting against the limits', { client: reservation.clientId, error });
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

/** What became of a reserved notice: handed over, or (every other end) its place given back. */
type NoticeResult = 'success' | 'skipped' | 'held' | 'already-settled' | 'failed';

const RESULT_REASONS: Record<NoticeResult, string> = {
  success: 'one-tap approval link handed to the agent to mail to the client admins',
  skipped: 'the agent did not mail the one-tap approval link (dry run, killed, or no mail.send)',
  held: 'the agent held the one-tap approval link in its outbox for a person (quarantined or in review); not mailed',
  'already-settled': 'the agent had mailed this approval before, or it is no longer pending',
  failed: 'the agent could not be asked to mail the one-tap approval link; asked again later',
};

/**
 * Room for one more notice of the client at `now`: its reservations of the last 24 hours (entries from
 * before reservations existed, outcome 'success', count as well), less those a result gave back.
 */
function limitsGuard(clientId: string, now: Date, limits: ApprovalNoticeLimits): OpsLogAppendGuard<'limited'> {
  const since = new Date(now.getTime() - DAY_MS);
  return {
    reads: [
      { clientId, actions: [APPROVAL_NOTICE_ACTION], since },
      { clientId, actions: [APPROVAL_NOTICE_RESULT_ACTION], since },
    ],
    refusal: ([reservations = [], results = []]) => {
      const released = new Set<unknown>(results.filter((result) => result.outcome !== 'success').map((result) => result.details['reservation']));
      const counted = reservations.filter((entry) => !released.has(entry.seq)).map((entry) => Date.parse(entry.at));
      const lastDay = counted.filter((at) => at > now.getTime() - DAY_MS).length;
      const lastHour = counted.filter((at) => at > now.getTime() - HOUR_MS).length;
      return lastDay < limits.perDay && lastHour < limits.perHour ? null : 'limited';
    },
  };
}
