import type { LoopReport } from '../mail-loop/mail-loop.ts';
import type { OpenedAgent } from './open-volume.ts';

/** What a round did: whether the mailbox was synced, and its mail pass's report (null when none ran). */
export interface WorkRoundOutcome {
  synced: boolean;
  pass: LoopReport | null;
}

/**
 * One round of work: resume a rate-limit pause whose window has room, finish sends left pending, run
 * approved sends that waited, then sync and process the mailbox. Says whether the mailbox was synced
 * without the round ending in an authentication pause, and what the mail pass reported.
 */
export async function runWorkRound(agent: OpenedAgent, resume: (by: string, why: string) => Promise<void>): Promise<WorkRoundOutcome> {
  const { state, outbox, approvals, pipeline, connection, pauses } = agent;
  if (state.pause?.reason === 'rate_limit' && pauses.rateWindowHasRoom()) await resume('system', 'rate limit window has room again');
  // A settings version changed what the connectors are built from (permissions, provider, model): rebuilt between rounds.
  if (agent.reconnect.pending && state.pause?.reason !== 'auth') {
    agent.reconnect.pending = false;
    try {
      await connection.connect();
    } catch (error) {
      // Still owed: a failed rebuild must not leave connectors built from the old settings for good.
      agent.reconnect.pending = true;
      throw error;
    }
  }
  const receipts = connection.receipts;
  if (receipts !== null && state.pause?.reason !== 'auth') {
    if (outbox.list('pending').length > 0) await outbox.recover(receipts);
    if (state.pause === null) for (const entry of approvals.waitingExecution()) await pipeline.executeApproval(entry);
  }
  // Not connected yet: pick up secrets stored since (`fleet connect`, `fleet secrets set`), or ask again
  // which account the grant opens (a grant replaced while connected too), without a restart. A rate-limit
  // pause holds sends, not reading: the mailbox is connected again under it, as it stays connected.
  if (connection.loop === null && connection.retryDue && state.pause?.reason !== 'auth') await connection.connect();
  const loop = connection.loop;
  if (loop === null) return { synced: false, pass: null };
  const pass = (await loop.tick()) ?? null;
  // A connection dropped during the tick (its grant replaced) synced nothing.
  return { synced: state.pause?.reason !== 'auth' && connection.loop === loop, pass };
}
