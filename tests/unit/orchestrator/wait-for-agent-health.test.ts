// The health wait against a stand-in workload and probe: it polls with a short backoff (no fixed 100 ms
// between polls), inspects the workload only until its endpoints are known and then every
// `inspectEveryMs` while /healthz does not answer, and still notices an agent that exited. Time is
// virtual (node:test's mock timers, advanced 1 ms at a time once the code has nothing else to do), so
// the assertions on when are exact and a loaded machine cannot fail them.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { AgentHealthProbe } from '../../../orchestrator/src/ports/agent-health.ts';
import type { AgentWorkloadState, ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import { explainedByExit, waitForAgentHealth } from '../../../orchestrator/src/services/wait-for-agent-health.ts';

const acme = parseClientId('acme');
const ENDPOINTS = { control: '127.0.0.1:41000', metrics: '127.0.0.1:41001' };

/**
 * Runs `work` in virtual time starting at 0: after each turn of the event loop with nothing left to run,
 * the mocked clock moves 1 ms. Returns how it settled and at which virtual time.
 */
async function inVirtualTime<T>(context: TestContext, work: () => Promise<T>): Promise<{ settled: PromiseSettledResult<T>; atMs: number }> {
  context.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  let settled: PromiseSettledResult<T> | undefined;
  work().then(
    (value) => (settled = { status: 'fulfilled', value }),
    (reason: unknown) => (settled = { status: 'rejected', reason }),
  );
  for (let step = 0; settled === undefined && step < 60_000; step++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (settled === undefined) context.mock.timers.tick(1);
  }
  if (settled === undefined) throw new Error('the work did not settle within 60 s of virtual time');
  return { settled, atMs: Date.now() };
}

function valueOf<T>(settled: PromiseSettledResult<T>): T {
  if (settled.status === 'rejected') throw settled.reason;
  return settled.value;
}

function reasonOf(settled: PromiseSettledResult<unknown>): unknown {
  assert.equal(settled.status, 'rejected', 'the wait was expected to fail');
  return (settled as PromiseRejectedResult).reason;
}

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

void test('an agent healthy at the fifth probe is found well before four fixed 100 ms intervals, with one inspection', async (t) => {
  const { settled, atMs } = await inVirtualTime(t, () => {
    const { runtime, probe, seen } = standIns({ healthyAfterProbes: 4 });
    return waitForAgentHealth(runtime, probe, acme, 5000).then((state) => ({ state, seen }));
  });
  const { state, seen } = valueOf(settled);
  assert.deepEqual(state.endpoints, ENDPOINTS);
  assert.equal(seen.probes, 5);
  assert.ok(atMs < 400, `backoff from 10 ms: found at ${atMs} ms (a fixed 100 ms interval takes at least 400)`);
  assert.equal(seen.inspections, 1, 'endpoints known: no inspection on every poll');
});

void test('the workload is inspected until its endpoints are known, then at most every inspectEveryMs', async (t) => {
  const { settled, atMs } = await inVirtualTime(t, () => {
    const { runtime, probe, seen } = standIns({
      healthyAfterProbes: 12,
      stateAt: (elapsed) => (elapsed < 30 ? { status: 'created', running: false, endpoints: null } : {}),
    });
    return waitForAgentHealth(runtime, probe, acme, 5000, { firstIntervalMs: 10, maxIntervalMs: 20, inspectEveryMs: 100 }).then(() => seen);
  });
  const seen = valueOf(settled);
  assert.equal(seen.probes, 13, 'no probe before the endpoints were known');
  assert.ok(seen.inspections - seen.inspectionsWithEndpoints >= 2, 'inspected again while the endpoints were unknown');
  assert.ok(
    seen.inspectionsWithEndpoints <= 1 + Math.floor(atMs / 100),
    `${seen.inspectionsWithEndpoints} inspections with endpoints in ${atMs} ms: at most one per 100 ms`,
  );
  assert.ok(seen.inspectionsWithEndpoints < seen.probes, 'fewer inspections than probes');
});

void test('an agent that exits while starting is noticed within about inspectEveryMs, with its exit code and where its logs are', async (t) => {
  const { settled, atMs } = await inVirtualTime(t, () => {
    const { runtime, probe } = standIns({
      healthyAfterProbes: Number.POSITIVE_INFINITY,
      stateAt: (elapsed) => (elapsed < 100 ? {} : { running: false, status: 'exited', exitCode: 78 }),
    });
    return waitForAgentHealth(runtime, probe, acme, 10_000, { inspectEveryMs: 150 });
  });
  const error = reasonOf(settled);
  assert.ok(isFleetError(error) && error.code === 'unavailable', String(error));
  assert.equal((error as Error).message, 'agent of acme exited with code 78 (the agent rejected its config; see `docker logs fleet-acme`)');
  assert.ok(atMs >= 100 && atMs <= 100 + 150 + 50, `noticed at ${atMs} ms: within one inspection interval of the exit, long before the timeout`);
});

void test('a workload that disappears is not_found; one that never answers times out, retryably', async (t) => {
  const gone = await inVirtualTime(t, () => {
    const { runtime, probe } = standIns({ healthyAfterProbes: Number.POSITIVE_INFINITY, stateAt: (elapsed) => (elapsed < 50 ? {} : null) });
    return waitForAgentHealth(runtime, probe, acme, 10_000, { inspectEveryMs: 60 });
  });
  assert.equal((reasonOf(gone.settled) as { code?: string }).code, 'not_found');
  t.mock.timers.reset();
  const silent = await inVirtualTime(t, () => {
    const { runtime, probe } = standIns({ healthyAfterProbes: Number.POSITIVE_INFINITY });
    return waitForAgentHealth(runtime, probe, acme, 300);
  });
  const error = reasonOf(silent.settled);
  assert.ok(isFleetError(error) && error.code === 'timeout' && error.retryable, String(error));
  assert.ok(silent.atMs >= 300 && silent.atMs <= 360, `timed out at ${silent.atMs} ms of a 300 ms budget`);
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
