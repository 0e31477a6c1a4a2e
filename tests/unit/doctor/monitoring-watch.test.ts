// The watcher of the watchers: the orchestrator asks Prometheus and the Alertmanager it sends to whether
// the always-firing Watchdog gets through, and reports a stopped Prometheus, a stopped Alertmanager or a
// broken route in the ops log, its metrics and `fleet doctor`. Fake Prometheus and Alertmanager on loopback.
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Registry as MetricsRegistry } from 'prom-client';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { PrometheusAlertingProbe, alertmanagerBase } from '../../../orchestrator/src/adapters/prometheus/prometheus-alerting-probe.ts';
import { createMonitoringMetrics } from '../../../orchestrator/src/observability/monitoring-metrics.ts';
import { checkAlerting, REQUIRED_ALERTS } from '../../../orchestrator/src/services/doctor/live-checks.ts';
import { assessPipeline } from '../../../orchestrator/src/services/doctor/monitoring-pipeline.ts';
import { MONITORING_ACTIONS, MonitoringWatch } from '../../../orchestrator/src/services/doctor/monitoring-watch.ts';
import type { NewOpsLogEntry, OpsLogEntry } from '../../../orchestrator/src/ports/registry.ts';

const NOW = new Date('2026-12-10T12:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

interface World {
  /** Prometheus fires Watchdog. */
  firing: boolean;
  /** Where Prometheus says it sends alerts (…/api/v2/alerts), or nothing. */
  sendsTo: string[];
  /** The Watchdog Alertmanager holds; null: none. */
  held: { updatedAt: string; endsAt: string; state: string; silencedBy: string[] } | null;
  brokenRule: boolean;
}

function listen(handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
const portOf = (server: Server) => (server.address() as AddressInfo).port;
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));
const json = (response: ServerResponse, body: unknown) => {
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify(body));
};

void describe('monitoring watch', () => {
  let world: World;
  let prometheus: Server;
  let alertmanager: Server;
  let alertmanagerUrl = '';
  let opsLog: NewOpsLogEntry[];
  const healthy = (): World => ({
    firing: true,
    sendsTo: [`${alertmanagerUrl}/api/v2/alerts`],
    held: { updatedAt: ago(40_000), endsAt: new Date(NOW.getTime() + 200_000).toISOString(), state: 'active', silencedBy: [] },
    brokenRule: false,
  });

  before(async () => {
    prometheus = await listen((request, response) => {
      const url = new URL(request.url ?? '/', 'http://x');
      if (url.pathname === '/api/v1/alerts')
        return json(response, { data: { alerts: world.firing ? [{ labels: { alertname: 'Watchdog', severity: 'none' }, state: 'firing' }] : [] } });
      if (url.pathname === '/api/v1/rules')
        return json(response, {
          data: {
            groups: [
              {
                rules: [
                  { type: 'alerting', name: 'Watchdog', health: 'ok' },
                  { type: 'alerting', name: 'MassSending', health: world.brokenRule ? 'err' : 'ok', lastError: world.brokenRule ? 'many-to-many matching not allowed' : '' },
                ],
              },
            ],
          },
        });
      if (url.pathname === '/api/v1/alertmanagers') return json(response, { data: { activeAlertmanagers: world.sendsTo.map((target) => ({ url: target })) } });
      response.statusCode = 404;
      response.end();
    });
    alertmanager = await listen((request, response) => {
      const url = new URL(request.url ?? '/', 'http://x');
      assert.equal(url.pathname, '/api/v2/alerts');
      assert.equal(url.searchParams.get('filter'), 'alertname="Watchdog"');
      json(
        response,
        world.held === null
          ? []
          : [
              {
                labels: { alertname: 'Watchdog', severity: 'none' },
                status: { state: world.held.state, silencedBy: world.held.silencedBy, inhibitedBy: [] },
                receivers: [{ name: 'watchdog' }],
                updatedAt: world.held.updatedAt,
                endsAt: world.held.endsAt,
              },
            ],
      );
    });
    alertmanagerUrl = `http://127.0.0.1:${portOf(alertmanager)}`;
  });
  after(async () => {
    await Promise.all([close(prometheus), close(alertmanager)]);
  });
  beforeEach(() => {
    world = healthy();
    opsLog = [];
  });

  const probe = () => new PrometheusAlertingProbe({ url: `http://127.0.0.1:${portOf(prometheus)}/`, timeoutMs: 2_000 });
  const watch = (target = probe()) =>
    new MonitoringWatch({
      probe: target,
      registry: {
        appendOpsLog: async (entry: NewOpsLogEntry) => {
          opsLog.push(entry);
          return entry as unknown as OpsLogEntry;
        },
      },
      clock: { now: () => NOW },
      logger: createSilentLogger(),
    });

  void it('a working pipeline passes and writes nothing to the ops log', async () => {
    const verdict = await watch().check();
    assert.deepEqual(verdict.problems, []);
    assert.equal(verdict.ok, true);
    assert.deepEqual(verdict.up, { prometheus: true, alertmanager: true, route: true });
    assert.match(verdict.evidence.join('\n'), new RegExp(`Alertmanager ${alertmanagerUrl} received Watchdog 1 min ago, routed to watchdog`));
    assert.deepEqual(opsLog, []);
  });

  void it('a stopped Alertmanager is reported once in the ops log, and its recovery once', async () => {
    const watcher = watch();
    // Nothing listens there: the Alertmanager Prometheus sends to has stopped.
    const stopped = await listen(() => undefined);
    const stoppedUrl = `http://127.0.0.1:${portOf(stopped)}`;
    await close(stopped);
    world.sendsTo = [`${stoppedUrl}/api/v2/alerts`];
    const broken = await watcher.check();
    assert.equal(broken.ok, false);
    assert.deepEqual(broken.up, { prometheus: true, alertmanager: false, route: false });
    assert.match(broken.problems.join('\n'), new RegExp(`Alertmanager ${stoppedUrl}, where Prometheus sends alerts: Alertmanager at ${stoppedUrl} does not answer`));
    await watcher.check();
    assert.deepEqual(
      opsLog.map((entry) => [entry.action, entry.outcome, entry.actor, entry.clientId]),
      [[MONITORING_ACTIONS.broken, 'failure', 'monitoring-watch', null]],
      'a lasting outage is written once',
    );
    assert.deepEqual(opsLog[0]?.details['down'], ['alertmanager', 'route']);
    world = healthy();
    assert.equal((await watcher.check()).ok, true);
    assert.deepEqual(opsLog.map((entry) => entry.action), [MONITORING_ACTIONS.broken, MONITORING_ACTIONS.restored]);
  });

  void it('a stopped Prometheus is reported', async () => {
    const stopped = await listen(() => undefined);
    const url = `http://127.0.0.1:${portOf(stopped)}`;
    await close(stopped);
    const verdict = await watch(new PrometheusAlertingProbe({ url, timeoutMs: 2_000 })).check();
    assert.deepEqual(verdict.up, { prometheus: false, alertmanager: false, route: false });
    assert.match(verdict.problems[0] ?? '', new RegExp(`^Prometheus at ${url} does not answer .*: no alert of the fleet is evaluated or sent$`));
    assert.equal(opsLog[0]?.action, MONITORING_ACTIONS.broken);
  });

  void it('a broken route is reported: Prometheus sends nowhere, or Alertmanager never got the Watchdog', async () => {
    world.sendsTo = [];
    let verdict = await watch().check();
    assert.deepEqual(verdict.up, { prometheus: true, alertmanager: false, route: false });
    assert.match(verdict.problems.join('\n'), /sends to no Alertmanager: alerts reach nobody/);

    world = healthy();
    world.held = null;
    verdict = await watch().check();
    assert.deepEqual(verdict.up, { prometheus: true, alertmanager: true, route: false });
    assert.match(verdict.problems.join('\n'), /holds no Watchdog: alerts from Prometheus do not reach it/);
  });

  void it('a Watchdog Prometheus stopped sending, or one silenced, is a broken route', async () => {
    world.held = { updatedAt: ago(12 * 60_000), endsAt: ago(8 * 60_000), state: 'active', silencedBy: [] };
    let verdict = await watch().check();
    assert.equal(verdict.up.route, false);
    assert.match(verdict.problems.join('\n'), /last received Watchdog 12 min ago: Prometheus stopped delivering/);

    world = healthy();
    world.held = { ...(world.held as NonNullable<World['held']>), state: 'suppressed', silencedBy: ['5f1e'] };
    verdict = await watch().check();
    assert.equal(verdict.up.route, false);
    assert.match(verdict.problems.join('\n'), /Watchdog is suppressed by silence 5f1e/);
  });

  void it('Prometheus not firing Watchdog or failing a rule is a broken Prometheus', async () => {
    world.firing = false;
    world.brokenRule = true;
    const verdict = await watch().check();
    assert.equal(verdict.up.prometheus, false);
    assert.match(verdict.problems.join('\n'), /not firing Watchdog: its alert rules are not loaded or not evaluated/);
    assert.match(verdict.problems.join('\n'), /failing to evaluate, which can never fire: MassSending \(many-to-many matching not allowed\)/);
  });

  void it('the metrics show the last verdict per component, nothing before the first check', async () => {
    const registry = new MetricsRegistry();
    const watcher = watch();
    createMonitoringMetrics(registry, () => watcher.latest());
    assert.doesNotMatch(await registry.metrics(), /^fleet_monitoring_pipeline_up/m);
    world.held = null;
    await watcher.check();
    const text = await registry.metrics();
    assert.match(text, /^fleet_monitoring_pipeline_up\{component="prometheus"\} 1$/m);
    assert.match(text, /^fleet_monitoring_pipeline_up\{component="alertmanager"\} 1$/m);
    assert.match(text, /^fleet_monitoring_pipeline_up\{component="route"\} 0$/m);
    assert.match(text, new RegExp(`^fleet_monitoring_pipeline_checked_timestamp_seconds ${NOW.getTime() / 1000}$`, 'm'));
  });

  void it('fleet doctor fails anomaly-alerts while alerts cannot reach Alertmanager, even with the target up and the rules loaded', async () => {
    const clientId = 'acme' as ClientId;
    const alerting = {
      url: 'http://prometheus',
      alertingOf: async () => ({ target: { health: 'up', lastError: '' }, loadedAlerts: [...REQUIRED_ALERTS] }),
    };
    const watcher = watch();
    assert.equal((await checkAlerting(clientId, alerting, () => watcher.check())).status, 'pass');
    world.held = null;
    const outcome = await checkAlerting(clientId, alerting, () => watcher.check());
    assert.equal(outcome.status, 'fail');
    assert.match(outcome.evidence.join('\n'), /holds no Watchdog/);
  });

  void it('derives the Alertmanager to ask from the URL Prometheus posts to, http(s) only', () => {
    assert.equal(alertmanagerBase('http://127.0.0.1:9093/api/v2/alerts'), 'http://127.0.0.1:9093');
    assert.equal(alertmanagerBase('https://am.example:9093/prefix/api/v1/alerts'), 'https://am.example:9093/prefix');
    assert.equal(alertmanagerBase('http://user:secret@am:9093/api/v2/alerts'), 'http://am:9093');
    assert.equal(alertmanagerBase('file:///etc/passwd'), null);
    assert.equal(alertmanagerBase('not a url'), null);
  });

  void it('judges a Watchdog with unreadable times as not delivered', () => {
    const verdict = assessPipeline(
      {
        prometheus: { url: 'http://p', error: null, watchdogFiring: true, brokenRules: [] },
        alertmanagers: [{ url: 'http://a', error: null, watchdog: { state: 'active', silencedBy: [], receivers: [], updatedAt: 'garbage', endsAt: '' } }],
      },
      NOW,
    );
    assert.equal(verdict.up.route, false);
    assert.match(verdict.problems[0] ?? '', /at an unknown time/);
  });
});
