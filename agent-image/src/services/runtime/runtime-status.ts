import type { RuntimeLifecycle, RuntimeStatus } from './control-api.ts';
import type { MailboxConnectionState } from './mailbox-connection.ts';
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
    connection: connectionWord(agent),
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

/** What each idle state reads as; a connected one reads as its provider's name. */
const IDLE_WORDS: Record<Exclude<MailboxConnectionState, 'connected'>, string> = {
  'not connected': 'not connected',
  // Which secrets are not stored is the orchestrator's to report (it stores them); the word stays as before.
  'missing secrets': 'not connected',
  'account unconfirmed': 'account unconfirmed',
  'wrong account': 'wrong account',
};

/**
 * The orchestrator takes a short word here (a-z and spaces, at most 20); why the account is wrong is in
 * the pause notice and the log.
 */
function connectionWord(agent: OpenedAgent | null): string {
  const connection = agent?.connection;
  if (connection === undefined) return 'not connected';
  const connectors = connection.connectors;
  if (connectors !== null) return connectors.providerKind;
  const state = connection.state;
  return state === 'connected' ? 'not connected' : IDLE_WORDS[state];
}
