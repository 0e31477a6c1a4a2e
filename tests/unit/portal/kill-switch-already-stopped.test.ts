// A second press of the kill switch (another admin's stop, the agency's, a stale page, a double click)
// ran the kill again and the portal said what it says the first time: "stopped … the agency has been
// notified". The kill service re-applies its lockdown on purpose, and the portal keeps that, but the
// gateway now passes on that the agent was already stopped, and the pages say so: the kill page before
// the button (when and by whom), and the page after it. Real kill service, gateway and routes over PGlite.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import { ServicesClientGateway } from '../../../orchestrator/src/portal/gateway/services-client-gateway.ts';
import { formatters } from '../../../orchestrator/src/portal/http/render.ts';
import { controlRoutes } from '../../../orchestrator/src/portal/http/routes-controls.ts';
import type { AgentControl } from '../../../orchestrator/src/ports/agent-control.ts';
import { systemClock } from '../../../orchestrator/src/ports/clock.ts';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { KillClientService } from '../../../orchestrator/src/services/kill-client.ts';
import { clientOnRegistry, inProcessBackends } from '../../helpers/client-on-registry.ts';
import { startRouteHarness, type RouteHarness } from './portal-route-harness.ts';

const ADMIN = { clientId: 'acme', email: 'dana@acme.example' };
const CLIENT = ADMIN.clientId as ClientId;
/** How the portal writes a time: "Tue, 10 Mar 2026, 12:00 UTC". */
const WHEN = String.raw`\w{3}, \d{1,2} \w{3} \d{4}, \d\d:\d\d UTC`;

/** An agent whose container is gone: every step of the kill succeeds and counts what it did. */
function standIns(stops: { count: number }) {
  const secrets = {
    readControlToken: async () => null,
    lockClient: async () => undefined,
    revokeAgentTokens: async () => ({ revoked: 0 }),
  } as Partial<SecretStore> as SecretStore;
  const runtime = {
    kind: 'docker',
    inspectAgent: async () => null,
    placeFiles: async () => undefined,
    stopAgent: async () => void (stops.count += 1),
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const control = { request: async () => undefined } as Partial<AgentControl> as AgentControl;
  const targets = { unregister: async () => undefined } as Partial<ScrapeTargets> as ScrapeTargets;
  return { secrets, runtime, control, targets };
}

/** The `<h1>` of a page. */
const headingOf = (page: string) => /<h1>([^<]*)<\/h1>/.exec(page)?.[1];

for (const backend of inProcessBackends) {
  describe(`the kill switch of a client already stopped (${backend.name} registry)`, () => {
    const bed = clientOnRegistry(backend, { id: CLIENT, status: 'active' }, 'portal-kill-again');
    const stops = { count: 0 };
    let killer: KillClientService;
    let gateway: ServicesClientGateway;
    let harness: RouteHarness;
    before(async () => {
      const config = loadConfig({ AGENT_FLEET_HOME: bed.homeDir });
      killer = new KillClientService({ config, registry: bed.opened.registry, ...standIns(stops), clock: systemClock, logger: createSilentLogger() });
      gateway = new ServicesClientGateway({
        registry: bed.opened.registry,
        agents: {} as never,
        views: {} as never,
        killer,
        reviver: {} as never,
        support: {} as never,
        review: {} as never,
      });
      harness = await startRouteHarness(controlRoutes, { gateway }, ADMIN);
    });
    after(() => harness.close());

    const kills = async () => (await bed.opened.registry.listOpsLog({ clientId: CLIENT })).filter((entry) => entry.action === 'kill');

    test('a second stop says the agent was already stopped, since when and by whom, and claims no new notice', async () => {
      const first = await harness.post('/kill', { reason: 'Odd replies' });
      assert.equal(first.status, 200, first.text);
      assert.equal(headingOf(first.text), 'The agent is stopped');
      assert.match(first.text, /The agency has been notified/);

      const second = await harness.post('/kill', { reason: 'Making sure' });
      assert.equal(second.status, 200, second.text);
      assert.equal(headingOf(second.text), 'The agent was already stopped');
      assert.match(second.text, new RegExp(`The agent was already stopped \\(since ${WHEN}, by you\\)\\. Nothing new was stopped\\.`));
      assert.match(second.text, /its access was revoked and its container stopped again/);
      assert.doesNotMatch(second.text, /has been notified/);
      // The lockdown was applied again, as the service means it to be, and logged as what it was.
      assert.equal(stops.count, 2);
      assert.deepEqual((await kills()).map((entry) => entry.details['previousStatus']), ['active', 'killed']);
    });

    test('the kill page of a stopped agent says so before the button, with when and by whom, and what the button does then', async () => {
      await killer.kill({ clientId: CLIENT, reason: 'Incident INC-7', actor: 'alice@agency' });
      const page = await harness.get('/kill');
      assert.equal(page.status, 200);
      assert.match(page.text, new RegExp(`is already stopped \\(since ${WHEN}, by the agency\\)`));
      assert.match(page.text, /Reason: Incident INC-7/);
      assert.match(page.text, /revoked again, and its container is stopped again/);
      assert.match(page.text, /<button type="submit" class="danger">Apply the stop again<\/button>/);
      assert.doesNotMatch(page.text, /Stop the agent now|The agency's operators are notified/);

      const pressed = await harness.post('/kill', { reason: 'Saw the banner late' });
      assert.match(pressed.text, new RegExp(`The agent was already stopped \\(since ${WHEN}, by the agency\\)`));
    });

    test('a stop by another admin names that admin; a re-applied stop does not move when the stop began', async () => {
      await killer.kill({ clientId: CLIENT, reason: 'Odd replies', actor: 'client-admin:lee@acme.example' });
      const began = (await kills())[0]!.at;
      await killer.kill({ clientId: CLIENT, reason: 'Again', actor: 'alice@agency' });
      const page = await harness.get('/kill');
      assert.match(page.text, /is already stopped \(since [^)]*, by lee@acme\.example\)/);
      const since = /is already stopped \(since ([^)]*), by/.exec(page.text)?.[1];
      assert.equal(since, formatters.when(began));
    });

    test('two presses that reach the gateway together (a double submit): one is the stop, the other finds it stopped', async () => {
      const outcomes = await Promise.all([gateway.kill('acme', 'Click', ADMIN.email), gateway.kill('acme', 'Click', ADMIN.email)]);
      assert.deepEqual(outcomes.map((outcome) => outcome.alreadyStopped), [false, true]);
      assert.deepEqual((await kills()).map((entry) => entry.details['previousStatus']), ['active', 'killed']);
    });

    test('a double submit of the kill form: one page says stopped, the other already stopped', async () => {
      const pages = await Promise.all([harness.post('/kill', { reason: 'Click' }), harness.post('/kill', { reason: 'Click' })]);
      assert.deepEqual(pages.map((page) => page.status), [200, 200]);
      assert.deepEqual(pages.map((page) => headingOf(page.text)).sort(), ['The agent is stopped', 'The agent was already stopped']);
    });
  });
}

describe('the revive page in words for a client admin', () => {
  const stoppedGateway = (revive: () => Promise<void>, status: () => Promise<unknown>) =>
    ({ status, revive, admins: async () => [ADMIN.email] }) as never;

  test('a revive refused because someone else is starting the agent says so without operator commands', async () => {
    const refusedRevive = async () => {
      throw new FleetError('conflict', 'acme is being revived (or provisioned) by another operation; check `fleet status acme`');
    };
    const harness = await startRouteHarness(controlRoutes, { gateway: stoppedGateway(refusedRevive, async () => ({ killed: false, reason: null })) }, ADMIN);
    try {
      const page = await harness.post('/revive', { reason: 'Checked' });
      assert.equal(page.status, 409);
      assert.match(page.text, /The agent is not stopped: it is running, or someone \(another admin or the agency\) is starting it again just now/);
      assert.doesNotMatch(page.text, /fleet status|operation/);
    } finally {
      await harness.close();
    }
  });

  test('when the status cannot be read, the revive page does not claim the agent is running', async () => {
    const unreadable = async () => {
      throw new FleetError('unavailable', 'registry down');
    };
    const harness = await startRouteHarness(controlRoutes, { gateway: stoppedGateway(async () => undefined, unreadable) }, ADMIN);
    try {
      const page = await harness.get('/revive');
      assert.equal(page.status, 200);
      assert.doesNotMatch(page.text, /is running; there is nothing to revive/);
      assert.match(page.text, /could not find out just now whether the agent of acme is stopped/);
    } finally {
      await harness.close();
    }
  });
});
