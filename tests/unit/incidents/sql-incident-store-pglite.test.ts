// The SQL incident store on PGlite, in process. The metrics scrape lists the incidents whose clocks can still
// run, which the store answers in its query (leaving out those closed with their final report issued); an
// override of failed containment is kept in its own sealed column.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { openRegistry } from '../../../orchestrator/src/adapters/sql/open-registry.ts';
import type { IncidentRecord, IncidentStore } from '../../../orchestrator/src/ports/incident-store.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';

let homeDir: string;
let opened: { registry: Registry; incidentStore: IncidentStore };

before(async () => {
  homeDir = await mkdtemp(path.join(os.tmpdir(), 'fleet-incident-live-list-'));
  opened = await openRegistry({ homeDir });
});
after(async () => {
  await opened.registry.close();
  await rm(homeDir, { recursive: true, force: true });
});

const T0 = '2026-12-02T10:00:00.000Z';

async function incidentIn(state: 'open' | 'closed' | 'reported'): Promise<string> {
  const store = opened.incidentStore;
  const created = await store.create({ severity: 'low', summary: `an incident ${state}`, clients: [], openedAt: T0, openedBy: 'ops' });
  if (state === 'open') return created.id;
  await store.update(created.id, (current): IncidentRecord => ({
    ...current,
    status: 'closed',
    closedAt: T0,
    rootCause: 'r',
    lessons: 'l',
    reportIssuedAt: state === 'reported' ? T0 : null,
  }));
  return created.id;
}

void test('clocksMayRun lists the open incidents and the closed ones still owing their report, not the reported ones', async () => {
  const open = await incidentIn('open');
  const owing = await incidentIn('closed');
  const reported = await incidentIn('reported');
  const live = (await opened.incidentStore.list({ clocksMayRun: true })).map((incident) => incident.id);
  assert.deepEqual(live, [owing, open]);
  const all = (await opened.incidentStore.list()).map((incident) => incident.id);
  assert.deepEqual(all, [reported, owing, open]);
  assert.deepEqual((await opened.incidentStore.list({ openOnly: true })).map((incident) => incident.id), [open]);
});

void test('an incident closed with a containment override keeps it (who, when, why, what never held) across a read', async () => {
  const store = opened.incidentStore;
  const created = await store.create({ severity: 'high', summary: 'a kill that did not hold', clients: ['acme'], openedAt: T0, openedBy: 'ops' });
  const override = { reason: 'the host was rebuilt from clean state', by: 'ops', at: T0, unheld: ['acme kill'] };
  await store.update(created.id, (current): IncidentRecord => ({ ...current, status: 'closed', closedAt: T0, rootCause: 'r', lessons: 'l', containmentOverride: override }));
  assert.deepEqual((await store.get(created.id))?.containmentOverride, override);
  assert.equal((await store.get((await incidentIn('open'))))?.containmentOverride, null, 'an incident without one reads null');
});
