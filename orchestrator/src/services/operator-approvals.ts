import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { AgentProxyService } from './agent-proxy.ts';
import type { SupportAccessService } from './support-access.ts';

/** A held action as ops see it without a grant: how many and how old, no content. */
export interface ApprovalAge {
  id: string;
  status: string;
  action: string;
  createdAt: string;
  expiresAt: string;
  ageMinutes: number;
}

export type OperatorApprovals =
  | { content: 'shown'; grantId: string; approvals: unknown[] }
  | { content: 'hidden'; why: string; count: number; oldestAgeMinutes: number | null; approvals: ApprovalAge[] };

interface ListedApproval {
  id: string;
  status: string;
  action: string;
  createdAt: string;
  expiresAt: string;
}

/**
 * `fleet approvals list`: drafts are the client's content, so ops see counts and ages only, unless the
 * operator holds an active support grant of the client (then the read is ops-logged as a support access).
 */
export async function listApprovalsForOperator(
  deps: { agents: Pick<AgentProxyService, 'listApprovals'>; support: Pick<SupportAccessService, 'list' | 'authorize'> },
  rawClientId: unknown,
  status: string,
  actor: string | null,
  now: Date,
): Promise<OperatorApprovals> {
  const clientId = parseClientId(rawClientId);
  const granted =
    actor !== null && (await deps.support.list(clientId)).some((grant) => grant.status === 'active' && grant.member === actor);
  if (granted && actor !== null) {
    const grant = await deps.support.authorize(clientId, actor, 'approvals list');
    const answer = (await deps.agents.listApprovals(clientId, status)) as { approvals: unknown[] };
    return { content: 'shown', grantId: grant.id, approvals: answer.approvals };
  }
  const answer = (await deps.agents.listApprovals(clientId, status)) as { approvals: ListedApproval[] };
  const approvals = answer.approvals.map((entry) => ({
    id: entry.id,
    status: entry.status,
    action: entry.action,
    createdAt: entry.createdAt,
    expiresAt: entry.expiresAt,
    ageMinutes: Math.max(0, Math.floor((now.getTime() - Date.parse(entry.createdAt)) / 60_000)),
  }));
  return {
    content: 'hidden',
    why: `drafts are ${clientId}'s content: a client admin decides them in the client portal; to read them, hold an active support grant (fleet support request)`,
    count: approvals.length,
    oldestAgeMinutes: approvals.length === 0 ? null : Math.max(...approvals.map((entry) => entry.ageMinutes)),
    approvals,
  };
}
