// Monitoring config on the real engines: promtool, amtool, and a live Prometheus + Alertmanager pair
// (the Debian binaries) scraping a fake agent and paging a local webhook.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  ALERTMANAGER_TEMPLATE,
  PROMETHEUS_TEMPLATE,
  REPO_ROOT,
  RULES_DIR,
  parseMonitoringConfigOptions,
  writeMonitoringConfig,
} from '../../deploy/monitoring/render-config.ts';
import {
  MONITORING_DOWN,
  MONITORING_UP,
  assertSucceeded,
  close,
  exposition,
  freePort,
  getJson,
  killLeftovers,
  listen,
  monitoringEnv,
  run,
  startWebhookReceiver,
  waitFor,
  type RunResult,
  type WebhookCall,
} from '../helpers/monitoring.ts';

const PROMTOOL_TESTS_DIR = path.join(REPO_ROOT, 'deploy/prometheus/tests');
const DASHBOARD_FILE = path.join(REPO_ROOT, 'deploy/grafana/fleet-dashboard.json');
const RUNBOOKS_FILE = path.join(REPO_ROOT, 'docs/runbooks.md');
const RUNBOOK_BASE = 'https://github.com/agent-fleet/agent-fleet/blob/main/docs/runbooks.md#';
/** Alerts about the fleet itself, not one client: their descriptions and expressions need no client. */
const FLEET_LEVEL_ALERTS = new Set([
  'Watchdog',
  'OrchestratorDown',
  'ReconcileFailures',
  // The operators' audit trail is the fleet's, not a client's.
  'OpsLogCheckpointProblem',
  'OpsLogCheckpointBehind',
  'OpsLogAnchoredOnFirstUse',
  // The orchestrator's own sign-in surfaces: a portal refusal names a client the caller chose.
  'AuthFailuresBurstFleet',
  // An incident may span several clients: these alerts name the incident.
  'IncidentResponseDueSoon',
  'IncidentAssessmentDueSoon',
  'IncidentNotificationDueSoon',
  'IncidentReportDueSoon',
  'IncidentDeadlineMissed',
  // The egress proxy failing to decide is the proxy's (its registry), for every client at once.
  'EgressProxyUndecided',
]);

/** Fires always by design (the pipeline's heartbeat): it has no quiet case and no severity of a page. */
const ALWAYS_FIRING = new Set(['Watchdog']);

/** Every rules file Prometheus loads (`rule_files: rules/*.yml`). */
async function ruleFiles(): Promise<string[]> {
  return (await readdir(RULES_DIR)).filter((name) => name.endsWith('.yml')).sort().map((name) => path.join(RULES_DIR, name));
}

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

async function loadAlertRules(): Promise<AlertRule[]> {
  const rules: AlertRule[] = [];
  for (const file of await ruleFiles()) {
    const document = parseYaml(await readFile(file, 'utf8')) as { groups: { rules: AlertRule[] }[] };
    rules.push(...document.groups.flatMap((group) => group.rules).filter((rule) => typeof rule.alert === 'string'));
  }
  return rules;
}

interface PromtoolCase {
  alertname: string;
  exp_alerts?: { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[];
}

async function loadPromtoolCases(): Promise<PromtoolCase[]> {
  const files = (await readdir(PROMTOOL_TESTS_DIR)).filter((name) => name.endsWith('.yml'));
  const cases: PromtoolCase[] = [];
  for (const file of files) {
    const document = parseYaml(await readFile(path.join(PROMTOOL_TESTS_DIR, file), 'utf8')) as {
      tests: { alert_rule_test?: PromtoolCase[] }[];
    };
    for (const test of document.tests) cases.push(...(test.alert_rule_test ?? []));
  }
  return cases;
}

async function promtoolTestFiles(): Promise<string[]> {
  return (await readdir(PROMTOOL_TESTS_DIR))
    .filter((name) => name.endsWith('.yml'))
    .map((name) => path.join(PROMTOOL_TESTS_DIR, name));
}

void describe('prometheus config and alert rules', () => {
  let workDir = '';
  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'fleet-monitoring-config-'));
  });
  after(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  void it('the rendered prometheus config passes promtool check config', async () => {
    const targetsFile = path.join(workDir, 'targets/agents.json');
    await mkdir(path.dirname(targetsFile), { recursive: true });
    await writeFile(
      targetsFile,
      JSON.stringify([{ targets: ['127.0.0.1:19464'], labels: { client: 'acme' } }]),
    );
    const rendered = await writeMonitoringConfig(path.join(workDir, 'config'), {
      targetsFile,
      alertmanagerAddress: '127.0.0.1:19493',
      scrapeInterval: '1s',
      evaluationInterval: '1s',
    });
    const result = await run('promtool', ['check', 'config', rendered.prometheusConfigFile]);
    assertSucceeded(result, 'promtool check config');
    assert.match(result.stdout, new RegExp(`SUCCESS: ${(await ruleFiles()).length} rule files found`));
    assert.doesNotMatch(`${result.stdout}${result.stderr}`, /WARNING/);
  });

  void it('the checked-in prometheus config used by compose passes promtool check config', async () => {
    assertSucceeded(await run('promtool', ['check', 'config', PROMETHEUS_TEMPLATE]), 'promtool check config');
  });

  void it('rendering changes only the local paths, addresses, intervals and receiver urls', async () => {
    const outDir = path.join(workDir, 'render');
    const targetsFile = path.join(workDir, 'elsewhere/agents.json');
    const rendered = await writeMonitoringConfig(outDir, {
      targetsFile,
      alertmanagerAddress: '127.0.0.1:19493',
      orchestratorAddress: '127.0.0.1:17400',
      scrapeInterval: '1s',
      evaluationInterval: '2s',
      pagerWebhookUrl: 'http://127.0.0.1:19099/page',
      opsWebhookUrl: 'http://127.0.0.1:19099/ops',
    });
    type PromConfig = {
      global: Record<string, string>;
      rule_files: string[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
      scrape_configs: {
        job_name: string;
        static_configs?: { targets: string[] }[];
        file_sd_configs?: { files: string[] }[];
      }[];
    };
    const prom = parseYaml(await readFile(rendered.prometheusConfigFile, 'utf8')) as PromConfig;
    const original = parseYaml(await readFile(PROMETHEUS_TEMPLATE, 'utf8')) as PromConfig;
    assert.deepEqual(prom.global, { scrape_interval: '1s', evaluation_interval: '2s', scrape_timeout: '1s' });
    assert.deepEqual(prom.rule_files, [path.join(RULES_DIR, '*.yml')]);
    assert.deepEqual(prom.alerting.alertmanagers[0]?.static_configs[0]?.targets, ['127.0.0.1:19493']);
    const job = (name: string) => prom.scrape_configs.find((config) => config.job_name === name);
    assert.deepEqual(job('orchestrator')?.static_configs?.[0]?.targets, ['127.0.0.1:17400']);
    assert.deepEqual(job('agents')?.file_sd_configs?.[0]?.files, [targetsFile]);
    assert.deepEqual(
      prom.scrape_configs.map((config) => config.job_name),
      original.scrape_configs.map((config) => config.job_name),
    );

    type AmConfig = {
      route: unknown;
      inhibit_rules: unknown;
      receivers: { name: string; webhook_configs: { url: string }[] }[];
    };
    const am = parseYaml(await readFile(rendered.alertmanagerConfigFile, 'utf8')) as AmConfig;
    const amOriginal = parseYaml(await readFile(ALERTMANAGER_TEMPLATE, 'utf8')) as AmConfig;
    assert.deepEqual(am.route, amOriginal.route);
    assert.deepEqual(am.inhibit_rules, amOriginal.inhibit_rules);
    const url = (name: string) =>
      am.receivers.find((receiver) => receiver.name === name)?.webhook_configs[0]?.url;
    assert.equal(url('pager'), 'http://127.0.0.1:19099/page');
    assert.equal(url('ops'), 'http://127.0.0.1:19099/ops');
  });

  void it('render options are checked and every problem is reported at once', () => {
    assert.throws(
      () =>
        parseMonitoringConfigOptions({
          targetsFile: 'relative/agents.json',
          alertmanagerAddress: 'localhost',
          scrapeInterval: 'fast',
          pagerWebhookUrl: 'file:///etc/passwd',
        }),
      (error: Error & { code?: string }) =>
        error.code === 'invalid_input' &&
        ['targetsFile', 'alertmanagerAddress', 'scrapeInterval', 'pagerWebhookUrl'].every((field) =>
          error.message.includes(field),
        ),
    );
  });

  void it('the render cli rejects an unknown option with a clear message and exit code 2', async () => {
    const result = await run(process.execPath, [
      path.join(REPO_ROOT, 'deploy/monitoring/render-config.ts'),
      '--out-dir',
      workDir,
      '--bogus',
    ]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /render-config: .*bogus/);
  });

  void it('the alert rules pass promtool check rules with linting fatal', async () => {
    const result = await run('promtool', ['check', 'rules', '--lint=all', '--lint-fatal', ...(await ruleFiles())]);
    assertSucceeded(result, 'promtool check rules');
    assert.match(result.stdout, /SUCCESS: \d+ rules found/);
  });

  void it('every promtool unit test of the alert rules passes', async () => {
    const result = await run('promtool', ['test', 'rules', ...(await promtoolTestFiles())], {
      timeoutMs: 120_000,
    });
    assertSucceeded(result, 'promtool test rules');
    assert.doesNotMatch(result.stdout, /FAILED/);
  });

  void it('every alert has a unit test where it fires with exact annotations and one where it stays quiet', async () => {
    const rules = await loadAlertRules();
    const cases = await loadPromtoolCases();
    assert.ok(rules.length >= 14, `expected the full alert set, found ${rules.length}`);
    for (const rule of rules) {
      const own = cases.filter((testCase) => testCase.alertname === rule.alert);
      const firing = own.filter((testCase) => (testCase.exp_alerts ?? []).length > 0);
      assert.ok(firing.length > 0, `${rule.alert}: no test expects it to fire`);
      assert.ok(
        ALWAYS_FIRING.has(rule.alert) || own.some((testCase) => (testCase.exp_alerts ?? []).length === 0),
        `${rule.alert}: no test expects it to stay quiet`,
      );
      for (const expected of firing.flatMap((testCase) => testCase.exp_alerts ?? [])) {
        assert.deepEqual(
          Object.keys(expected.exp_annotations ?? {}).sort(),
          ['description', 'runbook_url', 'summary'],
          `${rule.alert}: a firing case must pin every annotation`,
        );
        assert.equal(
          expected.exp_labels?.severity,
          rule.labels?.severity,
          `${rule.alert}: firing case severity`,
        );
      }
    }
    const known = new Set(rules.map((rule) => rule.alert));
    for (const testCase of cases)
      assert.ok(known.has(testCase.alertname), `test for unknown alert ${testCase.alertname}`);
  });

  void it('every alert has a for, a severity, a summary, a client-aware description and a runbook section', async () => {
    const rules = await loadAlertRules();
    const runbooks = await readFile(RUNBOOKS_FILE, 'utf8');
    const headings = new Set(
      [...runbooks.matchAll(/^## (\S+)\s*$/gm)].map((match) => match[1]?.toLowerCase()),
    );
    for (const rule of rules) {
      assert.match(rule.for ?? '', /^\d+[smh]$/, `${rule.alert}: for`);
      assert.ok(
        ['critical', 'warning', 'info'].includes(rule.labels?.severity ?? '') ||
          (ALWAYS_FIRING.has(rule.alert) && rule.labels?.severity === 'none'),
        `${rule.alert}: severity`,
      );
      assert.ok((rule.annotations?.summary ?? '').length > 0, `${rule.alert}: summary`);
      assert.ok((rule.annotations?.description ?? '').length > 0, `${rule.alert}: description`);
      if (!FLEET_LEVEL_ALERTS.has(rule.alert)) {
        assert.match(
          rule.annotations?.description ?? '',
          /\{\{ \$labels\.client \}\}/,
          `${rule.alert}: description names the client`,
        );
        assert.match(rule.expr, /client/, `${rule.alert}: expression keeps the client label`);
      }
      assert.equal(
        rule.annotations?.runbook_url,
        `${RUNBOOK_BASE}${rule.alert.toLowerCase()}`,
        `${rule.alert}: runbook_url`,
      );
      assert.ok(
        headings.has(rule.alert.toLowerCase()),
        `${rule.alert}: no "## ${rule.alert}" section in docs/runbooks.md`,
      );
    }
    const required = [
      'MassSending',
      'RateLimitHit',
      'SendingPaused',
      'NewRecipientDomainsBurst',
      'OffHoursActivity',
      'OldDataAccess',
      'AuthFailuresBurst',
      'ConsentRevoked',
      'AgentDown',
      'SyncStalled',
      'AuditChainBroken',
      'ApprovalBacklog',
      'ApprovalsExpiring',
      'KillSwitchEngaged',
      'ReconcileFailures',
    ];
    const names = new Set(rules.map((rule) => rule.alert));
    for (const name of required) assert.ok(names.has(name), `missing alert ${name}`);
    const severityOf = (name: string) => rules.find((rule) => rule.alert === name)?.labels?.severity;
    for (const name of ['AuthFailuresBurst', 'ConsentRevoked', 'AgentDown', 'AuditChainBroken'])
      assert.equal(severityOf(name), 'critical', name);
    assert.equal(severityOf('KillSwitchEngaged'), 'info');
  });
});

void describe('alertmanager config', () => {
  void it('the checked-in alertmanager config passes amtool check-config', async () => {
    const result = await run('amtool', ['check-config', ALERTMANAGER_TEMPLATE]);
    assertSucceeded(result, 'amtool check-config');
    assert.match(result.stdout, /2 inhibit rules/);
  });

  const routeCases: { labels: string[]; receiver: string }[] = [
    { labels: ['severity=critical', 'client=acme', 'alertname=AuditChainBroken'], receiver: 'pager' },
    { labels: ['severity=critical', 'alertname=OrchestratorDown'], receiver: 'pager' },
    { labels: ['severity=warning', 'client=acme', 'alertname=SyncStalled'], receiver: 'ops' },
    { labels: ['severity=info', 'client=acme', 'alertname=KillSwitchEngaged'], receiver: 'ops' },
    { labels: ['client=acme', 'alertname=Unlabelled'], receiver: 'ops' },
    // The heartbeat goes to the dead man's switch only, whatever its severity, never to a person.
    { labels: ['severity=none', 'alertname=Watchdog'], receiver: 'watchdog' },
    { labels: ['severity=critical', 'alertname=Watchdog'], receiver: 'watchdog' },
  ];
  for (const { labels, receiver } of routeCases) {
    void it(`${labels.join(' ')} routes to ${receiver}`, async () => {
      const result = await run('amtool', [
        'config',
        'routes',
        'test',
        `--config.file=${ALERTMANAGER_TEMPLATE}`,
        `--verify.receivers=${receiver}`,
        ...labels,
      ]);
      assertSucceeded(result, 'amtool config routes test');
      assert.equal(result.stdout.trim(), receiver);
    });
  }

  void it('a warning never reaches the pager', async () => {
    const result = await run('amtool', [
      'config',
      'routes',
      'test',
      `--config.file=${ALERTMANAGER_TEMPLATE}`,
      '--verify.receivers=pager',
      'severity=warning',
      'client=acme',
    ]);
    assert.notEqual(result.code, 0);
  });
});

void describe('compose file and scripts', () => {
  void it('compose runs prometheus and alertmanager on loopback with the same config files', async () => {
    type Service = { image: string; network_mode?: string; command: string[]; volumes: string[] };
    const compose = parseYaml(await readFile(path.join(REPO_ROOT, 'deploy/compose.yml'), 'utf8')) as {
      services: Record<string, Service>;
    };
    const prometheus = compose.services.prometheus;
    const alertmanager = compose.services.alertmanager;
    assert.ok(prometheus !== undefined && alertmanager !== undefined);
    assert.match(prometheus.image, /^prom\/prometheus:/);
    assert.match(alertmanager.image, /^prom\/alertmanager:/);
    assert.ok(prometheus.volumes.includes('./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro'));
    assert.ok(prometheus.volumes.includes('./prometheus/rules:/etc/prometheus/rules:ro'));
    assert.ok(prometheus.volumes.some((volume) => volume.endsWith(':/var/lib/agent-fleet/targets:ro')));
    assert.ok(
      alertmanager.volumes.includes('./alertmanager/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro'),
    );
    // The checked-in prometheus.yml sends to 127.0.0.1:9093 and reads the targets from the mounted path.
    assert.ok(prometheus.command.includes('--web.listen-address=127.0.0.1:9090'));
    assert.ok(alertmanager.command.includes('--web.listen-address=127.0.0.1:9093'));
    const template = await readFile(PROMETHEUS_TEMPLATE, 'utf8');
    assert.match(template, /['"]127\.0\.0\.1:9093['"]/);
    assert.match(template, /\/var\/lib\/agent-fleet\/targets\/agents\.json/);
  });

  void it('monitoring-up rejects an invalid port before starting anything', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'fleet-monitoring-bad-port-'));
    try {
      const result = await run('bash', [MONITORING_UP], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: home,
          AGENT_FLEET_HOME: home,
          PROMETHEUS_PORT: '99999',
        },
      });
      assert.equal(result.code, 2);
      assert.match(result.stderr, /invalid port '99999'/);
      assert.deepEqual(await readdir(home), []);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  void it('monitoring-down with nothing running stops nothing and succeeds', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'fleet-monitoring-idle-'));
    try {
      const result = await run('bash', [MONITORING_DOWN], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, AGENT_FLEET_HOME: home },
      });
      assertSucceeded(result, 'monitoring-down.sh');
      assert.match(result.stdout, /prometheus not running/);
      assert.match(result.stdout, /alertmanager not running/);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

void describe('grafana dashboard', () => {
  interface Panel {
    id?: number;
    type?: string;
    title?: string;
    targets?: { expr?: string; refId?: string }[];
    panels?: Panel[];
  }
  const flatten = (panels: Panel[]): Panel[] =>
    panels.flatMap((panel) => [panel, ...flatten(panel.panels ?? [])]);
  // Grafana substitutes these before querying; stand-ins keep the PromQL parseable for promtool.
  const substitute = (expr: string) =>
    expr.replaceAll('$__rate_interval', '5m').replaceAll('$__range', '1h').replaceAll('$client', '.*');

  async function checkAsRules(exprs: string[], dir: string): Promise<RunResult> {
    const rules = {
      groups: [
        {
          name: 'dashboard',
          rules: exprs.map((expr, index) => ({ record: `dashboard:query_${index}`, expr })),
        },
      ],
    };
    const file = path.join(dir, 'dashboard-rules.yml');
    await writeFile(file, stringifyYaml(rules));
    return run('promtool', ['check', 'rules', file]);
  }

  void it('parses as a dashboard with unique panel ids and a client variable', async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD_FILE, 'utf8')) as {
      uid?: string;
      title?: string;
      panels: Panel[];
      templating: { list: { name: string }[] };
    };
    assert.equal(dashboard.uid, 'agent-fleet');
    const panels = flatten(dashboard.panels);
    const ids = panels.map((panel) => panel.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    assert.ok(dashboard.templating.list.some((variable) => variable.name === 'client'));
    const titles = panels.map((panel) => panel.title ?? '');
    for (const needed of [
      'Clients by state',
      'Recipients per hour vs. limit',
      'Approvals pending and expiring',
      'Anomaly signals (last hour)',
      'Alerts firing',
    ]) {
      assert.ok(titles.includes(needed), `panel "${needed}"`);
    }
  });

  void it('every panel query is valid PromQL according to promtool', async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD_FILE, 'utf8')) as { panels: Panel[] };
    const exprs = flatten(dashboard.panels).flatMap((panel) =>
      (panel.targets ?? []).map((target) => target.expr ?? ''),
    );
    assert.ok(exprs.length >= 15, `expected the dashboard's queries, found ${exprs.length}`);
    assert.ok(
      exprs.every((expr) => expr.length > 0),
      'every target has an expression',
    );
    const dir = await mkdtemp(path.join(tmpdir(), 'fleet-dashboard-'));
    try {
      const result = await checkAsRules(exprs.map(substitute), dir);
      assertSucceeded(result, 'promtool check rules on the dashboard queries');
      assert.match(result.stdout, new RegExp(`SUCCESS: ${exprs.length} rules found`));
      // The same check rejects a broken query, so a pass above means something.
      const broken = await checkAsRules(['sum by (client (agent_paused)'], dir);
      assert.notEqual(broken.code, 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// ---- live: real Prometheus and Alertmanager, a fake agent, a webhook receiver ----

void describe('live prometheus and alertmanager', () => {
  void it(
    'a broken audit chain on a scraped agent pages the pager webhook with its client label',
    { timeout: 240_000 },
    async () => {
      const home = await mkdtemp(path.join(tmpdir(), 'fleet-monitoring-live-'));
      const monitoringDir = path.join(home, 'monitoring');
      let calls: WebhookCall[] = [];
      let chainValid = 1;
      let agent: Server | undefined;
      let orchestrator: Server | undefined;
      let webhook: Server | undefined;
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, AGENT_FLEET_HOME: home };
      try {
        ({ server: agent } = await listen((request, response) => {
          const now = Math.floor(Date.now() / 1000);
          response.setHeader('content-type', 'text/plain; version=0.0.4');
          response.end(
            exposition([
              ['agent_audit_chain_valid', 'gauge', chainValid],
              ['agent_paused', 'gauge', 0],
              ['agent_killed', 'gauge', 0],
              ['agent_approvals_pending', 'gauge', 2],
              ['agent_approvals_expiring_soon', 'gauge', 0],
              ['agent_last_sync_timestamp_seconds', 'gauge', now],
              ['agent_rate_limit_per_hour', 'gauge', 20],
              ['agent_recipients_total', 'counter', 3],
              ['agent_rate_limit_hits_total', 'counter', 0],
            ]),
          );
        }));
        const agentPort = (agent.address() as AddressInfo).port;
        ({ server: orchestrator } = await listen((request, response) => {
          response.setHeader('content-type', 'text/plain; version=0.0.4');
          response.end(
            '# HELP fleet_clients Clients by status.\n# TYPE fleet_clients gauge\nfleet_clients{status="active"} 1\n',
          );
        }));
        const orchestratorPort = (orchestrator.address() as AddressInfo).port;
        const receiver = await startWebhookReceiver();
        webhook = receiver.server;
        const webhookPort = receiver.port;
        calls = receiver.calls;

        await mkdir(path.join(home, 'targets'), { recursive: true });
        await writeFile(
          path.join(home, 'targets/agents.json'),
          JSON.stringify([{ targets: [`127.0.0.1:${agentPort}`], labels: { client: 'acme' } }]),
        );
        const prometheusPort = await freePort();
        const alertmanagerPort = await freePort();
        const upEnv = monitoringEnv(env, {
          prometheus: prometheusPort,
          alertmanager: alertmanagerPort,
          orchestrator: orchestratorPort,
          webhook: webhookPort,
        });
        assertSucceeded(
          await run('bash', [MONITORING_UP], { env: upEnv, timeoutMs: 90_000 }),
          'monitoring-up.sh',
        );
        // Idempotent: a second run reloads instead of starting a second pair.
        const again = await run('bash', [MONITORING_UP], { env: upEnv, timeoutMs: 90_000 });
        assertSucceeded(again, 'monitoring-up.sh (second run)');
        assert.match(again.stdout, /prometheus already running/);
        assert.match(again.stdout, /alertmanager already running/);

        const prometheus = `http://127.0.0.1:${prometheusPort}`;
        type QueryResult = {
          data: { result: { metric: Record<string, string>; value: [number, string] }[] };
        };
        await waitFor('the agent target to be scraped with its client label', 30_000, async () => {
          const body = await getJson<QueryResult>(
            `${prometheus}/api/v1/query?query=${encodeURIComponent('up{job="agents",client="acme"}')}`,
          );
          return body.data.result[0]?.value[1] === '1' ? true : undefined;
        });
        // Several evaluation cycles of every rule on healthy metrics: nothing pending, nothing firing.
        await sleep(4_000);
        const quiet = await getJson<{ data: { alerts: { labels: Record<string, string> }[] } }>(
          `${prometheus}/api/v1/alerts`,
        );
        assert.deepEqual(
          quiet.data.alerts.map((alert) => alert.labels.alertname),
          ['Watchdog'],
          'healthy metrics raise no alert but the heartbeat',
        );
        assert.equal(calls.length, 0, 'healthy metrics page nobody');
        chainValid = 0;
        const flippedAt = Date.now();
        const page = await waitFor('a page for the broken audit chain', 60_000, async () =>
          calls.find(
            (call) =>
              call.path === '/page' &&
              (call.body.alerts ?? []).some(
                (alert) =>
                  alert.status === 'firing' &&
                  alert.labels?.alertname === 'AuditChainBroken' &&
                  alert.labels.client === 'acme',
              ),
          ),
        );
        assert.ok(Date.now() - flippedAt <= 60_000);
        assert.equal(page.body.receiver, 'pager');
        assert.deepEqual(page.body.groupLabels, { alertname: 'AuditChainBroken', client: 'acme' });
        const alert = page.body.alerts?.[0];
        assert.equal(alert?.labels?.severity, 'critical');
        assert.equal(alert?.annotations?.runbook_url, `${RUNBOOK_BASE}auditchainbroken`);
        assert.ok(
          calls.every((call) => call.path === '/page'),
          'nothing but the page was sent',
        );
        // The heartbeat reached the Alertmanager Prometheus sends to, and goes to the watchdog receiver. Its
        // first send can come before Prometheus has found the Alertmanager (dropped), then once a minute
        // (Prometheus's resend delay): hence the wait.
        type HeldAlert = { labels: Record<string, string>; receivers: { name: string }[] };
        const held = await waitFor('the Watchdog in Alertmanager', 90_000, async () =>
          (
            await getJson<HeldAlert[]>(
              `http://127.0.0.1:${alertmanagerPort}/api/v2/alerts?filter=${encodeURIComponent('alertname="Watchdog"')}`,
            )
          )[0],
        );
        assert.deepEqual(held.receivers.map((receiver) => receiver.name), ['watchdog']);
        assert.ok(calls.every((call) => call.path === '/page'), 'the heartbeat pages nobody');

        // Inhibition on the real Alertmanager: a killed client's other alerts are muted, the kill notice is
        // not; a down agent mutes its other alerts but not itself.
        const alertmanager = `http://127.0.0.1:${alertmanagerPort}`;
        const post = (labels: Record<string, string>) => ({ labels, annotations: { summary: 'test' } });
        const response = await fetch(`${alertmanager}/api/v2/alerts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify([
            post({ alertname: 'KillSwitchEngaged', client: 'beta', severity: 'info' }),
            post({ alertname: 'AgentDown', client: 'beta', severity: 'critical' }),
            post({ alertname: 'SyncStalled', client: 'beta', severity: 'warning' }),
            post({ alertname: 'AgentDown', client: 'gamma', severity: 'critical' }),
            post({ alertname: 'SyncStalled', client: 'gamma', severity: 'warning' }),
            post({ alertname: 'SyncStalled', client: 'delta', severity: 'warning' }),
          ]),
          signal: AbortSignal.timeout(5_000),
        });
        assert.ok(response.ok, `POST /api/v2/alerts: HTTP ${response.status}`);
        type AmAlert = { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } };
        const states = await waitFor('inhibition to apply', 20_000, async () => {
          const alerts = await getJson<AmAlert[]>(
            `${alertmanager}/api/v2/alerts?filter=${encodeURIComponent('client=~"beta|gamma|delta"')}`,
          );
          const byKey = new Map(
            alerts.map((item) => [`${item.labels.client}/${item.labels.alertname}`, item.status.state]),
          );
          return byKey.size === 6 ? byKey : undefined;
        });
        assert.deepEqual(Object.fromEntries([...states].sort()), {
          'beta/AgentDown': 'suppressed',
          'beta/KillSwitchEngaged': 'active',
          'beta/SyncStalled': 'suppressed',
          'delta/SyncStalled': 'active',
          'gamma/AgentDown': 'active',
          'gamma/SyncStalled': 'suppressed',
        });

        const down = await run('bash', [MONITORING_DOWN], { env, timeoutMs: 60_000 });
        assertSucceeded(down, 'monitoring-down.sh');
        assert.match(down.stdout, /prometheus stopped/);
        assert.match(down.stdout, /alertmanager stopped/);
        await assert.rejects(fetch(`${prometheus}/-/ready`, { signal: AbortSignal.timeout(2_000) }));
      } finally {
        await run('bash', [MONITORING_DOWN], { env, timeoutMs: 60_000 });
        await killLeftovers(monitoringDir);
        await Promise.all([close(agent), close(orchestrator), close(webhook)]);
        await rm(home, { recursive: true, force: true });
      }
    },
  );
});
