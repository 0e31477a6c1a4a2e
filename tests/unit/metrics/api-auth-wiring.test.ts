// The ops API counts its refusals with the counter the orchestrator created (orchestrator.authFailures),
// on both listeners: the wiring no longer looks the counter up by name in the metrics registry, where a
// registry without it silently counted nothing.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { createSocketApp, createTcpApp } from '../../../orchestrator/src/http/create-apps.ts';
import type { Orchestrator } from '../../../orchestrator/src/orchestrator.ts';

/** Just what the apps' authentication reads: a team with a member, no sessions, a registry for the ops log. */
function orchestratorCounting(refusals: { api: number; portal: number }): Orchestrator {
  return {
    metrics: new Registry(),
    authFailures: { api: () => (refusals.api += 1), portal: () => (refusals.portal += 1) },
    team: { sessions: { authenticate: async () => null }, members: { count: async () => 1 } },
    support: { list: async () => [] },
    registry: { appendOpsLog: async () => undefined },
  } as unknown as Orchestrator;
}

async function statusOf(app: ReturnType<typeof createSocketApp>, token?: string): Promise<number> {
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  try {
    const { port } = server.address() as AddressInfo;
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    return (await fetch(`http://127.0.0.1:${port}/v1/clients`, { headers })).status;
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

test('a refused request on either listener is counted by the orchestrator’s api counter', async () => {
  const refusals = { api: 0, portal: 0 };
  const orchestrator = orchestratorCounting(refusals);
  const logger = createSilentLogger();
  assert.equal(await statusOf(createTcpApp(orchestrator, orchestrator.metrics, undefined, logger)), 401);
  assert.equal(await statusOf(createSocketApp(orchestrator, logger), `fs1.unknown-${process.pid}`), 401);
  assert.deepEqual(refusals, { api: 2, portal: 0 });
});
