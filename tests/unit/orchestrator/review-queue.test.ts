// The review queue from the orchestrator's side: the service reads an agent's real `GET /v1/review` route
// (express, control token checked) through the real HttpAgentControl; the CLI's formatter shows reason and
// age, never content; a provisioned config's free-text opt-ins become ops-log entries.
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
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { mountReviewRoute } from '../../../agent-image/src/http/review-route.ts';
import type { ReviewEntry } from '../../../agent-image/src/services/runtime/agent-state-store.ts';
import { HttpAgentControl } from '../../../orchestrator/src/adapters/http/http-agent-control.ts';
import { FleetApiClient } from '../../../orchestrator/src/cli/fleet-api-client.ts';
import { OrchestratorClient } from '../../../orchestrator/src/cli/orchestrator-client.ts';
import { formatAge, formatReviewQueue } from '../../../orchestrator/src/cli/format/review.ts';
import type { NewOpsLogEntry } from '../../../orchestrator/src/ports/registry.ts';
import { FREE_TEXT_OPT_IN_ACTION, freeTextOptInEntries, recordFreeTextOptIns } from '../../../orchestrator/src/services/free-text-opt-ins.ts';
import { listReviewQueue, type ReviewQueueDependencies } from '../../../orchestrator/src/services/review-queue.ts';
import { agentTlsServer, testFleetCa } from '../../helpers/agent-tls.ts';

const TOKEN = 'control-token-of-acme';
const acme = parseClientId('acme');

describe('the review queue through the orchestrator', () => {
  let server: Server;
  let address: string;
  let caPem: string;
  let queue: ReviewEntry[] = [];

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
    mountReviewRoute(app, authenticated, { reviewQueue: () => queue });
    ({ server, address } = await agentTlsServer(acme, app));
    caPem = (await testFleetCa()).certificatePem;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function deps(overrides: { running?: boolean; token?: string | null; client?: boolean } = {}): ReviewQueueDependencies {
    return {
      registry: { getClient: async (id: ClientId) => (overrides.client === false ? null : ({ id, status: 'active' } as never)) },
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

  test('lists what the agent parked, with reason and since when only', async () => {
    queue = [
      { messageId: 'm-1', reason: 'malformed_model_output', since: '2026-03-01T10:00:00.000Z' },
      { messageId: 'm-2', reason: 'low_confidence', since: '2026-03-02T09:30:00.000Z' },
    ];
    const result = await listReviewQueue(deps(), 'acme');
    assert.deepEqual(result, { clientId: 'acme', review: queue });
  });

  test('an unknown client, a stopped agent or a wrong token is the matching error', async () => {
    const code = async (call: Promise<unknown>) => call.then(() => 'ok', (error: unknown) => (isFleetError(error) ? error.code : 'not a FleetError'));
    assert.equal(await code(listReviewQueue(deps({ client: false }), 'acme')), 'not_found');
    assert.equal(await code(listReviewQueue(deps({ running: false }), 'acme')), 'unavailable');
    assert.equal(await code(listReviewQueue(deps({ token: 'stolen' }), 'acme')), 'unauthorized');
    assert.equal(await code(listReviewQueue(deps(), 'Not A Client!')), 'invalid_input');
  });

  test('an answer of another shape is refused, not passed on', async () => {
    queue = [{ messageId: 'm-3', reason: 'x'.repeat(65), since: '2026-03-02T09:30:00.000Z' }];
    await assert.rejects(listReviewQueue(deps(), acme), (error: unknown) => isFleetError(error) && error.code === 'integrity');
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

  test('one line per message with reason and age, then the count', () => {
    const text = formatReviewQueue(
      'acme',
      [
        { messageId: 'm-1', reason: 'malformed_model_output', since: '2026-03-01T08:00:00Z' },
        { messageId: 'm-2', reason: 'low_confidence', since: '2026-03-03T11:00:00Z' },
      ],
      now,
    );
    assert.deepEqual(text.split('\n'), [
      'REASON                  AGE       MESSAGE',
      'malformed_model_output  2d 4h     m-1',
      'low_confidence          1h 0m     m-2',
      "2 message(s) waiting for review; open them in the client's mailbox.",
    ]);
    assert.equal(formatReviewQueue('acme', [], now), 'acme: nothing is waiting for review.');
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
