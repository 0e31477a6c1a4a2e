// The subject line a parked message keeps for the client's portal: one bounded line without the characters
// that hide or reorder text, encrypted at rest with the rest of the state, never in the audit trail, gone
// once the message leaves the queue; entries parked without one list it as null. The queue's
// read-check-writes are serialised by the state store that owns the queue (no module-level map).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import { QUOTE_MAX_CHARS } from '../../../agent-image/src/services/daily-summary/mail-quote.ts';
import { REVIEW_QUEUE_LIMIT, resolveReview, reviewSubject, toReview } from '../../../agent-image/src/services/mail-loop/review-queue.ts';
import { AgentStateStore } from '../../../agent-image/src/services/runtime/agent-state-store.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import { agentStores } from '../../helpers/agent-stores.ts';

const NOW = new Date('2026-03-02T10:00:00.000Z');
const stores = agentStores('review-subject-');

async function setup() {
  let now = NOW;
  const clock = () => now;
  const { directory, keys, audit, state } = await stores.open(clock);
  const metrics = new AgentMetrics(new Registry(), { client: 'acme', version: '1.0.0' });
  const context = { audit, state, metrics, logger: createSilentLogger(), now: clock } as unknown as RuntimeContext;
  return { directory, keys, audit, state, context, parts: { audit, state, now: clock }, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

async function filesUnder(directory: string): Promise<Buffer> {
  const names = await readdir(directory, { recursive: true, withFileTypes: true });
  const files = names.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  return Buffer.concat(await Promise.all(files.map((file) => readFile(file))));
}

describe('the subject of a parked message', () => {
  test('is one line without hidden or reordering characters, at most as long as an approval notice quotes it', () => {
    assert.equal(reviewSubject('Invoice\r\nBcc: ceo@victim.example\u0000\u0007 due'), 'Invoice Bcc: ceo@victim.example due');
    assert.equal(reviewSubject('Invoice \u202Efdp.exe\u2066'), 'Invoice \uFFFDfdp.exe\uFFFD', 'a bidi override cannot reorder what the admin reads');
    assert.equal(reviewSubject('pay\u200B now\u{E0041}\u{E0042}'), 'pay now', 'invisible characters and tag text are dropped');
    assert.equal(reviewSubject(''), '');
    const long = reviewSubject('é'.repeat(50) + '\u{1F600}'.repeat(100_000));
    assert.equal(Array.from(long).length, QUOTE_MAX_CHARS);
    assert.ok(long.endsWith('…'));
  });

  test('is kept with the entry through a restart, encrypted at rest and never audited; without one it is null', async () => {
    const bed = await setup();
    const marker = `Quarterly-${randomBytes(8).toString('hex')}`;
    await toReview(bed.context, 'm-1', 'low_confidence', { confidence: 0.3 }, `${marker}\n\u202Eresults`);
    await toReview(bed.context, 'm-2', 'processing_failed');
    await toReview(bed.context, 'm-3', 'unusable_draft', {}, '   ');
    // A sender's subject of any length parks (the stored form refuses over 1000 units, and would stop the agent).
    await toReview(bed.context, 'm-4', 'unusable_draft', {}, '\u202E'.repeat(200_000));
    await bed.state.close();

    const reopened = await AgentStateStore.open({ directory: join(bed.directory, 'state'), keys: bed.keys, now: () => NOW });
    stores.closeAfterTests(reopened);
    assert.deepEqual(
      reopened.inReview().map((entry) => [entry.messageId, entry.subject]),
      [
        ['m-1', `${marker} \uFFFDresults`],
        ['m-2', null],
        ['m-3', ''],
        ['m-4', `${'\uFFFD'.repeat(QUOTE_MAX_CHARS - 1)}…`],
      ],
    );
    const stored = await filesUnder(bed.directory);
    assert.ok(!stored.includes(marker), 'the subject is not in any file of the volume in the clear');
    assert.ok(!JSON.stringify(await bed.audit.read()).includes(marker), 'the subject is not in the audit trail');
  });

  test('leaves the state with the entry: handled, tried again or overflowed', async () => {
    const bed = await setup();
    for (const id of ['m-handled', 'm-retry']) await toReview(bed.context, id, 'low_confidence', {}, `Subject of ${id}`);
    await resolveReview(bed.parts, { messageId: 'm-handled', resolution: 'handled', by: 'dana@acme.example' });
    await resolveReview(bed.parts, { messageId: 'm-retry', resolution: 'retry', by: 'dana@acme.example' });
    assert.equal(bed.state.progress('m-handled')?.reviewSubject, undefined);
    assert.equal(bed.state.progress('m-retry')?.reviewSubject, undefined);

    for (let index = 0; index < REVIEW_QUEUE_LIMIT; index++) {
      await bed.state.setProgress(`m-${index}`, { stage: 'review', at: new Date(NOW.getTime() + index).toISOString(), reviewReason: 'low_confidence', reviewSubject: `s-${index}` });
    }
    bed.advance(REVIEW_QUEUE_LIMIT + 1000);
    await toReview(bed.context, 'm-new', 'unusable_draft', {}, 'the newest');
    assert.equal(bed.state.progress('m-0')?.reviewOutcome, 'overflowed');
    assert.equal(bed.state.progress('m-0')?.reviewSubject, undefined);
    assert.equal(bed.state.inReview().at(-1)?.subject, 'the newest');
  });
});

describe('resolving with odd ids', () => {
  test('ids that name object internals are simply not in the queue', async () => {
    const bed = await setup();
    await toReview(bed.context, 'm-1', 'low_confidence', {}, 'kept');
    for (const messageId of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'm-1 ', 'M-1']) {
      await assert.rejects(resolveReview(bed.parts, { messageId, resolution: 'handled', by: 'dana@acme.example' }), { code: 'not_found' }, messageId);
    }
    assert.deepEqual(bed.state.inReview().map((entry) => entry.messageId), ['m-1']);
  });
});

describe('the review queue’s serialisation', () => {
  test('belongs to each state store: its changes run one after another, and another store’s do not wait for them', async () => {
    const first = await setup();
    const second = await setup();
    const order: string[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = first.state.changeReviewQueue(async () => {
      order.push('first:start');
      await held;
      order.push('first:end');
    });
    const queued = first.state.changeReviewQueue(async () => void order.push('first:next'));
    await second.state.changeReviewQueue(async () => void order.push('second'));
    release();
    await Promise.all([slow, queued]);
    assert.deepEqual(order, ['first:start', 'second', 'first:end', 'first:next']);
  });
});
