// The health wait against a stand-in workload and probe: it polls with a short backoff (no fixed 100 ms
// between polls), inspects the workload only until its endpoints are known and then every
// `inspectEveryMs` while /healthz does not answer, and still notices an agent that exited.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { AgentHealthProbe } from '../../../orchestrator/src/ports/agent-health.ts';
import type { AgentWorkloadState, ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import { explainedByExit, waitForAgentHealth } from '../../../orchestrator/src/services/wait-for-agent-health.ts';

const acme = parseClientId('acme');
const ENDPOINTS = { control: '127.0.0.1:41000', metrics: '127.0.0.1:41001' };

/** A workload whose state `stateAt(elapsedMs)` decides, and a probe healthy once `healthyAfterProbes` failed. */
function standIns(options: { healthyAfterProbes: number; stateAt?: (elapsedMs: number) => Partial<AgentWorkloadState> | null }) {
  const begin = Date.now();
  const seen = { inspections: 0, inspectionsWithEndpoints: 0, probes: 0 };
  const runtime = {
    kind: 'docker',
    inspectAgent: async (clientId: ClientId): Promise<AgentWorkloadState | null> => {
      seen.inspections += 1;
      const state = options.stateAt ? options.stateAt(Date.now() - begin) : {};
      if (state === null) return null;
      const full = { clientId, exists: true, running: true, status: 'running', exitCode: null, startedAt: null, endpoints: ENDPOINTS, ...state } as const;
      if (full.endpoints) seen.inspectionsWithEndpoints += 1;
      return full;
    },
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const probe: AgentHealthProbe = {
    isHealthy: async (clientId, address) => {
      assert.equal(clientId, acme);
      assert.equal(address, ENDPOINTS.control);
      seen.probes += 1;
      return seen.probes > options.healthyAfterProbes;
    },
  };
  return { runtime, probe, seen };
}

void test('an agent healthy at the fifth probe is found well before four fixed 100 ms intervals, with one inspection', async () => {
  const { runtime, probe, seen } = standIns({ healthyAfterProbes: 4 });
  const started = Date.now();
  const state = await waitForAgentHealth(runtime, probe, acme, 5000);
  const elapsed = Date.now() - started;
  assert.deepEqual(state.endpoints, ENDPOINTS);
  assert.equal(seen.probes, 5);
  assert.ok(elapsed < 400, `backoff from 10 ms: ${elapsed} ms (a fixed 100 ms interval takes at least 400)`);
  assert.equal(seen.inspections, 1, 'endpoints known: no inspection on every poll');
});

void test('the workload is inspected until its endpoints are known, then at most every inspectEveryMs', async () => {
  const { runtime, probe, seen } = standIns({
    healthyAfterProbes: 12,
    stateAt: (elapsed) => (elapsed < 30 ? { status: 'created', running: false, endpoints: null } : {}),
  });
  const started = Date.now();
  await waitForAgentHealth(runtime, probe, acme, 5000, { firstIntervalMs: 10, maxIntervalMs: 20, inspectEveryMs: 100 });
  const elapsed = Date.now() - started;
  assert.equal(seen.probes, 13, 'no probe before the endpoints were known');
  assert.ok(seen.inspections - seen.inspectionsWithEndpoints >= 2, 'inspected again while the endpoints were unknown');
  assert.ok(
    seen.inspectionsWithEndpoints <= 1 + Math.floor(elapsed / 100),
    `${seen.inspectionsWithEndpoints} inspections with endpoints in ${elapsed} ms: at most one per 100 ms`,
  );
  assert.ok(seen.inspectionsWithEndpoints < seen.probes, 'fewer inspections than probes');
});

void test('an agent that exits while starting is noticed within about inspectEveryMs, with its exit code and where its logs are', async () => {
  const { runtime, probe } = standIns({
    healthyAfterProbes: Number.POSITIVE_INFINITY,
    stateAt: (elapsed) => (elapsed < 100 ? {} : { running: false, status: 'exited', exitCode: 78 }),
  });
  const started = Date.now();
  await assert.rejects(
    waitForAgentHealth(runtime, probe, acme, 10_000, { inspectEveryMs: 150 }),
    (error: unknown) =>
      isFleetError(error) &&
      error.code === 'unavailable' &&
      error.message === 'agent of acme exited with code 78 (the agent rejected its config; see `docker logs fleet-acme`)',
  );
  assert.ok(Date.now() - started < 2000, 'noticed long before the timeout');
});

void test('a workload that disappears is not_found; one that never answers times out, retryably', async () => {
  const gone = standIns({ healthyAfterProbes: Number.POSITIVE_INFINITY, stateAt: (elapsed) => (elapsed < 50 ? {} : null) });
  await assert.rejects(waitForAgentHealth(gone.runtime, gone.probe, acme, 10_000, { inspectEveryMs: 60 }), { code: 'not_found' });
  const silent = standIns({ healthyAfterProbes: Number.POSITIVE_INFINITY });
  const started = Date.now();
  await assert.rejects(waitForAgentHealth(silent.runtime, silent.probe, acme, 300), (error: unknown) => isFleetError(error) && error.code === 'timeout' && error.retryable);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 300 && elapsed < 1000, `timed out after ${elapsed} ms`);
});

void test('a request that failed because the starting agent exited says so, with the exit code and the logs command', async () => {
  const refused = new Error('connect ECONNREFUSED 127.0.0.1:41000');
  const exited = standIns({ healthyAfterProbes: 0, stateAt: () => ({ running: false, status: 'exited', exitCode: 1 }) });
  const explained = await explainedByExit(exited.runtime, acme, refused);
  assert.ok(isFleetError(explained) && explained.code === 'unavailable');
  assert.equal((explained as Error).message, 'agent of acme exited with code 1 (see `docker logs fleet-acme`)');
  assert.equal((explained as Error).cause, refused);
  const running = standIns({ healthyAfterProbes: 0 });
  assert.equal(await explainedByExit(running.runtime, acme, refused), refused, 'a running agent: the error as it was');
  const gone = standIns({ healthyAfterProbes: 0, stateAt: () => null });
  assert.equal(await explainedByExit(gone.runtime, acme, refused), refused);
});
