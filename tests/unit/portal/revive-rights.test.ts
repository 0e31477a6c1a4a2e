// Who may restart a stopped agent from the portal. The revive page offered its button for every stop, and
// the gateway passed every revive on to the revive service: a client admin could undo a stop the agency
// made (an operator's `fleet kill`, an incident's containment). Now only a stop the client's own admins
// made, and the agency did not join, is revived from the portal; the page says who stopped it otherwise,
// and the gateway refuses the revive itself (a stale page, a forged form). A closed account (being closed
// or closed, its admins still signed in during retention) was told "stopped … until someone revives it";
// its pages now say it is closed and its agent removed, and offer no revive. Real kill service, gateway,
// routes and views over PGlite; the revive service is a stand-in that does what a revive does to the registry.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import { ServicesClientGateway } from '../../../orchestrator/src/portal/gateway/services-client-gateway.ts';
import { controlRoutes } from '../../../orchestrator/src/portal/http/routes-controls.ts';
import type { AgentControl } from '../../../orchestrator/src/ports/agent-control.ts';
import { systemClock } from '../../../orchestrator/src/ports/clock.ts';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { KillClientService } from '../../../orchestrator/src/services/kill-client.ts';
import { clientOnRegistry, inProcessBackends } from '../../helpers/client-on-registry.ts';
import { startRouteHarness, type RouteHarness } from './portal-route-harness.ts';

const ADMIN = { clientId: 'acme', email: 'dana@acme.example' };
const CLIENT = ADMIN.clientId as ClientId;
/** How the portal writes a time: "Tue, 10 Mar 2026, 12:00 UTC". */
const WHEN = String.raw`\w{3}, \d{1,2} \w{3} \d{4}, \d\d:\d\d UTC`;
const REVIVE_BUTTON = /<button type="submit" class="primary">Revive the agent<\/button>/;

/** An agent whose container is gone: every step of the kill succeeds. */
function standIns() {
  const secrets = {
    readControlToken: async () => null,
    lockClient: async () => undefined,
    revokeAgentTokens: async () => ({ revoked: 0 }),
  } as Partial<SecretStore> as SecretStore;
  const runtime = {
    kind: 'docker',
    inspectAgent: async () => null,
    placeFiles: async () => undefined,
    stopAgent: async () => undefined,
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const control = { request: async () => undefined } as Partial<AgentControl> as AgentControl;
  const targets = { unregister: async () => undefined } as Partial<ScrapeTargets> as ScrapeTargets;
  return { secrets, runtime, control, targets };
}

/** `registry`, with its ops-log reads failing while `failing.reads` is set. */
function flakyOpsLog(registry: Registry, failing: { reads: boolean }): Registry {
  return new Proxy(registry, {
    get(target, property) {
      if (property === 'listOpsLog' && failing.reads) return async () => Promise.reject(new Error('registry: connection reset'));
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

for (const backend of inProcessBackends) {
  describe(`who may revive from the portal (${backend.name} registry)`, () => {
    const bed = clientOnRegistry(backend, { id: CLIENT, status: 'active' }, 'portal-revive-rights');
    const revives: string[] = [];
    const failing = { reads: false };
    let killer: KillClientService;
    let gateway: ServicesClientGateway;
    let harness: RouteHarness;
    before(async () => {
      const registry = bed.opened.registry;
      const config = loadConfig({ AGENT_FLEET_HOME: bed.homeDir });
      killer = new KillClientService({ config, registry, ...standIns(), clock: systemClock, logger: createSilentLogger() });
      gateway = new ServicesClientGateway({
        registry: flakyOpsLog(registry, failing),
        agents: {} as never,
        views: {} as never,
        killer,
        // As the revive service leaves the registry: the client active again, the revive ops-logged.
        reviver: {
          revive: async (request) => {
            revives.push(request.actor);
            await registry.setStatus(CLIENT, 'active', null, new Date());
            await registry.appendOpsLog({ actor: request.actor, action: 'revive', clientId: CLIENT, reason: request.reason, outcome: 'success', details: {} });
            return { clientId: CLIENT };
          },
        },
        support: {} as never,
        review: {} as never,
      });
      harness = await startRouteHarness(controlRoutes, { gateway }, ADMIN);
    });
    after(() => harness.close());
    beforeEach(() => {
      revives.length = 0;
      failing.reads = false;
    });

    test('a stop a client admin made is revived from the portal, the page saying who stopped it and what a revive does', async () => {
      await killer.kill({ clientId: CLIENT, reason: 'Odd replies', actor: 'client-admin:lee@acme.example' });
      const page = await harness.get('/revive');
      assert.equal(page.status, 200);
      assert.match(page.text, new RegExp(`is stopped \\(since ${WHEN}, by lee@acme\\.example\\)\\. This starts it again\\.`));
      assert.match(page.text, /emails waiting for your approval stay waiting/);
      assert.match(page.text, /actions you had approved that had not run yet each wait for your approval again/);
      assert.match(page.text, /If the start fails part way, the agent stays stopped/);
      assert.match(page.text, REVIVE_BUTTON);

      const revived = await harness.post('/revive', { reason: 'Checked' });
      assert.equal(revived.status, 200, revived.text);
      assert.match(revived.text, /The agent is running again/);
      assert.deepEqual(revives, [`client-admin:${ADMIN.email}`]);
    });

    for (const actor of ['alice@agency', 'incident:INC-7']) {
      test(`a stop the agency made (${actor}) has no revive button, and a revive posted all the same is refused by the gateway`, async () => {
        await killer.kill({ clientId: CLIENT, reason: 'Incident INC-7', actor });
        const page = await harness.get('/revive');
        assert.equal(page.status, 200);
        assert.match(page.text, new RegExp(`The agency stopped the agent on ${WHEN}\\. Only the agency can restart it: call them`));
        assert.doesNotMatch(page.text, REVIVE_BUTTON);
        assert.doesNotMatch(page.text, /action="\/revive"/);

        const posted = await harness.post('/revive', { reason: 'We want it back' });
        assert.equal(posted.status, 403, posted.text);
        assert.match(posted.text, /^Only the agency can restart the agent: The agency stopped the agent on [^.]*\. Only the agency can restart it: call them if it should run again\. Nothing was changed\.$/);
        await assert.rejects(gateway.revive('acme', 'Straight to the gateway', ADMIN.email), (error) => isFleetError(error) && error.code === 'forbidden');
        assert.deepEqual(revives, []);
        assert.equal((await bed.opened.registry.getClient(CLIENT))?.status, 'killed');
      });
    }

    test('a stop the client made that the agency then stopped too is the agency\'s to restart', async () => {
      await harness.post('/kill', { reason: 'Odd replies' });
      await killer.kill({ clientId: CLIENT, reason: 'Contained under INC-9', actor: 'incident:INC-9' });
      const page = await harness.get('/revive');
      assert.match(page.text, new RegExp(`You stopped the agent on ${WHEN}, and the agency stopped it too on ${WHEN}\\. Only the agency can restart it`));
      assert.doesNotMatch(page.text, REVIVE_BUTTON);
      const kill = await harness.get('/kill');
      assert.match(kill.text, /Only the agency can restart it\./);
      assert.doesNotMatch(kill.text, /<a href="\/revive">Revive it…<\/a>/);
      assert.equal((await harness.post('/revive', { reason: 'Ours' })).status, 403);
      assert.deepEqual(revives, []);
    });

    test('when who stopped it cannot be read, the revive is not tried and the page says the agent is still stopped', async () => {
      await harness.post('/kill', { reason: 'Odd replies' });
      failing.reads = true;
      const posted = await harness.post('/revive', { reason: 'Checked' });
      assert.equal(posted.status, 500);
      assert.match(posted.text, /^The agent was not started again: [^]*the agent is still stopped/);
      assert.deepEqual(revives, []);
    });

    test('a revive after the client admin\'s own second press of an agent it had stopped is still the client\'s', async () => {
      await harness.post('/kill', { reason: 'Odd replies' });
      await harness.post('/kill', { reason: 'Making sure' });
      const pressed = await harness.post('/kill', { reason: 'Once more' });
      assert.match(pressed.text, /It stays stopped until you or another of your administrators revive it\./);
      assert.equal((await harness.post('/revive', { reason: 'Checked' })).status, 200);
      assert.equal(revives.length, 1);
    });

    test('the press after an agency stop says only the agency can restart it, not "until someone revives it"', async () => {
      await killer.kill({ clientId: CLIENT, reason: 'Incident INC-7', actor: 'alice@agency' });
      const pressed = await harness.post('/kill', { reason: 'Saw the banner' });
      assert.match(pressed.text, /The agency stopped the agent on [^.]*\. Only the agency can restart it/);
      assert.doesNotMatch(pressed.text, /until someone revives it/);
    });

    for (const [status, words] of [
      ['deprovisioned', 'is closed: its agent was removed'],
      ['deprovisioning', 'is being closed: its agent is being removed'],
    ] as const) {
      test(`an admin of a ${status} account is told it is closed, never offered a revive`, async () => {
        await bed.opened.registry.setStatus(CLIENT, status, 'contract ended', new Date());
        const revivePage = await harness.get('/revive');
        assert.match(revivePage.text, new RegExp(`The account of <strong>acme</strong> ${words}\\. The agent of a closed account is never started again: there is nothing to revive\\.`));
        assert.doesNotMatch(revivePage.text, REVIVE_BUTTON);
        assert.doesNotMatch(revivePage.text, /is running; there is nothing to revive/);
        // The banner on every page says so too, with no link to a revive.
        assert.match(revivePage.text, status === 'deprovisioned' ? /<strong>The account is closed\.<\/strong>/ : /<strong>The account is being closed\.<\/strong>/);
        assert.doesNotMatch(revivePage.text, /Revive the agent…/);

        const killPage = await harness.get('/kill');
        assert.match(killPage.text, new RegExp(`The account of <strong>acme</strong> ${words}`));
        assert.doesNotMatch(killPage.text, /Stop the agent now|until someone revives it/);

        const pressed = await harness.post('/kill', { reason: 'Make sure' });
        assert.equal(pressed.status, 200, pressed.text);
        assert.match(pressed.text, /<h1>The account is closed<\/h1>/);
        assert.match(pressed.text, new RegExp(`Your account ${words}\\. The stop was applied all the same`));
        assert.doesNotMatch(pressed.text, /until someone revives it|has been notified|<h1>The agent is stopped<\/h1>/);
        assert.equal((await bed.opened.registry.getClient(CLIENT))?.status, status, 'a closed account stays closed');

        const posted = await harness.post('/revive', { reason: 'Bring it back' });
        assert.equal(posted.status, 409);
        assert.match(posted.text, new RegExp(`^Nothing was changed: Your account ${words}, and the agent of a closed account is never started again\\.$`));
        assert.deepEqual(revives, []);
      });
    }
  });
}

describe('a revive that fails part way', () => {
  test('cut short by a stop that came meanwhile, it says the agent is still stopped, not that it is running', async () => {
    const gateway = {
      admins: async () => [ADMIN.email],
      status: async () => ({ killed: true, reason: 'Incident INC-7', stoppedAt: null, stoppedBy: { kind: 'agency' }, agencyStoppedAt: null }),
      revive: async () => {
        throw new FleetError('conflict', 'acme was killed or taken over by another operation while it was being revived');
      },
    } as never;
    const harness = await startRouteHarness(controlRoutes, { gateway }, ADMIN);
    try {
      const page = await harness.post('/revive', { reason: 'Checked' });
      assert.equal(page.status, 409);
      assert.match(page.text, /^The agent was not started again: The agent is still stopped: it was stopped again while it was being started\./);
      assert.doesNotMatch(page.text, /it is running|operation/);
    } finally {
      await harness.close();
    }
  });

  test('says the agent is still stopped when it is, not "nothing was changed" or that it cannot be reached', async () => {
    const gateway = {
      admins: async () => [ADMIN.email],
      status: async () => ({ killed: true, reason: 'revive failed: agent health timed out', stoppedAt: null, stoppedBy: null, agencyStoppedAt: null }),
      revive: async () => {
        throw new FleetError('timeout', 'acme: the agent did not become healthy within 60000 ms');
      },
    } as never;
    const harness = await startRouteHarness(controlRoutes, { gateway }, ADMIN);
    try {
      const page = await harness.post('/revive', { reason: 'Checked' });
      assert.equal(page.status, 500);
      assert.match(page.text, /^The agent was not started again: The revive could not be completed just now, so the agent is still stopped\./);
      assert.doesNotMatch(page.text, /healthy|60000/);
    } finally {
      await harness.close();
    }
  });
});
