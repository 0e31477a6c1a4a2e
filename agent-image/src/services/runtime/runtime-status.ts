import type { RuntimeLifecycle, RuntimeStatus } from './control-api.ts';
import type { OpenedAgent } from './open-volume.ts';

export interface StatusInput {
  client: string;
  lifecycle: RuntimeLifecycle;
  killed: boolean;
  dryRun: boolean;
  /** Null before the introduction (or once stopped). */
  agent: OpenedAgent | null;
  vaultRevoked: boolean;
  lastSync: Date | null;
  push: { enabled: boolean; expiresAt: string | null };
  now: Date;
}

/** The status the control API reports (counts and states, no email content). */
export function runtimeStatus(input: StatusInput): RuntimeStatus {
  const { agent } = input;
  const outbox = agent?.outbox;
  return {
    client: input.client,
    lifecycle: input.lifecycle,
    ready: input.lifecycle === 'ready',
    killed: input.killed,
    paused: agent?.state.pause?.reason ?? null,
    pausedSince: agent?.state.pause?.since ?? null,
    dryRun: input.dryRun,
    // The orchestrator takes a short word here (a-z and spaces); why the account is wrong is in the pause notice and the log.
    connection: agent?.connection.connectors?.providerKind ?? (agent !== null && agent.connection.refusedAccount !== null ? 'wrong account' : 'not connected'),
    vault: agent === null ? 'not_introduced' : input.vaultRevoked ? 'revoked' : 'ok',
    pendingApprovals: agent?.approvals.pendingCount(input.now) ?? 0,
    lastSync: input.lastSync?.toISOString() ?? null,
    messages: agent?.state.countByStage() ?? {},
    outbox: {
      pending: outbox?.list('pending').length ?? 0,
      held: (outbox?.list('quarantined').length ?? 0) + (outbox?.list('review').length ?? 0) + (outbox?.list('withdrawn').length ?? 0),
      sent: outbox?.list('sent').length ?? 0,
    },
    auditHead: agent?.audit.head() ?? null,
    push: input.push,
  };
}
