import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AgentControl } from '../ports/agent-control.ts';
import type { AgentProxyService } from './agent-proxy.ts';

const APPROVAL_ID = /^[A-Za-z0-9_-]{1,100}$/;

/** A notice the agent mails to the client's admins through the client's own mailbox. */
export type AdminNoticeRequest =
  | { kind: 'approval'; approvalId: string; url: string }
  | { kind: 'enrolment'; email: string; url: string; expiresAt: string };

/** What the agent did with a notice: sent, queued in its outbox, or skipped (dry run, killed, no mail.send). */
/** What the agent did with an admin mail: sent, queued in its outbox, held there for a person (quarantined, in review), or not mailed. */
export type AdminNoticeOutcome = 'sent' | 'queued' | 'held' | 'skipped';

/**
 * The agent's views for the client's own admins (agent-image/CONTROL-API.md): one approval with its
 * thread, a day's summary, bounded audit records, and notices mailed through the client's mailbox. Client
 * content passes through to the portal; nothing here is logged or stored.
 */
export class AgentViewsService {
  private readonly deps: { agents: Pick<AgentProxyService, 'reach'>; control: AgentControl };

  constructor(deps: { agents: Pick<AgentProxyService, 'reach'>; control: AgentControl }) {
    this.deps = deps;
  }

  /** One approval as the agent's `GET /v1/approvals/:id` answers; null when the agent has no such id. */
  async approval(clientId: string, approvalId: string): Promise<unknown> {
    if (!APPROVAL_ID.test(approvalId)) return null;
    try {
      return await this.call(clientId, 'GET', `/v1/approvals/${approvalId}`);
    } catch (error) {
      if (error instanceof FleetError && error.code === 'not_found' && /approval/.test(error.message)) return null;
      throw error;
    }
  }

  /** `GET /v1/summary?date=`: the agent's own summary of one local day. */
  summary(clientId: string, date: string): Promise<unknown> {
    return this.call(clientId, 'GET', `/v1/summary?${new URLSearchParams({ date })}`);
  }

  /** `GET /v1/audit/records`: the newest `limit` (≤ 500) records of the range and types, newest first. */
  async auditRecords(
    clientId: string,
    query: { types?: readonly string[]; since?: Date; until?: Date; limit: number },
  ): Promise<unknown[]> {
    const params = new URLSearchParams({ limit: String(query.limit) });
    for (const type of query.types ?? []) params.append('type', type);
    if (query.since) params.set('since', query.since.toISOString());
    if (query.until) params.set('until', query.until.toISOString());
    const answer = await this.call<{ records: unknown[] }>(clientId, 'GET', `/v1/audit/records?${params}`, undefined, 30_000);
    return answer.records;
  }

  /** `POST /v1/admin-notices`: the agent mails it (idempotent per approval and per link). */
  async notice(clientId: string, notice: AdminNoticeRequest): Promise<AdminNoticeOutcome> {
    const answer = await this.call<{ outcome: AdminNoticeOutcome }>(clientId, 'POST', '/v1/admin-notices', notice, 30_000);
    return answer.outcome;
  }

  private async call<T>(clientId: string, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs?: number): Promise<T> {
    const reached = await this.deps.agents.reach(clientId);
    return this.deps.control.request<T>(reached.clientId, reached.address, reached.token, method, path, body, timeoutMs);
  }
}
