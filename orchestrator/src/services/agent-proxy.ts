import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { AgentControl } from '../ports/agent-control.ts';
import type { Clock } from '../ports/clock.ts';
import type { ContainerRuntime } from '../ports/container-runtime.ts';
import type { AuditCheckpoint, Registry } from '../ports/registry.ts';
import type { SecretStore } from '../ports/secret-store.ts';
import { ACCEPT_VOLUME_COMMAND, acceptAgentVolume, notOpenBecause, type AcceptVolumeResult } from './accept-agent-volume.ts';
import { AGENT_REPORT_TIMEOUT_MS } from './agent-report.ts';
import type { ClientOperationGuard } from './client-operation-guard.ts';

export interface AgentProxyDependencies {
  registry: Registry;
  runtime: ContainerRuntime;
  secrets: SecretStore;
  control: AgentControl;
  clock: Clock;
  logger: Logger;
  /**
   * What `acceptVolume` needs to open a refused volume again: a fresh introduction of the running agent,
   * and the guard that keeps backups, restores and erasures off the volume meanwhile. Without it,
   * `acceptVolume` is unavailable.
   */
  volumes?: { introduce: (clientId: ClientId, controlAddress: string) => Promise<void>; guard: Pick<ClientOperationGuard, 'exclusive'> } | undefined;
}

export type ApprovalDecisionInput = {
  decision: 'approve' | 'edit' | 'reject';
  by: string;
  reason?: string | undefined;
  arguments?: unknown;
  /** The channel the admin decided through (the agent records it); default orchestrator-api. */
  via?: 'portal' | undefined;
};

/**
 * Operations that happen inside a client's agent (approvals, audit verification and export), reached
 * through its authenticated control API. Approval decisions only ever arrive this way, never by email.
 */
export class AgentProxyService {
  private readonly deps: AgentProxyDependencies;

  constructor(deps: AgentProxyDependencies) {
    this.deps = deps;
  }

  /** The agent's own status report (`fleet status`), bounded in time: a hung agent must not hang the command. */
  async status(rawClientId: unknown): Promise<unknown> {
    const { clientId, address, token } = await this.reach(rawClientId);
    return this.deps.control.request(clientId, address, token, 'GET', '/v1/status', undefined, AGENT_REPORT_TIMEOUT_MS);
  }

  async listApprovals(rawClientId: unknown, status = 'pending'): Promise<unknown> {
    const { clientId, address, token } = await this.reach(rawClientId);
    return this.deps.control.request(clientId, address, token, 'GET', `/v1/approvals?status=${encodeURIComponent(status)}`);
  }

  async decide(rawClientId: unknown, approvalId: string, input: ApprovalDecisionInput, actor: string): Promise<unknown> {
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(approvalId)) throw new FleetError('invalid_input', 'invalid approval id');
    const { clientId, address, token } = await this.reach(rawClientId);
    const result = await this.deps.control.request(clientId, address, token, 'POST', `/v1/approvals/${approvalId}/decision`, input);
    await this.deps.registry.appendOpsLog({
      actor,
      action: `approval-${input.decision}`,
      clientId,
      reason: input.reason ?? null,
      outcome: 'success',
      details: { approvalId, decidedBy: input.by },
    });
    return result;
  }

  /**
   * Pulls the agent's chain head into the registry, outside the container. Moves the checkpoint held outside the agent to its chain's head, only along the same chain: a head
   * behind the checkpoint, or ahead of it on a chain that no longer holds the checkpoint's record (history
   * rewritten, then extended), is `regressed` and the checkpoint stays where it was.
   */
  async checkpoint(rawClientId: unknown): Promise<'saved' | 'unchanged' | 'regressed'> {
    const { clientId, address, token } = await this.reach(rawClientId);
    const head = await this.deps.control.request<{ seq: number; hash: string } | null>(clientId, address, token, 'GET', '/v1/audit/head');
    if (!head) return 'unchanged';
    const stored = await this.deps.registry.getAuditCheckpoint(clientId);
    if (stored !== null && head.seq > stored.seq) {
      const query = new URLSearchParams({ seq: String(stored.seq), hash: stored.hash, scope: 'extension' });
      const extension = await this.deps.control.request<{ ok: boolean; break?: { kind: string; seq: number } }>(clientId, address, token, 'GET', `/v1/audit/verify?${query}`, undefined, 120_000);
      if (!extension.ok) {
        this.deps.logger.error('audit chain no longer holds its checkpoint: log rewritten', { client: clientId, checkpointSeq: stored.seq, seq: head.seq, break: extension.break });
        return 'regressed';
      }
    }
    const outcome = await this.deps.registry.saveAuditCheckpoint(clientId, head, this.deps.clock.now());
    if (outcome === 'regressed') {
      this.deps.logger.error('audit chain head moved backwards: log truncated or rewritten', { client: clientId, seq: head.seq });
    }
    return outcome;
  }

  /**
   * Accepts the agent's current chain as the new anchor after a known discontinuity (a restore from a
   * backup older than the checkpoint): only a chain that verifies by itself, and only with a reason. The
   * ops log keeps the checkpoint it replaced, so the discontinuity stays on record.
   */
  async reanchorAudit(rawClientId: unknown, reason: string, actor: string): Promise<{ previous: AuditCheckpoint | null; checkpoint: { seq: number; hash: string } }> {
    const { clientId, address, token } = await this.reach(rawClientId);
    const verification = await this.deps.control
      .request<{ ok: boolean; head?: { seq: number; hash: string } | null; break?: { kind: string; seq: number; message: string } }>(
        clientId, address, token, 'GET', '/v1/audit/verify', undefined, 120_000,
      )
      .catch(async (error: unknown) => {
        // An agent that refused its volume has no chain to show: say what accepts that volume.
        const refusal = await notOpenBecause(this.deps.control, clientId, address).catch(() => null);
        if (refusal === null) throw error;
        throw new FleetError('conflict', `the agent of ${clientId} has not opened its volume (${refusal}); if it refused a volume put back on purpose, \`${ACCEPT_VOLUME_COMMAND} ${clientId} --reason …\` accepts it and re-anchors; nothing was re-anchored`, { cause: error });
      });
    if (!verification.ok) {
      throw new FleetError('integrity', `the audit chain of ${clientId} is broken by itself (${verification.break?.kind} at seq ${verification.break?.seq}); nothing was re-anchored`);
    }
    const head = verification.head;
    if (!head) throw new FleetError('conflict', `${clientId} has no audit record yet: nothing to anchor`);
    const previous = await this.deps.registry.replaceAuditCheckpoint(clientId, head, this.deps.clock.now());
    await this.deps.registry.appendOpsLog({
      actor,
      action: 'audit-reanchor',
      clientId,
      reason,
      outcome: 'success',
      details: { previous: previous === null ? null : { seq: previous.seq, hash: previous.hash, at: previous.at }, checkpoint: head },
    });
    this.deps.logger.warn('audit checkpoint re-anchored', { client: clientId, previousSeq: previous?.seq ?? null, seq: head.seq });
    return { previous, checkpoint: head };
  }

  /** Accepts the volume the agent refused (accept-agent-volume.ts); ops log `audit-accept-volume`. */
  async acceptVolume(rawClientId: unknown, reason: string, actor: string): Promise<AcceptVolumeResult> {
    const volumes = this.deps.volumes;
    if (volumes === undefined) throw new FleetError('unavailable', 'accepting a volume is not available in this orchestrator');
    const { registry, runtime, secrets, control, clock, logger } = this.deps;
    return acceptAgentVolume({ registry, runtime, secrets, control, clock, logger, ...volumes }, { clientId: rawClientId, reason, actor });
  }

  /** Verifies the whole chain inside the agent, against the last checkpoint held outside it. */
  async verifyAudit(rawClientId: unknown): Promise<{ verification: unknown; checkpoint: unknown }> {
    const { clientId, address, token } = await this.reach(rawClientId);
    const checkpoint = await this.deps.registry.getAuditCheckpoint(clientId);
    const query = checkpoint ? `?seq=${checkpoint.seq}&hash=${checkpoint.hash}` : '';
    const verification = await this.deps.control.request(clientId, address, token, 'GET', `/v1/audit/verify${query}`, undefined, 120_000);
    return { verification, checkpoint };
  }

  async exportAudit(rawClientId: unknown, query: { format: 'jsonl' | 'csv'; since?: string; until?: string }, sink: NodeJS.WritableStream): Promise<void> {
    const { clientId, address, token } = await this.reach(rawClientId);
    const params = new URLSearchParams({ format: query.format });
    if (query.since) params.set('since', query.since);
    if (query.until) params.set('until', query.until);
    await this.deps.control.stream(clientId, address, token, `/v1/audit/export?${params}`, sink);
  }

  async resume(rawClientId: unknown, actor: string): Promise<void> {
    const { clientId, address, token } = await this.reach(rawClientId);
    await this.deps.control.request(clientId, address, token, 'POST', '/v1/resume', { by: actor });
    await this.deps.registry.appendOpsLog({ actor, action: 'resume', clientId, reason: null, outcome: 'success', details: {} });
  }

  /** The running agent's control address and token; not_found / unavailable otherwise. */
  async reach(rawClientId: unknown): Promise<{ clientId: ClientId; address: string; token: string }> {
    const clientId = parseClientId(rawClientId);
    const record = await this.deps.registry.getClient(clientId);
    if (!record) throw new FleetError('not_found', `no client "${clientId}" in the registry`);
    const state = await this.deps.runtime.inspectAgent(clientId);
    if (!state?.running || !state.endpoints) {
      throw new FleetError('unavailable', `the agent of ${clientId} is not running (${record.status}); its data stays in its volume: \`fleet export ${clientId}\` reads it`);
    }
    const token = await this.deps.secrets.readControlToken(clientId);
    if (!token) throw new FleetError('internal', `${clientId} has no control token; provision it again`);
    return { clientId, address: state.endpoints.control, token };
  }
}
