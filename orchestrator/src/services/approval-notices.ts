import type { Logger } from '@agent-fleet/kernel/logger';
import type { Registry } from '../ports/registry.ts';
import type { AgentProxyService } from './agent-proxy.ts';
import type { AgentViewsService } from './agent-views.ts';

export interface ApprovalNoticeDependencies {
  registry: Pick<Registry, 'listClients'>;
  agents: Pick<AgentProxyService, 'listApprovals'>;
  views: Pick<AgentViewsService, 'notice'>;
  /** Signs the one-tap link for an approval (the portal holds the key). */
  approvalLink(clientId: string, approvalId: string, approvalExpiresAt?: Date): string;
  logger: Logger;
}

interface PendingApproval {
  id: string;
  expiresAt: string;
}

/**
 * One-tap approval emails: the orchestrator holds the link-signing key, so it watches each agent's pending
 * approvals and asks the agent to mail each new one's signed link to the client's admins through the
 * client's own mailbox. The agent sends at most once per approval (its outbox key), so announcing again
 * after a restart sends nothing twice; this service only avoids asking again within its lifetime.
 */
export class ApprovalNoticeService {
  private readonly deps: ApprovalNoticeDependencies;
  private readonly announced = new Map<string, Set<string>>();

  constructor(deps: ApprovalNoticeDependencies) {
    this.deps = deps;
  }

  /** Announces the client's pending approvals not announced yet; returns how many were handed to the agent. */
  async announceNew(clientId: string): Promise<number> {
    const answer = (await this.deps.agents.listApprovals(clientId, 'pending')) as { approvals: PendingApproval[] };
    const pending = new Set(answer.approvals.map((approval) => approval.id));
    const known = this.announced.get(clientId) ?? new Set<string>();
    // Forget decided and expired ones, so that the memory stays bounded by what is pending.
    for (const id of known) if (!pending.has(id)) known.delete(id);
    this.announced.set(clientId, known);
    let handed = 0;
    for (const approval of answer.approvals) {
      if (known.has(approval.id)) continue;
      const url = this.deps.approvalLink(clientId, approval.id, new Date(approval.expiresAt));
      const outcome = await this.deps.views.notice(clientId, { kind: 'approval', approvalId: approval.id, url });
      known.add(approval.id);
      handed++;
      this.deps.logger.info('approval notice handed to the agent', { client: clientId, outcome });
    }
    return handed;
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
