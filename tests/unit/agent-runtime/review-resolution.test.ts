// The human review queue inside the agent, with everything real but the mailbox: a human resolves a parked
// message (handled, or retry once), audited in the agent's own chain; the queue is bounded without losing
// anything silently; its length is a gauge; the control route parses strictly and answers clear errors.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { InboundFacts } from '../../../agent-image/src/domain/auto-reply/inbound-facts.ts';
import { createControlApp } from '../../../agent-image/src/http/control-server.ts';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import {
  REVIEW_QUEUE_LIMIT,
  resolveReview,
  reviewQueueReading,
  toReview,
  type ReviewParts,
} from '../../../agent-image/src/services/mail-loop/review-queue.ts';
import { AgentStateStore } from '../../../agent-image/src/services/runtime/agent-state-store.ts';
import type { ControlApi } from '../../../agent-image/src/services/runtime/control-api.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import { agentStores } from '../../helpers/agent-stores.ts';

const NOW = new Date('2026-03-02T10:00:00.000Z');
const INBOUND: InboundFacts = { sender: 'bob@example.com', senderAuthenticated: true, authReason: 'dmarc_pass', knownContact: true, injectionSignals: [] };

const stores = agentStores('review-resolution-');

async function setup() {
  let now = NOW;
  const clock = () => now;
  const { directory, keys, audit, state } = await stores.open(clock);
  const registry = new Registry();
  const metrics = new AgentMetrics(registry, { client: 'acme', version: '1.0.0' });
  const context = { audit, state, metrics, logger: createSilentLogger(), now: clock } as unknown as RuntimeContext;
  const parts: ReviewParts = { audit, state, now: clock };
  return {
    directory,
    keys,
    audit,
    state,
    registry,
    metrics,
    context,
    parts,
    advance: (ms: number) => {
      now = new Date(now.getTime() + ms);
    },
  };
}

/** A message read (sender facts kept), then parked by the agent for `reason`. */
async function parked(bed: Awaited<ReturnType<typeof setup>>, id: string, reason = 'low_confidence') {
  await bed.state.setProgress(id, { stage: 'read', at: bed.context.now().toISOString(), inbound: INBOUND });
  await toReview(bed.context, id, reason, { confidence: 0.3 });
}

const errorCode = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (error: unknown) => (isFleetError(error) ? error.code : 'not a FleetError'),
  );

describe('resolving a parked message', () => {
  test('handled: audited (who, which, what; no content), it leaves the queue; repeated, nothing changes or is recorded again', async () => {
    const bed = await setup();
    await parked(bed, 'm-1');
    await parked(bed, 'm-2', 'malformed_model_output');
    assert.deepEqual(bed.state.inReview()[0], { messageId: 'm-1', reason: 'low_confidence', since: NOW.toISOString(), retriedFrom: null, sender: 'bob@example.com', subject: null });

    const first = await resolveReview(bed.parts, { messageId: 'm-1', resolution: 'handled', by: 'dana@acme.example', via: 'portal' });
    assert.deepEqual(first, { messageId: 'm-1', resolution: 'handled', changed: true });
    assert.deepEqual(bed.state.inReview().map((entry) => entry.messageId), ['m-2']);
    assert.equal(bed.state.progress('m-1')?.stage, 'done');

    const again = await resolveReview(bed.parts, { messageId: 'm-1', resolution: 'handled', by: 'dana@acme.example' });
    assert.equal(again.changed, false);

    const resolved = (await bed.audit.read()).filter((record) => record.action_type === 'review_resolved');
    assert.equal(resolved.length, 1, 'one record for one resolution');
    const record = resolved[0]!;
    assert.equal(record.actor, 'admin:dana@acme.example');
    assert.equal(record.target, 'm-1');
    assert.equal(record.content_hash, null);
    assert.deepEqual(record.parameters, { message_id: 'm-1', resolution: 'handled', reason: 'low_confidence', via: 'portal' });
  });

  test('retry: queued again once with the reason remembered through every stage and a restart; parked again, only handled remains', async () => {
    const bed = await setup();
    await parked(bed, 'm-1');
    const retried = await resolveReview(bed.parts, { messageId: 'm-1', resolution: 'retry', by: 'ops-kim' });
    assert.equal(retried.changed, true);
    assert.deepEqual(bed.state.progress('m-1'), { stage: 'queued', at: NOW.toISOString(), reviewRetriedFrom: 'low_confidence' });
    assert.deepEqual(bed.state.unfinished().map((entry) => entry.id), ['m-1'], 'the mail loop picks it up again');
    assert.equal((await resolveReview(bed.parts, { messageId: 'm-1', resolution: 'retry', by: 'ops-kim' })).changed, false, 'a repeated retry changes nothing');

    // The stages write their own progress, without the mark: the store keeps it (and across a restart).
    await bed.state.setProgress('m-1', { stage: 'read', at: NOW.toISOString(), inbound: INBOUND });
    await bed.state.close();
    const reopened = await AgentStateStore.open({ directory: join(bed.directory, 'state'), keys: bed.keys, now: () => NOW });
    stores.closeAfterTests(reopened);
    assert.equal(reopened.progress('m-1')?.reviewRetriedFrom, 'low_confidence');
    const context = { ...bed.context, state: reopened } as RuntimeContext;
    const parts = { ...bed.parts, state: reopened };

    await toReview(context, 'm-1', 'unusable_draft');
    assert.deepEqual(reopened.inReview(), [{ messageId: 'm-1', reason: 'unusable_draft', since: NOW.toISOString(), retriedFrom: 'low_confidence', sender: 'bob@example.com', subject: null }]);
    const queued = (await bed.audit.read()).filter((record) => record.action_type === 'review_queued');
    assert.equal(queued.at(-1)?.parameters['retried_from'], 'low_confidence');

    assert.equal(await errorCode(resolveReview(parts, { messageId: 'm-1', resolution: 'retry', by: 'ops-kim' })), 'conflict', 'no second retry');
    assert.equal((await resolveReview(parts, { messageId: 'm-1', resolution: 'handled', by: 'ops-kim' })).changed, true);
    const resolved = (await bed.audit.read()).filter((record) => record.action_type === 'review_resolved');
    assert.deepEqual(
      resolved.map((record) => [record.parameters['resolution'], record.parameters['retried_from'] ?? null, record.approval_status]),
      [
        ['retry', null, 'approved'],
        ['handled', 'low_confidence', 'not_required'],
      ],
    );
  });

  test('an unknown id is not_found; a message not waiting for review, or handled, cannot be retried', async () => {
    const bed = await setup();
    await bed.state.setProgress('m-busy', { stage: 'drafted', at: NOW.toISOString() });
    await parked(bed, 'm-1');
    await resolveReview(bed.parts, { messageId: 'm-1', resolution: 'handled', by: 'ops-kim' });
    assert.equal(await errorCode(resolveReview(bed.parts, { messageId: 'm-unknown', resolution: 'handled', by: 'ops-kim' })), 'not_found');
    assert.equal(await errorCode(resolveReview(bed.parts, { messageId: 'm-busy', resolution: 'handled', by: 'ops-kim' })), 'conflict');
    assert.equal(await errorCode(resolveReview(bed.parts, { messageId: 'm-1', resolution: 'retry', by: 'ops-kim' })), 'conflict');
    assert.equal(bed.state.progress('m-busy')?.stage, 'drafted', 'nothing changed');
  });

  test('two resolutions of one entry at once are recorded once', async () => {
    const bed = await setup();
    await parked(bed, 'm-1');
    const results = await Promise.all([
      resolveReview(bed.parts, { messageId: 'm-1', resolution: 'handled', by: 'dana@acme.example' }),
      resolveReview(bed.parts, { messageId: 'm-1', resolution: 'handled', by: 'lee@acme.example' }),
    ]);
    assert.deepEqual(results.map((result) => result.changed).sort(), [false, true]);
    assert.equal((await bed.audit.read()).filter((record) => record.action_type === 'review_resolved').length, 1);
  });
});

describe('the queue’s bound and gauges', () => {
  test(`past ${REVIEW_QUEUE_LIMIT} entries the oldest leaves, audited as an overflow and counted; the state stays bounded`, async () => {
    const bed = await setup();
    bed.metrics.readReviewQueueFrom(() => reviewQueueReading(bed.state));
    for (let index = 0; index < REVIEW_QUEUE_LIMIT; index++) {
      await bed.state.setProgress(`m-${index}`, { stage: 'review', at: new Date(NOW.getTime() + index * 1000).toISOString(), reviewReason: 'low_confidence' });
    }
    bed.advance(REVIEW_QUEUE_LIMIT * 1000 + 1000);
    await parked(bed, 'm-new', 'unusable_draft');
    const queue = bed.state.inReview();
    assert.equal(queue.length, REVIEW_QUEUE_LIMIT);
    assert.equal(queue[0]?.messageId, 'm-1', 'the oldest left');
    assert.equal(queue.at(-1)?.messageId, 'm-new', 'the new one stays');
    assert.deepEqual(bed.state.progress('m-0'), { stage: 'done', at: bed.context.now().toISOString(), reviewReason: 'low_confidence', reviewOutcome: 'overflowed' });

    const overflow = (await bed.audit.read()).filter((record) => record.action_type === 'review_resolved');
    assert.equal(overflow.length, 1);
    assert.equal(overflow[0]?.actor, 'system');
    assert.equal(overflow[0]?.target, 'm-0');
    assert.equal(overflow[0]?.approval_status, 'expired');
    assert.deepEqual(overflow[0]?.parameters, { message_id: 'm-0', resolution: 'overflow', reason: 'low_confidence', limit: REVIEW_QUEUE_LIMIT });

    // A human can still put their word on record for it; a retry of it is refused.
    assert.equal(await errorCode(resolveReview(bed.parts, { messageId: 'm-0', resolution: 'retry', by: 'ops-kim' })), 'conflict');
    assert.equal((await resolveReview(bed.parts, { messageId: 'm-0', resolution: 'handled', by: 'ops-kim' })).changed, true);

    const metrics = await bed.registry.getMetricsAsJSON();
    const value = (name: string) => metrics.find((metric) => metric.name === name)?.values[0]?.value;
    assert.equal(value('agent_review_overflow_total'), 1);
    assert.equal(value('agent_review_queue_length'), REVIEW_QUEUE_LIMIT);
    assert.equal(value('agent_review_queue_oldest_timestamp_seconds'), (NOW.getTime() + 1000) / 1000);
  });

  test('the gauges are NaN until a volume is open, and the length of the queue after', async () => {
    const registry = new Registry();
    const metrics = new AgentMetrics(registry, { client: 'acme', version: '1.0.0' });
    const value = async (name: string) => (await registry.getMetricsAsJSON()).find((metric) => metric.name === name)?.values[0]?.value;
    assert.ok(Number.isNaN(await value('agent_review_queue_length')));
    let reading: { length: number; oldestSince: string | null } | null = null;
    metrics.readReviewQueueFrom(() => reading);
    assert.ok(Number.isNaN(await value('agent_review_queue_length')));
    reading = { length: 0, oldestSince: null };
    assert.equal(await value('agent_review_queue_length'), 0);
    assert.ok(Number.isNaN(await value('agent_review_queue_oldest_timestamp_seconds')));
    reading = { length: 3, oldestSince: NOW.toISOString() };
    assert.equal(await value('agent_review_queue_length'), 3);
    assert.equal(await value('agent_review_queue_oldest_timestamp_seconds'), NOW.getTime() / 1000);
  });
});

describe('the control route', () => {
  const token = randomBytes(16).toString('hex');
  let server: Server | undefined;
  after(() => server?.close());

  async function serve() {
    const bed = await setup();
    const api = {
      authenticate: async (bearer: string | null) => {
        if (bearer !== token) throw new FleetError('unauthorized', 'wrong control token');
      },
      reviewQueue: () => bed.state.inReview(),
      resolveReview: (input: Parameters<ControlApi['resolveReview']>[0]) => resolveReview(bed.parts, input),
    } as unknown as ControlApi;
    server = createControlApp(api, createSilentLogger()).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server!.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const send = async (body: unknown, bearer = token) => {
      const response = await fetch(`${base}/v1/review/resolve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    return { bed, base, send };
  }

  test('lists the queue with its bound; resolves with a strict body; unknown ids and wrong states are clear errors', async () => {
    const { bed, base, send } = await serve();
    await parked(bed, 'm-1');
    const listed = await fetch(`${base}/v1/review`, { headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(await listed.json(), {
      review: [{ messageId: 'm-1', reason: 'low_confidence', since: NOW.toISOString(), retriedFrom: null, sender: 'bob@example.com', subject: null }],
      limit: REVIEW_QUEUE_LIMIT,
    });

    assert.equal((await send({ messageId: 'm-1', resolution: 'handled', by: 'x' }, 'stolen')).status, 401);
    for (const body of [
      { messageId: 'm-1', resolution: 'handled', by: 'ops-kim', extra: true },
      { messageId: 'm-1', resolution: 'ignore', by: 'ops-kim' },
      { messageId: 'm-1', resolution: 'handled' },
      { messageId: 'm-1\nforged', resolution: 'handled', by: 'ops-kim' },
      { messageId: 'm'.repeat(2001), resolution: 'handled', by: 'ops-kim' },
      { messageId: 'm-1', resolution: 'handled', by: 'ops-kim', via: 'email' },
      ['m-1'],
    ]) {
      const answer = await send(body);
      assert.equal(answer.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(answer.body['code'], 'invalid_input');
    }
    assert.equal(bed.state.progress('m-1')?.stage, 'review', 'no refused body changed anything');

    assert.deepEqual(await send({ messageId: 'm-unknown', resolution: 'handled', by: 'ops-kim' }), {
      status: 404,
      body: { code: 'not_found', message: 'no such message in the review queue' },
    });
    assert.deepEqual(await send({ messageId: 'm-1', resolution: 'handled', by: 'ops-kim' }), {
      status: 200,
      body: { messageId: 'm-1', resolution: 'handled', changed: true },
    });
    const retry = await send({ messageId: 'm-1', resolution: 'retry', by: 'ops-kim' });
    assert.equal(retry.status, 409);
    assert.match(String(retry.body['message']), /not waiting for review \(it is already marked handled\)/);
  });
});
