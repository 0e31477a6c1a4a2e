// `GET /v1/ops-log` (what `fleet ops-log show` reads) reads the log a page at a time and writes each page as
// it goes: the orchestrator holds a page, not the ever-growing log. A read that fails once entries went out
// cuts the response, so that no shorter list can pass for the whole log.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Orchestrator } from '../../../orchestrator/src/orchestrator.ts';
import type { OpsLogEntry } from '../../../orchestrator/src/ports/registry.ts';
import { serveApiRouter } from './api-router-server.ts';

type Filter = { clientId?: string; actions?: readonly string[] };

/** A registry stand-in over `length` entries; `failAtPage` makes that page's read throw. */
function standInRegistry(length: number, failAtPage: number | null = null) {
  const entries: OpsLogEntry[] = Array.from({ length }, (_, index) => ({
    seq: index + 1,
    at: new Date(Date.UTC(2026, 11, 1, 10) + index * 60_000).toISOString(),
    actor: 'ops',
    action: 'kill',
    clientId: index % 2 === 0 ? 'acme' : 'beta',
    reason: null,
    outcome: 'success',
    details: {},
    prevHash: 'p',
    hash: `h${index + 1}`,
  }));
  const state = { largestRead: 0, filters: [] as Filter[] };
  const matching = (filter: Filter) => entries.filter((entry) => filter.clientId === undefined || entry.clientId === filter.clientId);
  const registry = {
    listOpsLog(filter: Filter = {}) {
      const all = matching(filter);
      state.largestRead = Math.max(state.largestRead, all.length);
      state.filters.push(filter);
      return Promise.resolve(all);
    },
    async *readOpsLogPages(options: { pageSize: number; filter?: Filter }) {
      state.filters.push(options.filter ?? {});
      const all = matching(options.filter ?? {});
      for (let start = 0, page = 0; start < all.length; start += options.pageSize, page++) {
        await Promise.resolve();
        if (page === failAtPage) throw new FleetError('integrity', 'ops-log entry at seq 7: its sealed fields do not open');
        const slice = all.slice(start, start + options.pageSize);
        state.largestRead = Math.max(state.largestRead, slice.length);
        yield slice;
      }
    },
  };
  return { registry, state };
}

async function serving<T>(registry: unknown, work: (base: string) => Promise<T>): Promise<T> {
  const { server, base } = await serveApiRouter({ registry } as unknown as Orchestrator);
  try {
    return await work(base);
  } finally {
    await new Promise<void>((resolve) => (server as Server).close(() => resolve()));
  }
}

void test('the ops log is served whole, in order, from reads of a page at most', async () => {
  const { registry, state } = standInRegistry(1_203);
  await serving(registry, async (base) => {
    const response = await fetch(`${base}/ops-log`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { entries: OpsLogEntry[] };
    assert.deepEqual(body.entries.map((entry) => entry.seq), Array.from({ length: 1_203 }, (_, index) => index + 1));
    assert.ok(state.largestRead <= 500, `one read returned ${state.largestRead} entries`);
  });
});

void test("one client's entries, and an empty log, are served as before", async () => {
  const { registry, state } = standInRegistry(9);
  await serving(registry, async (base) => {
    const acme = (await (await fetch(`${base}/ops-log?client=acme`)).json()) as { entries: OpsLogEntry[] };
    assert.deepEqual(acme.entries.map((entry) => entry.seq), [1, 3, 5, 7, 9]);
    assert.deepEqual(state.filters.at(-1), { clientId: 'acme' });
    assert.deepEqual(await (await fetch(`${base}/ops-log?client=nobody`)).json(), { entries: [] });
  });
});

void test('a client filter given twice, or empty, is refused rather than read as every client', async () => {
  const { registry } = standInRegistry(4);
  await serving(registry, async (base) => {
    for (const query of ['client=acme&client=beta', 'client=', 'clients=acme']) {
      const response = await fetch(`${base}/ops-log?${query}`);
      assert.equal(response.status, 400, query);
      assert.equal(((await response.json()) as { code: string }).code, 'invalid_input', query);
    }
  });
});

void test('a read that fails before any entry went out is a JSON error; after, the response is cut, not shortened', async () => {
  await serving(standInRegistry(1_200, 0).registry, async (base) => {
    const response = await fetch(`${base}/ops-log`);
    assert.equal(response.status, 422);
    assert.equal(((await response.json()) as { code: string }).code, 'integrity');
  });
  await serving(standInRegistry(1_200, 1).registry, async (base) => {
    await assert.rejects(async () => {
      const response = await fetch(`${base}/ops-log`);
      await response.json();
    }, 'a body cut after the first page does not read as a list');
  });
});

void test("an incident's window selects the entries at or after `since` and before `until`; a time that is not one is refused", async () => {
  const { registry } = standInRegistry(1_100);
  await serving(registry, async (base) => {
    const query = `client=acme&since=${encodeURIComponent('2026-12-01T11:00:00Z')}&until=${encodeURIComponent('2026-12-01T12:00:00+00:00')}`;
    const body = (await (await fetch(`${base}/ops-log?${query}`)).json()) as { entries: OpsLogEntry[] };
    // Entry n is at 10:00 + (n - 1) minutes; acme's are the odd seqs.
    assert.deepEqual(body.entries.map((entry) => entry.seq), Array.from({ length: 30 }, (_, index) => 61 + index * 2));
    const refused = await fetch(`${base}/ops-log?since=yesterday`);
    assert.equal(refused.status, 400);
  });
});
