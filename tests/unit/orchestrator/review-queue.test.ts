// The review queue from the orchestrator's side: the service reads and resolves through an agent's real
// `/v1/review` routes (express, control token checked) and the real HttpAgentControl; the ops API route
// parses strictly; the CLI's formatter shows reason, age and the retry left, never content; a provisioned
// config's free-text opt-ins become ops-log entries.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { Server } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { FREE_TEXT_AUTO_SEND_RISK, parseClientConfig } from '@agent-fleet/kernel/client-config';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { httpStatusOf } from '@agent-fleet/kernel/error-status';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import { mountReviewRoute } from '../../../agent-image/src/http/review-route.ts';
import type { ReviewResolutionInput } from '../../../agent-image/src/services/mail-loop/review-queue.ts';
import type { ReviewEntry } from '../../../agent-image/src/services/runtime/agent-state-store.ts';
import type { Orchestrator } from '../../../orchestrator/src/orchestrator.ts';
import { HttpAgentControl } from '../../../orchestrator/src/adapters/http/http-agent-control.ts';
import { FleetApiClient } from '../../../orchestrator/src/cli/fleet-api-client.ts';
import { OrchestratorClient } from '../../../orchestrator/src/cli/orchestrator-client.ts';
import { formatAge, formatReviewQueue, formatReviewResolved } from '../../../orchestrator/src/cli/format/review.ts';
import type { NewOpsLogEntry } from '../../../orchestrator/src/ports/registry.ts';
import { FREE_TEXT_OPT_IN_ACTION, freeTextOptInEntries, recordFreeTextOptIns } from '../../../orchestrator/src/services/free-text-opt-ins.ts';
import { listClientReviewQueue, listReviewQueue, resolveReviewEntry, type ReviewQueueDependencies } from '../../../orchestrator/src/services/review-queue.ts';
import { agentTlsServer, testFleetCa } from '../../helpers/agent-tls.ts';
import { serveApiRouter } from './api-router-server.ts';

const TOKEN = 'control-token-of-acme';
const acme = parseClientId('acme');

describe('the review queue through the orchestrator', () => {
  let server: Server;
  let address: string;
  let caPem: string;
  let queue: ReviewEntry[] = [];
  const resolutions: ReviewResolutionInput[] = [];
  const opsLog: NewOpsLogEntry[] = [];

  before(async () => {
    const app = express();
    // The control server's own guard, reduced to its rule: the bearer token or 401.
    const authenticated = (handler: (request: express.Request, response: express.Response) => Promise<void>): express.RequestHandler => (request, response, next) => {
      if (request.get('authorization') !== `Bearer ${TOKEN}`) {
        response.status(401).json({ code: 'unauthorized', message: 'bad token' });
        return;
      }
      handler(request, response).catch(next);
    };
    app.use(express.json());
    // The agent's resolver reduced to its answers: a known id resolves (once), another is in the wrong state.
    const resolved = new Set<string>();
    mountReviewRoute(app, authenticated, {
      reviewQueue: () => queue,
      resolveReview: async (input) => {
        resolutions.push(input);
        if (input.messageId === 'm-busy') throw new FleetError('conflict', 'the message is not waiting for review (it is drafted)');
        if (input.messageId !== 'm-1') throw new FleetError('not_found', 'no such message in the review queue');
        const changed = !resolved.has(input.resolution);
        resolved.add(input.resolution);
        return { messageId: input.messageId, resolution: input.resolution, changed };
      },
    });
    // The control server's error answer, reduced to its rule: `{ code, message }` with the code's status.
    app.use((error: unknown, _request: express.Request, response: express.Response, _next: express.NextFunction) => {
      const fleet = isFleetError(error) ? error : new FleetError('internal', 'internal error');
      response.status(httpStatusOf(fleet.code)).json({ code: fleet.code, message: fleet.message });
    });
    ({ server, address } = await agentTlsServer(acme, app));
    caPem = (await testFleetCa()).certificatePem;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function deps(overrides: { running?: boolean; token?: string | null; client?: boolean } = {}): ReviewQueueDependencies {
    return {
      registry: {
        getClient: async (id: ClientId) => (overrides.client === false ? null : ({ id, status: 'active' } as never)),
        appendOpsLog: async (entry) => (opsLog.push(entry), { ...entry, seq: opsLog.length, at: '', prevHash: '', hash: '' }) as never,
      },
      runtime: {
        inspectAgent: async (clientId: ClientId) => ({
          clientId,
          exists: true as const,
          running: overrides.running ?? true,
          status: overrides.running === false ? 'exited' : 'running',
          exitCode: null,
          startedAt: null,
          endpoints: { control: address, metrics: address },
        }),
      },
      control: new HttpAgentControl({ caPem }),
      secrets: { readControlToken: async () => (overrides.token === undefined ? TOKEN : overrides.token) },
    };
  }

  test('lists what the agent parked, with reason, since when and the retry left only: sender and subject only for the client’s portal', async () => {
    queue = [
      { messageId: 'm-1', reason: 'malformed_model_output', since: '2026-03-01T10:00:00.000Z', retriedFrom: null, sender: 'bob@example.com', subject: 'Invoice 42' },
      { messageId: 'm-2', reason: 'low_confidence', since: '2026-03-02T09:30:00.000Z', retriedFrom: 'unusable_draft', sender: null, subject: null },
    ];
    assert.deepEqual(await listReviewQueue(deps(), 'acme'), {
      clientId: 'acme',
      review: [
        { messageId: 'm-1', reason: 'malformed_model_output', since: '2026-03-01T10:00:00.000Z', retriedFrom: null },
        { messageId: 'm-2', reason: 'low_confidence', since: '2026-03-02T09:30:00.000Z', retriedFrom: 'unusable_draft' },
      ],
      limit: 1000,
    });
    assert.deepEqual(await listClientReviewQueue(deps(), 'acme'), { clientId: 'acme', review: queue, limit: 1000 });
  });

  test('an agent from before resolutions (no retry, sender or subject field) still lists', async () => {
    queue = [{ messageId: 'm-1', reason: 'low_confidence', since: '2026-03-02T09:30:00.000Z' } as ReviewEntry];
    assert.deepEqual((await listClientReviewQueue(deps(), 'acme')).review, [
      { messageId: 'm-1', reason: 'low_confidence', since: '2026-03-02T09:30:00.000Z', retriedFrom: null, sender: null, subject: null },
    ]);
  });

  test('a resolution reaches the agent as the member, then the ops log; repeated, it says nothing changed', async () => {
    resolutions.length = 0;
    opsLog.length = 0;
    const first = await resolveReviewEntry(deps(), 'acme', { messageId: 'm-1', resolution: 'retry', by: 'ops-kim', actor: 'ops-kim' });
    assert.deepEqual(first, { messageId: 'm-1', resolution: 'retry', changed: true });
    const again = await resolveReviewEntry(deps(), 'acme', { messageId: 'm-1', resolution: 'retry', by: 'dana@acme.example', actor: 'client-admin:dana@acme.example', via: 'portal' });
    assert.equal(again.changed, false);
    assert.deepEqual(resolutions, [
      { messageId: 'm-1', resolution: 'retry', by: 'ops-kim' },
      { messageId: 'm-1', resolution: 'retry', by: 'dana@acme.example', via: 'portal' },
    ]);
    assert.deepEqual(
      opsLog.map((entry) => [entry.actor, entry.action, entry.details]),
      [
        ['ops-kim', 'review-retry', { messageId: 'm-1', changed: true, via: 'orchestrator-api' }],
        ['client-admin:dana@acme.example', 'review-retry', { messageId: 'm-1', changed: false, via: 'portal' }],
      ],
    );
  });

  test('the agent’s not_found and conflict pass through; a malformed id never reaches the agent; nothing is ops-logged for them', async () => {
    resolutions.length = 0;
    opsLog.length = 0;
    const code = async (call: Promise<unknown>) => call.then(() => 'ok', (error: unknown) => (isFleetError(error) ? error.code : 'not a FleetError'));
    const resolve = (messageId: unknown) => resolveReviewEntry(deps(), 'acme', { messageId, resolution: 'handled', by: 'ops-kim', actor: 'ops-kim' });
    assert.equal(await code(resolve('m-unknown')), 'not_found');
    assert.equal(await code(resolve('m-busy')), 'conflict');
    for (const bad of ['', 'm-1\nforged', 'x'.repeat(2001), 42]) assert.equal(await code(resolve(bad)), 'invalid_input');
    assert.equal(resolutions.length, 2, 'only the well-formed ids were asked');
    assert.deepEqual(opsLog, []);
  });

  test('an unknown client, a stopped agent or a wrong token is the matching error', async () => {
    const code = async (call: Promise<unknown>) => call.then(() => 'ok', (error: unknown) => (isFleetError(error) ? error.code : 'not a FleetError'));
    assert.equal(await code(listReviewQueue(deps({ client: false }), 'acme')), 'not_found');
    assert.equal(await code(listReviewQueue(deps({ running: false }), 'acme')), 'unavailable');
    assert.equal(await code(listReviewQueue(deps({ token: 'stolen' }), 'acme')), 'unauthorized');
    assert.equal(await code(listReviewQueue(deps(), 'Not A Client!')), 'invalid_input');
  });

  test('an answer of another shape is refused, not passed on', async () => {
    queue = [{ messageId: 'm-3', reason: 'x'.repeat(65), since: '2026-03-02T09:30:00.000Z', retriedFrom: null, sender: null, subject: null }];
    await assert.rejects(listReviewQueue(deps(), acme), (error: unknown) => isFleetError(error) && error.code === 'integrity');
    // Far longer than any subject line the agent keeps: not passed on to the portal.
    queue = [{ messageId: 'm-3', reason: 'low_confidence', since: '2026-03-02T09:30:00.000Z', retriedFrom: null, sender: null, subject: 's'.repeat(100_000) }];
    await assert.rejects(listClientReviewQueue(deps(), acme), (error: unknown) => isFleetError(error) && error.code === 'integrity');
  });
});

describe('the CLI’s API client', () => {
  test('listReview asks the orchestrator for the client’s review queue and returns it typed', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'fleet-review-'));
    const socketPath = path.join(home, 'orchestrator.sock');
    const asked: string[] = [];
    const answer = { clientId: 'acme', review: [{ messageId: 'm-1', reason: 'low_confidence', since: '2026-03-02T09:30:00.000Z' }] };
    const server = http.createServer((request, response) => {
      asked.push(`${request.method ?? ''} ${request.url ?? ''}`);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const api = new FleetApiClient(new OrchestratorClient({ socketPath, homeDir: home }), 'ops@host');
      assert.deepEqual(await api.listReview(acme), answer);
      assert.deepEqual(asked, ['GET /v1/clients/acme/review']);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(home, { recursive: true, force: true });
    }
  });

  test('resolveReview posts the message id, the resolution and the actor; an id with a slash stays in the body', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'fleet-review-'));
    const socketPath = path.join(home, 'orchestrator.sock');
    const asked: string[] = [];
    const server = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        asked.push(`${request.method ?? ''} ${request.url ?? ''} ${body}`);
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ messageId: 'AAMk/x+y=', resolution: 'handled', changed: true }));
      });
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const api = new FleetApiClient(new OrchestratorClient({ socketPath, homeDir: home }), 'ops@host');
      assert.deepEqual(await api.resolveReview(acme, 'AAMk/x+y=', 'handled'), { messageId: 'AAMk/x+y=', resolution: 'handled', changed: true });
      assert.deepEqual(asked, ['POST /v1/clients/acme/review/resolve {"messageId":"AAMk/x+y=","resolution":"handled","actor":"ops@host"}']);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('the ops API route', () => {
  test('POST /clients/:id/review/resolve takes a strict body and resolves as the actor', async () => {
    const asked: unknown[] = [];
    const orchestrator = {
      registry: { getClient: async (id: ClientId) => ({ id, status: 'active' }), appendOpsLog: async () => ({}) },
      runtime: { inspectAgent: async () => ({ running: true, endpoints: { control: 'https://127.0.0.1:1', metrics: '' } }) },
      control: {
        request: async (...args: unknown[]) => {
          asked.push(args.slice(3));
          return { messageId: 'm-1', resolution: 'handled', changed: true };
        },
      },
      secretBackend: { store: { readControlToken: async () => 'control-token-of-acme' } },
    } as unknown as Orchestrator;
    const { server, base } = await serveApiRouter(orchestrator);
    const post = async (body: unknown) => {
      const response = await fetch(`${base}/clients/acme/review/resolve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    try {
      for (const body of [
        { messageId: 'm-1', resolution: 'handled', extra: 1 },
        { messageId: 'm-1', resolution: 'done' },
        { messageId: 'm-1\u001b[2J', resolution: 'handled' },
        { resolution: 'handled' },
      ]) {
        const answer = await post(body);
        assert.equal(answer.status, 400, JSON.stringify(body));
        assert.equal(answer.body['code'], 'invalid_input');
      }
      assert.deepEqual(asked, [], 'nothing refused reached the agent');
      assert.deepEqual(await post({ messageId: 'm-1', resolution: 'handled', actor: 'ops-kim' }), { status: 200, body: { messageId: 'm-1', resolution: 'handled', changed: true } });
      assert.deepEqual(asked, [['POST', '/v1/review/resolve', { messageId: 'm-1', resolution: 'handled', by: 'ops-kim' }]]);
    } finally {
      server.close();
    }
  });
});

describe('fleet review list output', () => {
  const now = new Date('2026-03-03T12:00:00Z');

  test('ages are coarse and never negative', () => {
    assert.equal(formatAge('2026-03-01T08:00:00Z', now), '2d 4h');
    assert.equal(formatAge('2026-03-03T09:55:00Z', now), '2h 5m');
    assert.equal(formatAge('2026-03-03T11:59:20Z', now), '40s');
    assert.equal(formatAge('2026-03-03T13:00:00Z', now), '0s');
    assert.equal(formatAge('not a date', now), '?');
  });

  test('one line per message with reason, age and the retry left, then the count and what to do next', () => {
    const text = formatReviewQueue(
      'acme',
      [
        { messageId: 'm-1', reason: 'malformed_model_output', since: '2026-03-01T08:00:00Z', retriedFrom: null },
        { messageId: 'm-2', reason: 'low_confidence', since: '2026-03-03T11:00:00Z', retriedFrom: 'unusable_draft' },
      ],
      now,
    );
    assert.deepEqual(text.split('\n'), [
      'REASON                  AGE       RETRY  MESSAGE',
      'malformed_model_output  2d 4h     left   m-1',
      'low_confidence          1h 0m     used   m-2',
      "2 message(s) waiting for review; open them in the client's mailbox.",
      'Then: fleet review handled acme <message>, or fleet review retry acme <message> (once per message).',
    ]);
    assert.equal(formatReviewQueue('acme', [], now), 'acme: nothing is waiting for review.');
  });

  test('a resolution says what happened, on one line whatever the id holds', () => {
    assert.equal(formatReviewResolved({ messageId: 'm-1', resolution: 'handled', changed: true }), 'm-1: marked handled; it has left the review queue.');
    assert.equal(formatReviewResolved({ messageId: 'm-1', resolution: 'handled', changed: false }), 'm-1: was already marked handled; nothing changed.');
    assert.match(formatReviewResolved({ messageId: 'm-1', resolution: 'retry', changed: true }), /^m-1: the agent will process it again, once/);
    assert.equal(formatReviewResolved({ messageId: 'm-1', resolution: 'retry', changed: false }), 'm-1: was already given back to the agent; nothing changed.');
    const forged = formatReviewResolved({ messageId: 'm-1\nm-2: marked handled', resolution: 'retry', changed: false });
    assert.equal(forged.split('\n').length, 1);
  });
});

describe('free-text auto-send opt-ins in the ops log', () => {
  const config = (optIn: boolean) => {
    const parsed = parseClientConfig({
      client: 'acme',
      ...(optIn
        ? { autoReply: { freeTextAutoSend: [{ type: 'follow_up', acceptedRisk: FREE_TEXT_AUTO_SEND_RISK, acceptedBy: 'boss@acme.example', acceptedAt: '2026-03-01T09:00:00Z' }] } }
        : {}),
    });
    if (!parsed.ok) throw new Error(parsed.issues.join('; '));
    return parsed.config;
  };

  test('the default config records nothing', () => {
    assert.deepEqual(freeTextOptInEntries({ actor: 'ops', clientId: 'acme', config: config(false) }), []);
  });

  test('each opted-in type is one entry, with the risk accepted, who accepted it and when', async () => {
    const appended: NewOpsLogEntry[] = [];
    const count = await recordFreeTextOptIns({ appendOpsLog: async (entry) => (appended.push(entry), { ...entry, seq: 1, at: '', prevHash: '', hash: '' }) as never }, {
      actor: 'ops',
      clientId: 'acme',
      config: config(true),
    });
    assert.equal(count, 1);
    assert.deepEqual(appended, [
      {
        actor: 'ops',
        action: FREE_TEXT_OPT_IN_ACTION,
        clientId: 'acme',
        reason: FREE_TEXT_AUTO_SEND_RISK,
        outcome: 'recorded',
        details: { type: 'follow_up', acceptedBy: 'boss@acme.example', acceptedAt: '2026-03-01T09:00:00Z' },
      },
    ]);
  });
});
