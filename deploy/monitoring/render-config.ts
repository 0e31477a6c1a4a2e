/**
 * Renders the Prometheus and Alertmanager configs of a local install from the checked-in ones
 * (deploy/prometheus/prometheus.yml, deploy/alertmanager/alertmanager.yml), so `make monitoring-up` and
 * the integration tests run exactly what compose and the charts run, with only paths, addresses,
 * intervals and receiver URLs changed.
 *
 * CLI (used by monitoring-up.sh):
 *   node deploy/monitoring/render-config.ts --out-dir DIR --targets-file FILE
 *     [--alertmanager-address 127.0.0.1:9493] [--orchestrator-address 127.0.0.1:7400]
 *     [--scrape-interval 30s] [--evaluation-interval 30s]
 *     [--pager-url http://127.0.0.1:9099/page] [--ops-url http://127.0.0.1:9099/ops]
 *     [--watchdog-url https://dead-mans-switch.example/ping]
 * writes DIR/prometheus.yml and DIR/alertmanager.yml and prints their paths as JSON.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PROMETHEUS_TEMPLATE = path.join(REPO_ROOT, 'deploy/prometheus/prometheus.yml');
export const ALERTMANAGER_TEMPLATE = path.join(REPO_ROOT, 'deploy/alertmanager/alertmanager.yml');
export const RULES_DIR = path.join(REPO_ROOT, 'deploy/prometheus/rules');

const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:9493')
  .refine((value) => Number(value.split(':').pop()) <= 65535, 'port must be at most 65535');
// Prometheus durations as the config accepts them, in the units an operator would use here.
const duration = z.string().regex(/^\d+(ms|s|m|h)$/, 'must be a duration like 1s, 30s or 1m');
const webhookUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const absolutePath = z.string().refine((value) => path.isAbsolute(value), 'must be an absolute path');

export const monitoringConfigOptionsSchema = z.object({
  /** The file_sd JSON the orchestrator writes, one target per agent with its `client` label. */
  targetsFile: absolutePath,
  /** Rule files or globs Prometheus loads; default: every file in deploy/prometheus/rules. */
  ruleFiles: z
    .array(absolutePath)
    .min(1)
    .default([path.join(RULES_DIR, '*.yml')]),
  /** Where Prometheus sends alerts. Default 127.0.0.1:9093. */
  alertmanagerAddress: hostPort.default('127.0.0.1:9093'),
  /** The orchestrator's metrics endpoint. Default 127.0.0.1:7400. */
  orchestratorAddress: hostPort.default('127.0.0.1:7400'),
  /** Scrape interval. Default 30s; tests use 1s. */
  scrapeInterval: duration.default('30s'),
  /** Rule evaluation interval. Default 30s; tests use 1s. */
  evaluationInterval: duration.default('30s'),
  /** Webhook receiving critical alerts. Default http://127.0.0.1:9099/page. */
  pagerWebhookUrl: webhookUrl.default('http://127.0.0.1:9099/page'),
  /** Webhook receiving warning and info alerts. Default http://127.0.0.1:9099/ops. */
  opsWebhookUrl: webhookUrl.default('http://127.0.0.1:9099/ops'),
  /**
   * A dead man's switch's webhook that receives the always-firing Watchdog every minute. Default: none
   * (the receiver stays without integration; the orchestrator watches the Watchdog through the API).
   */
  watchdogWebhookUrl: webhookUrl.optional(),
});

export type MonitoringConfigOptions = z.output<typeof monitoringConfigOptionsSchema>;
export type MonitoringConfigInput = z.input<typeof monitoringConfigOptionsSchema>;

/** Checks raw options, reporting every problem at once. */
export function parseMonitoringConfigOptions(input: unknown): MonitoringConfigOptions {
  const result = monitoringConfigOptionsSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`,
    );
    throw new FleetError('invalid_input', `invalid monitoring config options:\n  ${issues.join('\n  ')}`);
  }
  return Object.freeze(result.data);
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function durationMs(value: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(value);
  const unit = match?.[2];
  return match === null || unit === undefined
    ? Number.POSITIVE_INFINITY
    : Number(match[1]) * (UNIT_MS[unit] ?? 0);
}

function loadTemplate(text: string, source: string): Document {
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new FleetError('invalid_input', `${source}: not valid YAML: ${document.errors[0]?.message ?? ''}`);
  }
  return document;
}

/** Index of the sequence item whose `key` equals `value`; the template must contain it. */
function indexWhere(
  document: Document,
  sequencePath: string[],
  key: string,
  value: string,
  source: string,
): number {
  const sequence = document.getIn(sequencePath, true);
  if (isSeq(sequence)) {
    const index = sequence.items.findIndex((item) => isMap(item) && item.get(key) === value);
    if (index >= 0) return index;
  }
  throw new FleetError(
    'invalid_input',
    `${source}: no ${sequencePath.join('.')} entry with ${key}: ${value}`,
  );
}

function requirePath(document: Document, keyPath: (string | number)[], source: string): void {
  if (!document.hasIn(keyPath)) {
    throw new FleetError('invalid_input', `${source}: missing ${keyPath.join('.')}`);
  }
}

/** The Prometheus config for these options, from the checked-in template text (comments kept). */
export function renderPrometheusConfig(template: string, options: MonitoringConfigOptions): string {
  const source = 'prometheus template';
  const document = loadTemplate(template, source);
  const alertmanagerTargets = ['alerting', 'alertmanagers', 0, 'static_configs', 0, 'targets'];
  requirePath(document, alertmanagerTargets, source);
  const orchestrator = indexWhere(document, ['scrape_configs'], 'job_name', 'orchestrator', source);
  const agents = indexWhere(document, ['scrape_configs'], 'job_name', 'agents', source);
  const orchestratorTargets = ['scrape_configs', orchestrator, 'static_configs', 0, 'targets'];
  const agentFiles = ['scrape_configs', agents, 'file_sd_configs', 0, 'files'];
  requirePath(document, orchestratorTargets, source);
  requirePath(document, agentFiles, source);

  document.setIn(['global', 'scrape_interval'], options.scrapeInterval);
  document.setIn(['global', 'evaluation_interval'], options.evaluationInterval);
  // A scrape timeout longer than the interval is a config error, so short test intervals shrink it.
  const timeout = document.getIn(['global', 'scrape_timeout']);
  if (typeof timeout !== 'string' || durationMs(timeout) > durationMs(options.scrapeInterval)) {
    document.setIn(['global', 'scrape_timeout'], options.scrapeInterval);
  }
  document.setIn(['rule_files'], document.createNode([...options.ruleFiles]));
  document.setIn(alertmanagerTargets, document.createNode([options.alertmanagerAddress]));
  document.setIn(orchestratorTargets, document.createNode([options.orchestratorAddress]));
  document.setIn(agentFiles, document.createNode([options.targetsFile]));
  return document.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** The Alertmanager config for these options: the same routes and inhibitions, local receiver URLs. */
export function renderAlertmanagerConfig(template: string, options: MonitoringConfigOptions): string {
  const source = 'alertmanager template';
  const document = loadTemplate(template, source);
  const receivers: [string, string][] = [
    ['pager', options.pagerWebhookUrl],
    ['ops', options.opsWebhookUrl],
  ];
  for (const [name, url] of receivers) {
    const index = indexWhere(document, ['receivers'], 'name', name, source);
    const urlPath = ['receivers', index, 'webhook_configs', 0, 'url'];
    requirePath(document, urlPath, source);
    document.setIn(urlPath, url);
  }
  // The Watchdog's route names this receiver: a template without it would route the heartbeat nowhere.
  const watchdog = indexWhere(document, ['receivers'], 'name', 'watchdog', source);
  if (options.watchdogWebhookUrl !== undefined) {
    document.setIn(
      ['receivers', watchdog, 'webhook_configs'],
      document.createNode([{ url: options.watchdogWebhookUrl, send_resolved: false }]),
    );
  }
  return document.toString({ lineWidth: 0, flowCollectionPadding: false });
}

export interface RenderedMonitoringConfig {
  prometheusConfigFile: string;
  alertmanagerConfigFile: string;
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o644 });
  await rename(temporary, file);
}

/** Renders both configs from the checked-in templates into `outDir`. */
export async function writeMonitoringConfig(
  outDir: string,
  input: MonitoringConfigInput,
): Promise<RenderedMonitoringConfig> {
  const options = parseMonitoringConfigOptions(input);
  const [prometheusTemplate, alertmanagerTemplate] = await Promise.all([
    readFile(PROMETHEUS_TEMPLATE, 'utf8'),
    readFile(ALERTMANAGER_TEMPLATE, 'utf8'),
  ]);
  await mkdir(outDir, { recursive: true });
  const prometheusConfigFile = path.join(outDir, 'prometheus.yml');
  const alertmanagerConfigFile = path.join(outDir, 'alertmanager.yml');
  await writeAtomically(prometheusConfigFile, renderPrometheusConfig(prometheusTemplate, options));
  await writeAtomically(alertmanagerConfigFile, renderAlertmanagerConfig(alertmanagerTemplate, options));
  return { prometheusConfigFile, alertmanagerConfigFile };
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      'out-dir': { type: 'string' },
      'targets-file': { type: 'string' },
      'rule-files': { type: 'string', multiple: true },
      'alertmanager-address': { type: 'string' },
      'orchestrator-address': { type: 'string' },
      'scrape-interval': { type: 'string' },
      'evaluation-interval': { type: 'string' },
      'pager-url': { type: 'string' },
      'ops-url': { type: 'string' },
      'watchdog-url': { type: 'string' },
    },
  });
  const outDir = values['out-dir'];
  if (outDir === undefined || !path.isAbsolute(outDir)) {
    throw new FleetError('invalid_input', '--out-dir is required and must be an absolute path');
  }
  const options = parseMonitoringConfigOptions({
    targetsFile: values['targets-file'],
    ruleFiles: values['rule-files'],
    alertmanagerAddress: values['alertmanager-address'],
    orchestratorAddress: values['orchestrator-address'],
    scrapeInterval: values['scrape-interval'],
    evaluationInterval: values['evaluation-interval'],
    pagerWebhookUrl: values['pager-url'],
    opsWebhookUrl: values['ops-url'],
    watchdogWebhookUrl: values['watchdog-url'],
  });
  const rendered = await writeMonitoringConfig(outDir, options);
  process.stdout.write(`${JSON.stringify(rendered)}\n`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    const message = isFleetError(error) || error instanceof TypeError ? error.message : String(error);
    process.stderr.write(`render-config: ${message}\n`);
    process.exitCode = 2;
  });
}
