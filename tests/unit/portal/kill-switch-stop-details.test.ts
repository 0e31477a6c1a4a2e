// Since when and by whom the agent was stopped comes from the ops log's kill and revive entries. The
// portal's status read used to fetch them on every page of a stopped client (each page's banner, the
// revive page, support, …) although only the kill page, and the page after a press of an agent already
// stopped, say them. Now the status read says running or stopped (and why), and only those two pages and
// the revive page (only a stop the client's own admins made is revived from the portal) ask for the stop's
// details: the ops-log reads are counted on a registry that counts them.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import type { OpsLogEntry } from '../../../orchestrator/src/domain/ops-log-entry.ts';
import { ServicesClientGateway } from '../../../orchestrator/src/portal/gateway/services-client-gateway.ts';
import { controlRoutes } from '../../../orchestrator/src/portal/http/routes-controls.ts';
import type { ClientRecord, Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { KillResult } from '../../../orchestrator/src/services/kill-client.ts';
import { startRouteHarness, type RouteHarness } from './portal-route-harness.ts';

const ADMIN = { clientId: 'acme', email: 'dana@acme.example' };
const STOPPED_AT = '2026-03-10T12:00:00.000Z';

/** A registry holding one client, that counts how often the ops log is read. */
function countingRegistry() {
  const state = { status: 'killed' as ClientStatus, opsLogReads: 0 };
  const kill: OpsLogEntry = {
    seq: 1,
    at: STOPPED_AT,
    actor: 'client-admin:lee@acme.example',
    action: 'kill',
    clientId: 'acme',
    reason: 'Odd replies',
    outcome: 'success',
    details: {},
    prevHash: '',
    hash: '',
  };
  const registry = {
    getClient: async (id: ClientId): Promise<ClientRecord | null> =>
      id === 'acme'
        ? ({ id, status: state.status, statusReason: state.status === 'killed' ? 'Odd replies' : null, configYaml: `client: acme\nadmins: [${ADMIN.email}]\n` } as ClientRecord)
        : null,
    listOpsLog: async () => {
      state.opsLogReads += 1;
      return [kill];
    },
  } as Partial<Registry> as Registry;
  return { state, registry };
}

describe('the stop details are read only by the pages that show them', () => {
  const { state, registry } = countingRegistry();
  const gateway = new ServicesClientGateway({
    registry,
    agents: {} as never,
    views: {} as never,
    killer: { kill: async () => ({ alreadyKilled: true }) as KillResult },
    reviver: {} as never,
    support: { list: async () => [] } as never,
    review: {} as never,
  });
  let harness: RouteHarness;
  before(async () => {
    harness = await startRouteHarness(controlRoutes, { gateway }, ADMIN);
  });
  after(() => harness.close());
  beforeEach(() => {
    state.status = 'killed';
    state.opsLogReads = 0;
  });

  test('the status read says stopped and why, without reading the ops log; asked for the stop, it reads it once', async () => {
    assert.deepEqual(await gateway.status('acme'), { killed: true, reason: 'Odd replies' });
    assert.equal(state.opsLogReads, 0);
    assert.deepEqual(await gateway.status('acme', { stop: true }), {
      killed: true,
      reason: 'Odd replies',
      stoppedAt: STOPPED_AT,
      stoppedBy: { kind: 'client-admin', email: 'lee@acme.example' },
      agencyStoppedAt: null,
    });
    assert.equal(state.opsLogReads, 1);
  });

  test('pages of a stopped agent that do not say when or by whom (support) read no ops log', async () => {
    const page = await harness.get('/support');
    assert.equal(page.status, 200, page.text);
    assert.match(page.text, /The agent is stopped\.<\/strong>[^<]*Reason: Odd replies/);
    assert.equal(state.opsLogReads, 0);
  });

  test('the revive page reads the ops log once: who stopped the agent decides whether it has a button', async () => {
    const page = await harness.get('/revive');
    assert.equal(page.status, 200, page.text);
    assert.match(page.text, /is stopped \(since Tue, 10 Mar 2026, 12:00 UTC, by lee@acme\.example\)\. This starts it again\./);
    assert.equal(state.opsLogReads, 1);
  });

  test('the kill page of a stopped agent reads the ops log once and says since when and by whom', async () => {
    const page = await harness.get('/kill');
    assert.equal(page.status, 200);
    assert.match(page.text, /is already stopped \(since Tue, 10 Mar 2026, 12:00 UTC, by lee@acme\.example\)/);
    assert.match(page.text, /Reason: Odd replies/);
    assert.equal(state.opsLogReads, 1);
  });

  test('a press of an agent already stopped reads the ops log once for the page after it', async () => {
    const page = await harness.post('/kill', { reason: 'Making sure' });
    assert.equal(page.status, 200, page.text);
    assert.match(page.text, /The agent was already stopped \(since Tue, 10 Mar 2026, 12:00 UTC, by lee@acme\.example\)\. Nothing new was stopped\./);
    assert.match(page.text, /Reason: Odd replies/);
    assert.equal(state.opsLogReads, 1);
  });

  test('the kill page of a running agent reads no ops log', async () => {
    state.status = 'active';
    const page = await harness.get('/kill');
    assert.match(page.text, /<button type="submit" class="danger">Stop the agent now<\/button>/);
    assert.equal(state.opsLogReads, 0);
  });
});
