// A flood of mail from one sender (a misconfigured system, a mail bomb) must not hold up the agent's
// round, nor a real correspondent's single message until the flood is worked through: a pass works on a
// bounded batch, taken in turns by sender, and every message is still worked exactly once in later passes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { EmailForModel, LlmClient } from '../../../agent-image/src/ports/llm-client.ts';
import { GrantReplacedError, type MailMessage, type MailProvider } from '../../../agent-image/src/ports/mail-provider.ts';
import { MailLoop } from '../../../agent-image/src/services/mail-loop/mail-loop.ts';
import { MailMemoryBudget } from '../../../agent-image/src/services/mail-loop/mail-memory-budget.ts';
import { BatchForecast, readAhead, workBatch, type PassCandidate } from '../../../agent-image/src/services/mail-loop/pass-plan.ts';
import { BACKLOG_ROUND_PAUSE_MS, nextRoundDelayMs } from '../../../agent-image/src/services/mail-loop/round-pacing.ts';
import { TERMINAL_STAGES, type MessageProgress } from '../../../agent-image/src/services/runtime/agent-state-store.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import type { SendPipeline } from '../../../agent-image/src/services/runtime/send-pipeline.ts';

const MAILBOX = 'me@acme.example';
const FLOOD = 'alerts@noisy.example';
const CORRESPONDENT = 'kim@partner.example';

function inbound(id: string, from: string): MailMessage {
  return {
    id, threadId: `t-${id}`, from: { address: from, name: null }, to: [{ address: MAILBOX, name: null }], cc: [], replyTo: [],
    subject: `note ${id}`, date: null, messageId: `<${id}@mail.example>`, inReplyTo: null, references: [], listId: null,
    autoSubmitted: null, precedence: null, autoReplyHeaders: {}, idempotencyKey: null, authenticationResults: [], textBody: 'hello',
    receivedAt: new Date('2026-03-02T09:00:00Z'), labels: ['INBOX'],
  };
}

/** The agent's state as the loop sees it: messages in the order of their last change, as the real store keeps them. */
function memoryState() {
  const messages = new Map<string, MessageProgress>();
  let cursor: string | null = null;
  return {
    messages,
    state: {
      pause: null,
      cursor: () => cursor,
      setCursor: async (_provider: string, next: string | null) => void (cursor = next),
      progress: (id: string) => messages.get(id),
      setProgress: async (id: string, next: MessageProgress) => {
        messages.delete(id);
        messages.set(id, next);
      },
      unfinished: () => [...messages].filter(([, entry]) => !TERMINAL_STAGES.has(entry.stage)).map(([id, progress]) => ({ id, progress })),
    },
  };
}

/**
 * A loop over a mailbox holding `mail` (id → sender), all new at the first sync. The model classifies
 * every message as a newsletter (no reply, no filing configured), recording who it was asked about.
 */
function floodedLoop(
  mail: ReadonlyArray<readonly [string, string]>,
  limits: { maxMessagesPerPass: number; maxReadsPerPass: number },
  fetchError?: Error,
  options: { memory?: MailMemoryBudget; syncError?: Error; onFetch?: (id: string) => void } = {},
) {
  const senders = new Map(mail);
  const { messages, state } = memoryState();
  const seen = { classified: [] as string[], fetched: 0, fetchedIds: [] as string[], killed: false };
  let synced = false;
  const provider = {
    listChangesSince: async () => {
      if (options.syncError !== undefined && synced) throw options.syncError;
      const messageIds = synced ? [] : [...senders.keys()];
      synced = true;
      return { messageIds, nextCursor: 'c1', fullResync: false };
    },
    getMessage: async (id: string) => {
      seen.fetched++;
      seen.fetchedIds.push(id);
      options.onFetch?.(id);
      if (fetchError !== undefined) throw fetchError;
      return inbound(id, senders.get(id) ?? 'nobody@mail.example');
    },
  } as unknown as MailProvider;
  const llm = {
    classify: async (email: EmailForModel) => {
      seen.classified.push(email.subject.replace('note ', ''));
      return { value: { type: 'newsletter', confidence: 0.9 }, usage: { model: 'claude-haiku-4', inputTokens: 10, outputTokens: 5 } };
    },
  } as unknown as LlmClient;
  const ledger = new Map<string, number>();
  const context = {
    kill: {
      get killed() {
        return seen.killed;
      },
      assertAlive: (where: string) => {
        if (seen.killed) throw new FleetError('killed', `killed before ${where}`);
      },
    },
    config: {
      mailbox: MAILBOX,
      permissions: { 'mail.read': true },
      knownContacts: [],
      admins: [],
      triage: { labelPrefix: 'AgentFleet', markReadTypes: [], archiveTypes: [] },
    },
    state,
    modelBudget: {
      exhausted: () => false,
      admit: async () => undefined,
      reserve: () => null,
      release: () => undefined,
      settle: () => undefined,
      calls: { answered: (key: string) => ledger.get(key) ?? 0, count: (key: string) => void ledger.set(key, (ledger.get(key) ?? 0) + 1) },
    },
    audit: { append: async () => undefined },
    metrics: {
      setLastSync: () => undefined, emailsRead: () => undefined, dataRead: () => undefined, action: () => undefined,
      knownSenderUnauthenticated: () => undefined, llmTokens: () => undefined, llmCost: () => undefined,
    },
    outbox: { get: () => undefined },
    policyState: () => ({ knownContacts: [] }),
    logger: createSilentLogger(),
    now: () => new Date('2026-03-02T10:00:00Z'),
  } as unknown as RuntimeContext;
  const authFailures: string[] = [];
  const loop = new MailLoop({
    context, pipeline: {} as SendPipeline, provider, llm, providerKind: 'gmail', onAuthFailure: async (error) => void authFailures.push(error.kind), concurrency: 4,
    retry: { maxAttempts: 1, sleep: async () => undefined },
    ...(options.memory === undefined ? {} : { memory: options.memory }),
    ...limits,
  });
  return { loop, seen, messages, authFailures };
}

/** The flood first (ids f0…), the correspondent's one message last (id k0). */
function floodThenOne(count: number): [string, string][] {
  return [...Array.from({ length: count }, (_, index): [string, string] => [`f${index}`, FLOOD]), ['k0', CORRESPONDENT]];
}

describe('a mail loop pass under a flood', () => {
  test('one pass works on a bounded batch, and the correspondent behind the flood is in it', async () => {
    const { loop, seen } = floodedLoop(floodThenOne(300), { maxMessagesPerPass: 10, maxReadsPerPass: 1000 });
    const report = await loop.tick();
    assert.equal(report.found, 301);
    assert.equal(seen.classified.length, 10, 'the model is asked about one batch, not the whole flood');
    assert.ok(seen.classified.includes('k0'), 'the one message of another sender takes a turn in the first pass');
  });

  test('every message is worked exactly once over the passes that follow; none is lost or repeated', async () => {
    const { loop, seen, messages } = floodedLoop(floodThenOne(95), { maxMessagesPerPass: 10, maxReadsPerPass: 30 });
    const waiting = () => [...messages.values()].some((progress) => !TERMINAL_STAGES.has(progress.stage));
    let passes = 0;
    do {
      await loop.tick();
      passes++;
    } while (waiting() && passes < 30);
    assert.ok(passes > 1, 'the work took more than one pass');
    assert.equal(messages.size, 96);
    assert.ok([...messages.values()].every((progress) => progress.stage === 'done'));
    assert.equal(seen.classified.length, 96);
    assert.equal(new Set(seen.classified).size, 96, 'no message is classified twice');
  });

  test('the reads one pass makes to learn the senders are bounded too', async () => {
    const { loop, seen } = floodedLoop(floodThenOne(300), { maxMessagesPerPass: 10, maxReadsPerPass: 40 });
    await loop.tick();
    // Read ahead (40), then the batch fetched again for its model call (10).
    assert.ok(seen.fetched <= 50, `fetched ${seen.fetched}`);
    assert.equal(seen.classified.length, 10);
  });

  test('a kill during the pass stops it between messages', async () => {
    const { loop, seen } = floodedLoop(floodThenOne(30), { maxMessagesPerPass: 20, maxReadsPerPass: 100 });
    const classify = seen.classified;
    const push = classify.push.bind(classify);
    classify.push = (...items: string[]) => {
      const length = push(...items);
      if (length === 3) seen.killed = true;
      return length;
    };
    await loop.tick();
    assert.equal(seen.classified.length, 3);
  });
});

/** How often each id was fetched, for the ids fetched more than once. */
function fetchedTwice(ids: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return [...counts].filter(([, count]) => count > 1).map(([id]) => id);
}

describe('a message read ahead and worked in the same pass', () => {
  test('is fetched from the mailbox once: the batch works on the message the read ahead fetched', async () => {
    const { loop, seen } = floodedLoop(floodThenOne(300), { maxMessagesPerPass: 10, maxReadsPerPass: 40 });
    await loop.tick();
    assert.equal(seen.classified.length, 10);
    assert.deepEqual(fetchedTwice(seen.fetchedIds), []);
    // The 40 read ahead, and the batch's messages that were not among them.
    assert.equal(seen.fetched, 40 + seen.classified.filter((id) => !seen.fetchedIds.slice(0, 40).includes(id)).length);
  });

  test('the correspondent read ahead behind a flood is fetched once too', async () => {
    const { loop, seen } = floodedLoop(floodThenOne(30), { maxMessagesPerPass: 10, maxReadsPerPass: 100 });
    await loop.tick();
    assert.ok(seen.classified.includes('k0'));
    assert.deepEqual(fetchedTwice(seen.fetchedIds), []);
    assert.equal(seen.fetched, 31);
  });

  test('what the read ahead keeps leaves room for a read at its largest; with no more room, a message is fetched again', async () => {
    const largest = 64 * 1024;
    const memory = new MailMemoryBudget({ messageHeldMaxBytes: largest, heldTotalBytes: largest + 3 * 17 * 1024 });
    const keptPeaks: number[] = [];
    const { loop, seen } = floodedLoop(floodThenOne(300), { maxMessagesPerPass: 10, maxReadsPerPass: 40 }, undefined, {
      memory,
      onFetch: () => keptPeaks.push(memory.keptBytes),
    });
    await loop.tick();
    assert.ok(keptPeaks.every((kept) => kept <= 3 * 17 * 1024), `kept ${Math.max(...keptPeaks)} bytes`);
    assert.ok(keptPeaks.some((kept) => kept > 0), 'the read ahead kept messages while it had room');
    assert.equal(seen.classified.length, 10);
    assert.equal(new Set(seen.classified).size, 10);
    assert.equal(memory.heldBytes, 0, 'nothing is held after the pass');
  });

  test('a pass stopped in its batch gives back every message its read ahead kept', async () => {
    const memory = new MailMemoryBudget();
    const { loop, seen } = floodedLoop(floodThenOne(300), { maxMessagesPerPass: 10, maxReadsPerPass: 40 }, undefined, { memory });
    const classify = seen.classified;
    const push = classify.push.bind(classify);
    classify.push = (...items: string[]) => {
      const length = push(...items);
      if (length === 1) seen.killed = true;
      return length;
    };
    await loop.tick();
    assert.equal(memory.heldBytes, 0);
    assert.equal(memory.keptBytes, 0);
  });
});

describe('the next round while a flood waits', () => {
  const PERIOD_MS = 60_000;

  test('comes soon after each pass that leaves work waiting, and after the period once the backlog is worked', async () => {
    const { loop, messages } = floodedLoop(floodThenOne(95), { maxMessagesPerPass: 10, maxReadsPerPass: 30 });
    const delays: number[] = [];
    let passes = 0;
    do {
      const report = await loop.tick();
      delays.push(nextRoundDelayMs(report, PERIOD_MS));
      passes++;
    } while ([...messages.values()].some((progress) => !TERMINAL_STAGES.has(progress.stage)) && passes < 30);
    assert.ok(passes > 2);
    assert.deepEqual(delays.slice(0, -1), Array.from({ length: passes - 1 }, () => BACKLOG_ROUND_PAUSE_MS));
    assert.equal(delays.at(-1), PERIOD_MS, 'nothing waits: the period');
  });

  test('waits the period when nothing got through: a failing mailbox is not asked again at once', async () => {
    const outage = new FleetError('unavailable', 'mailbox unavailable', { retryable: true });
    const { loop } = floodedLoop(floodThenOne(95), { maxMessagesPerPass: 10, maxReadsPerPass: 30 }, outage);
    const report = await loop.tick();
    assert.ok(report.failed > 0);
    assert.equal(nextRoundDelayMs(report, PERIOD_MS), PERIOD_MS);
  });

  test('waits the period when the sync failed, even while queued work moves', async () => {
    const { loop } = floodedLoop(floodThenOne(95), { maxMessagesPerPass: 10, maxReadsPerPass: 30 }, undefined, {
      syncError: new FleetError('unavailable', 'history unavailable', { retryable: true }),
    });
    await loop.tick();
    const report = await loop.tick();
    assert.equal(report.synced, false);
    assert.ok(report.finished > 0 && report.deferred > 0);
    assert.equal(nextRoundDelayMs(report, PERIOD_MS), PERIOD_MS);
  });

  test('a pass reports what it left waiting because of its bound, and nothing when it was stopped', async () => {
    const first = floodedLoop(floodThenOne(30), { maxMessagesPerPass: 10, maxReadsPerPass: 100 });
    assert.equal((await first.loop.tick()).deferred, 21);
    const killed = floodedLoop(floodThenOne(30), { maxMessagesPerPass: 10, maxReadsPerPass: 100 });
    const classify = killed.seen.classified;
    const push = classify.push.bind(classify);
    classify.push = (...items: string[]) => {
      const length = push(...items);
      if (length === 2) killed.seen.killed = true;
      return length;
    };
    const report = await killed.loop.tick();
    assert.equal(report.deferred, 0);
    assert.equal(nextRoundDelayMs(report, PERIOD_MS), PERIOD_MS);
  });
});

describe('a pass whose connection loses its grant', () => {
  test('a grant replaced under the pass stops it: the connection is told once per worker at most, the rest is not tried', async () => {
    const replaced = new GrantReplacedError('gmail: another grant was stored before a token refresh');
    const { loop, seen, authFailures } = floodedLoop(floodThenOne(30), { maxMessagesPerPass: 20, maxReadsPerPass: 100 }, replaced);
    const report = await loop.tick();
    assert.ok(seen.fetched <= 4, `fetched ${seen.fetched}: no more than the workers already under way`);
    assert.ok(authFailures.length >= 1 && authFailures.every((kind) => kind === 'grant_replaced'));
    assert.equal(report.failed, 0, 'not a failure of any message');
  });
});

describe('planning a pass', () => {
  const queued = (id: string): PassCandidate => ({ id, progress: { stage: 'queued', at: '' } });
  const read = (id: string, sender: string): PassCandidate => ({
    id,
    progress: { stage: 'read', at: '', inbound: { sender, senderAuthenticated: true, authReason: 'dmarc_pass', knownContact: false, injectionSignals: [] } },
  });

  test('the batch takes one message of each sender in turn, each sender oldest first', () => {
    const candidates = [read('a1', 'a@x.example'), read('a2', 'a@x.example'), read('a3', 'a@x.example'), read('b1', 'b@x.example'), read('c1', 'C@x.example'), read('b2', 'b@x.example')];
    assert.deepEqual(workBatch(candidates, 4), ['a1', 'b1', 'c1', 'a2']);
    assert.deepEqual(workBatch(candidates, 10), ['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
  });

  test('a sender is the same sender whatever the case of its address', () => {
    assert.deepEqual(workBatch([read('a1', 'A@x.example'), read('a2', 'a@x.example'), read('b1', 'b@x.example')], 2), ['a1', 'b1']);
  });

  test('unread messages share one lane, so they do not take the turns of senders already known', () => {
    const candidates = [queued('q1'), queued('q2'), queued('q3'), read('a1', 'a@x.example'), read('b1', 'b@x.example')];
    assert.deepEqual(workBatch(candidates, 4), ['q1', 'a1', 'b1', 'q2']);
  });

  test('nothing is read ahead when every waiting message fits the batch; else the oldest queued, bounded', () => {
    const candidates = [read('a1', 'a@x.example'), queued('q1'), queued('q2'), queued('q3')];
    assert.deepEqual(readAhead(candidates, { maxMessages: 4, maxReads: 10 }), []);
    assert.deepEqual(readAhead(candidates, { maxMessages: 3, maxReads: 2 }), ['q1', 'q2']);
  });

  test('a message the forecast leaves out of the batch is never in it, whatever the senders', () => {
    let seed = 7;
    const random = (below: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % below;
    };
    for (let round = 0; round < 200; round++) {
      const maxMessages = 1 + random(12);
      const senders = 1 + random(8);
      const before = Array.from({ length: random(10) }, (_, index) => (random(3) === 0 ? queued(`q${index}`) : read(`e${index}`, `s${random(senders)}@x.example`)));
      const joined = Array.from({ length: random(40) }, (_, index) => read(`r${index}`, `s${random(senders)}@x.example`));
      const forecast = new BatchForecast(before, maxMessages);
      const left = joined.filter((candidate) => !forecast.join(candidate.progress)).map(({ id }) => id);
      const batch = new Set(workBatch([...before, ...joined], maxMessages));
      assert.deepEqual(left.filter((id) => batch.has(id)), [], `round ${round}`);
    }
  });

  test('the forecast keeps no more than the batch can take of one sender', () => {
    const forecast = new BatchForecast([queued('q1')], 4);
    const kept = ['a1', 'a2', 'a3', 'a4', 'a5'].map((id) => forecast.join(read(id, 'a@x.example').progress));
    // The batch: q1, a1, a2, a3 (the unread lane and the sender's take turns while the unread lane lasts).
    assert.deepEqual(kept, [true, true, true, false, false]);
  });
});
