// A CONNECT the proxy cannot decide (the registry read behind it fails or never answers) is refused all the
// same, with a status that blames the proxy, not the host; the operator sees it in the log (a few lines per
// client, never the raw error) and in a counter. Loopback only.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Registry as MetricsRegistry } from 'prom-client';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger, type Logger } from '@agent-fleet/kernel/logger';
import { createEgressProxies, type EgressProxiesOptions } from '../../../orchestrator/src/adapters/egress-proxy/egress-proxies.ts';
import { EgressRefusalLog } from '../../../orchestrator/src/adapters/egress-proxy/egress-refusal-log.ts';
import { composeEgress } from '../../../orchestrator/src/compose-egress.ts';
import { parseEgressRule } from '../../../orchestrator/src/domain/egress-allow-list.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { freePort } from '../../helpers/free-port.ts';
import { connectStatus } from './connect-status.ts';

const ACME = parseClientId('acme');
/** Where the client's CONNECTs come from: an address on its network. */
const CLIENT_ADDRESS = '127.0.0.2';
const NETWORK = { gateway: '127.0.0.1', subnet: '127.0.0.0/30' };

interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps every line, with its children's fields merged in. */
function capturingLogger(lines: LogLine[], inherited: Record<string, unknown> = {}): Logger {
  const at = (level: string) => (message: string, fields: Record<string, unknown> = {}) => void lines.push({ level, message, fields: { ...inherited, ...fields } });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (fields) => capturingLogger(lines, { ...inherited, ...fields }) };
}

/** The database driver's failure, carrying what a log must not copy (the statement it ran). */
function registryFailure(): Error {
  return Object.assign(new Error('connection terminated unexpectedly'), { code: 'ECONNRESET', query: 'SELECT config_yaml FROM clients WHERE id = $1' });
}

async function withProxies(
  overrides: Pick<EgressProxiesOptions, 'lookupClient'> & Partial<EgressProxiesOptions>,
  run: (port: number, refusalFile: string) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'egress-decision-'));
  const refusalFile = path.join(dir, 'refused.jsonl');
  const proxies = createEgressProxies({
    port: await freePort(),
    extraRules: [parseEgressRule('api.example.org')],
    refusals: new EgressRefusalLog(refusalFile),
    metrics: { serving: () => undefined, refused: () => undefined, tunnelled: () => undefined },
    logger: createSilentLogger(),
    ...overrides,
  });
  try {
    const url = new URL(await proxies.listen(ACME, NETWORK));
    await run(Number(url.port), refusalFile);
  } finally {
    await proxies.close();
    await rm(dir, { recursive: true, force: true });
  }
}

void test('a registry that fails while deciding a CONNECT: refused with 500, counted each time, logged a few times without the raw error, never a refusal of the host', async () => {
  const lines: LogLine[] = [];
  const counted = { failed: 0, refused: 0 };
  await withProxies(
    {
      lookupClient: () => Promise.reject(registryFailure()),
      logger: capturingLogger(lines),
      metrics: { serving: () => undefined, refused: () => void (counted.refused += 1), tunnelled: () => undefined, decisionFailed: () => void (counted.failed += 1) },
    },
    async (port, refusalFile) => {
      for (let attempt = 0; attempt < 12; attempt += 1) {
        assert.equal(await connectStatus(port, 'api.example.org:443', CLIENT_ADDRESS), 'HTTP/1.1 500 Internal Server Error');
      }
      assert.equal(counted.failed, 12, 'every failure counted');
      assert.equal(counted.refused, 0, 'no refusal of the host counted');
      assert.equal(await readFile(refusalFile, 'utf8').catch(() => ''), '', 'nothing in the refusal audit trail');
    },
  );
  const errors = lines.filter((line) => line.level === 'error');
  assert.ok(errors.length >= 1 && errors.length <= 5, `a bounded number of lines, got ${errors.length}`);
  const first = errors[0]?.fields ?? {};
  assert.equal(first.client, 'acme');
  assert.equal(first.host, 'api.example.org');
  assert.match(String(first.error), /ECONNRESET.*connection terminated unexpectedly/);
  assert.doesNotMatch(JSON.stringify(errors), /SELECT/, 'the statement the driver ran stays out of the log');
});

void test('a registry read that hangs past the decision deadline is refused with 500 then, not decided by its late answer, and logged', async () => {
  const lines: LogLine[] = [];
  // Stands in for a hung read: it answers (no such client, which would be a 403) long after the deadline.
  const hungRead = () => delay(1500).then(() => null);
  await withProxies(
    { lookupClient: hungRead, logger: capturingLogger(lines), limits: { decisionTimeoutMs: 100 } },
    async (port) => {
      assert.equal(await connectStatus(port, 'api.example.org:443', CLIENT_ADDRESS), 'HTTP/1.1 500 Internal Server Error');
    },
  );
  assert.ok(lines.some((line) => line.level === 'error' && /no egress decision within 100 ms/.test(String(line.fields.error))));
});

void test('the composed proxies count failures to decide in fleet_egress_decision_errors_total, from 0', async () => {
  const metrics = new MetricsRegistry();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'egress-decision-'));
  const registry = { getClient: () => Promise.reject(registryFailure()) } as unknown as Registry;
  const proxies = composeEgress({
    config: {
      runtime: 'docker',
      egress: { mode: 'proxy', proxyPort: await freePort(), extraRules: [parseEgressRule('api.example.org')], refusalLogFile: path.join(dir, 'refused.jsonl'), hostFirewall: false },
    },
    registry,
    metrics,
    logger: createSilentLogger(),
    refusals: new EgressRefusalLog(path.join(dir, 'refused.jsonl')),
  });
  assert.ok(proxies !== null);
  const count = async () => (await metrics.getSingleMetric('fleet_egress_decision_errors_total')?.get())?.values[0]?.value;
  try {
    assert.equal(await count(), 0);
    const url = new URL(await proxies.listen(ACME, NETWORK));
    assert.equal(await connectStatus(Number(url.port), 'api.example.org:443', CLIENT_ADDRESS), 'HTTP/1.1 500 Internal Server Error');
    assert.equal(await count(), 1);
  } finally {
    await proxies.close();
    await rm(dir, { recursive: true, force: true });
  }
});
