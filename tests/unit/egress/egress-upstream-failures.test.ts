// Allowed requests whose host is never reached (502, 504) leave a trace: an agent hammering an unreachable
// host is visible to the on-call engineer, without ever counting as a refusal, and without flooding the log.
// Loopback only; names are resolved by an injected resolver, never by DNS.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { createEgressProxies, type EgressProxies } from '../../../orchestrator/src/adapters/egress-proxy/egress-proxies.ts';
import { EgressRefusalLog, type EgressRefusalEntry } from '../../../orchestrator/src/adapters/egress-proxy/egress-refusal-log.ts';
import { parseEgressRule } from '../../../orchestrator/src/domain/egress-allow-list.ts';
import { connectStatus } from './connect-status.ts';

const ACME = parseClientId('acme');

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function logLines(file: string, until: (lines: Array<Record<string, unknown>>) => boolean): Promise<Array<Record<string, unknown>>> {
  let lines: Array<Record<string, unknown>> = [];
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const text = await readFile(file, 'utf8').catch(() => '');
    lines = text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    if (until(lines)) return lines;
    await settle(20);
  }
  return lines;
}

describe('upstream failures of allowed requests', () => {
  let dir: string;
  let file: string;
  let proxies: EgressProxies;
  let proxyPort: number;
  let closedPort: number;
  const counted = { refused: [] as string[], failed: [] as string[] };

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'egress-upstream-'));
    file = path.join(dir, 'refused.jsonl');
    closedPort = await freePort();
    proxyPort = await freePort();
    proxies = createEgressProxies({
      port: proxyPort,
      extraRules: [parseEgressRule(`127.0.0.1:${closedPort}`), parseEgressRule('gone.example.test'), parseEgressRule('slow.example.test')],
      lookupClient: async (clientId) => ({ status: 'active', configYaml: `client: ${clientId}\nprovider: gmail\n` }),
      refusals: new EgressRefusalLog(file),
      metrics: {
        serving: () => undefined,
        refused: (client) => counted.refused.push(client),
        tunnelled: () => undefined,
        upstreamFailed: (client) => counted.failed.push(client),
      },
      logger: createSilentLogger(),
      limits: { connectTimeoutMs: 200 },
      resolve: (host) => (host === 'slow.example.test' ? new Promise<never>(() => undefined) : Promise.reject(Object.assign(new Error(`no such name ${host}`), { code: 'ENOTFOUND' }))),
    });
    await proxies.listen(ACME, { gateway: '127.0.0.1', subnet: '127.0.0.0/30' });
  });
  after(async () => {
    await proxies.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a refused connection, a name with no address and a lookup past its deadline are logged as failures and counted apart from refusals', async () => {
    assert.equal(await connectStatus(proxyPort, `127.0.0.1:${closedPort}`, '127.0.0.2'), 'HTTP/1.1 502 Bad Gateway');
    assert.equal(await connectStatus(proxyPort, 'gone.example.test:443', '127.0.0.2'), 'HTTP/1.1 502 Bad Gateway');
    assert.equal(await connectStatus(proxyPort, 'slow.example.test:443', '127.0.0.2'), 'HTTP/1.1 504 Gateway Timeout');
    const lines = await logLines(file, (written) => written.length >= 3);
    assert.deepEqual(
      lines.map((line) => [line['client'], line['host'], line['reason']]),
      [
        ['acme', '127.0.0.1', 'unreachable'],
        ['acme', 'gone.example.test', 'unreachable'],
        ['acme', 'slow.example.test', 'timeout'],
      ],
    );
    assert.deepEqual(counted.failed, ['acme', 'acme', 'acme']);
    assert.deepEqual(counted.refused, [], 'an unreachable host is no refusal (it would page EgressRefused)');
  });
});

void test("a flood of upstream failures is written within its own budget and never crowds out the client's refusals", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'egress-upstream-'));
  try {
    const file = path.join(dir, 'refused.jsonl');
    const log = new EgressRefusalLog(file, { perClientPerWindow: 5, upstreamFailuresPerClientPerWindow: 2, windowMs: 60_000 });
    const at = Date.parse('2026-12-06T10:00:00.000Z');
    const line = (reason: EgressRefusalEntry['reason'], host: string, offsetMs: number): EgressRefusalEntry => ({
      at: new Date(at + offsetMs).toISOString(), client: 'acme', host, port: 443, reason, source: '10.213.0.2',
    });
    await Promise.all(Array.from({ length: 300 }, (_, index) => log.append(line('unreachable', 'api.anthropic.com', index))));
    await log.append(line('not_allowed', 'exfil.example.com', 400));
    await log.append(line('timeout', 'api.anthropic.com', 61_000));
    const written = (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((text) => JSON.parse(text) as Record<string, unknown>);
    assert.deepEqual(
      written.map((entry) => [entry['reason'], entry['suppressed']]),
      [['unreachable', undefined], ['unreachable', undefined], ['not_allowed', undefined], ['timeout', 298]],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
