// A work round connects the mailbox again whenever the connection is idle for a reason a round can mend
// (secrets stored since, an account the provider can be asked about now), and a reconnect owed to a
// settings change stays owed until one succeeds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MailboxConnectionState } from '../../../agent-image/src/services/runtime/mailbox-connection.ts';
import type { OpenedAgent } from '../../../agent-image/src/services/runtime/open-volume.ts';
import { runWorkRound } from '../../../agent-image/src/services/runtime/work-round.ts';

/** A connection whose `connect` plays the given outcomes in turn (an Error rejects). */
function fakeConnection(initial: MailboxConnectionState, outcomes: Array<MailboxConnectionState | Error>, onTick: () => void = () => undefined) {
  let ticks = 0;
  // One loop per connection, as MailboxConnection keeps it until it connects again or drops the connection.
  const loop = {
    tick: async () => {
      ticks++;
      onTick();
    },
  };
  const connection = {
    state: initial,
    attempts: 0,
    get retryDue() {
      return connection.state === 'missing secrets' || connection.state === 'account unconfirmed';
    },
    missingSecrets: [] as string[],
    receipts: null,
    get loop() {
      return connection.state === 'connected' ? loop : null;
    },
    connect: async () => {
      connection.attempts++;
      const next = outcomes.shift();
      if (next instanceof Error) throw next;
      if (next !== undefined) connection.state = next;
    },
  };
  return { connection, ticks: () => ticks };
}

function agentWith(connection: ReturnType<typeof fakeConnection>['connection'], reconnectPending = false, pause: { reason: string } | null = null) {
  return {
    state: { pause },
    outbox: { list: () => [] },
    approvals: { waitingExecution: () => [] },
    pipeline: {},
    connection,
    // A rate-limit pause whose window has no room yet stays on through the round.
    pauses: { rateWindowHasRoom: () => false },
    reconnect: { pending: reconnectPending },
  } as unknown as OpenedAgent;
}

const noResume = async () => undefined;

describe('a work round connects again when a round can mend the connection', () => {
  test('an account that could not be confirmed is asked about again next round, though no secret is missing', async () => {
    const { connection, ticks } = fakeConnection('account unconfirmed', ['connected']);
    const { synced } = await runWorkRound(agentWith(connection), noResume);
    assert.equal(connection.attempts, 1);
    assert.equal(synced, true);
    assert.equal(ticks(), 1);
  });

  test('a refused account is not retried by rounds (a resume connects again)', async () => {
    const { connection } = fakeConnection('wrong account', ['connected']);
    assert.equal((await runWorkRound(agentWith(connection), noResume)).synced, false);
    assert.equal(connection.attempts, 0);
  });

  test('a reconnect for new settings that fails stays owed, and the next round makes it', async () => {
    const { connection } = fakeConnection('connected', [new Error('vault unreachable'), 'connected']);
    const agent = agentWith(connection, true);
    await assert.rejects(runWorkRound(agent, noResume), /vault unreachable/);
    assert.equal(agent.reconnect.pending, true, 'still owed');
    assert.equal((await runWorkRound(agent, noResume)).synced, true);
    assert.equal(agent.reconnect.pending, false);
    assert.equal(connection.attempts, 2);
  });

  test('a connection dropped during the round (its grant replaced) is no sync, and the next round connects and checks again', async () => {
    const { connection, ticks } = fakeConnection('connected', ['connected'], () => {
      if (ticks() === 1) connection.state = 'account unconfirmed';
    });
    const agent = agentWith(connection);
    assert.equal((await runWorkRound(agent, noResume)).synced, false, 'nothing was synced with the dropped connection');
    assert.equal(connection.attempts, 0);
    assert.equal((await runWorkRound(agent, noResume)).synced, true);
    assert.equal(connection.attempts, 1, 'connected again, which checks the account');
    assert.equal(ticks(), 2);
  });

  test('a rate-limit pause (it holds sends) does not keep an unconfirmed mailbox idle; an authentication pause does', async () => {
    const rateLimited = fakeConnection('account unconfirmed', ['connected']);
    assert.equal((await runWorkRound(agentWith(rateLimited.connection, false, { reason: 'rate_limit' }), noResume)).synced, true);
    assert.equal(rateLimited.connection.attempts, 1);
    assert.equal(rateLimited.ticks(), 1);
    const authPaused = fakeConnection('account unconfirmed', ['connected']);
    assert.equal((await runWorkRound(agentWith(authPaused.connection, false, { reason: 'auth' }), noResume)).synced, false);
    assert.equal(authPaused.connection.attempts, 0);
  });
});
