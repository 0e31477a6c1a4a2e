import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Counter, Gauge, Registry } from 'prom-client';
import { createSilentLogger, type Logger } from '@agent-fleet/kernel/logger';
import { createMetricsApp } from '../../../agent-image/src/http/metrics-server.ts';

/** The plain-HTTP exporter on the container network: metrics and nothing else. */
describe('the metrics exporter', () => {
  const registry = new Registry();
  const errors: string[] = [];
  let failCollection = false;
  let server: Server;
  let base: string;

  before(async () => {
    new Counter({ name: 'agent_emails_read_total', help: 'Emails read.', registers: [registry] }).inc(3);
    const probe: Gauge = new Gauge({
      name: 'agent_probe',
      help: 'A gauge read at each scrape.',
      registers: [registry],
      collect: () => {
        if (failCollection) throw new Error(`cannot read ${import.meta.filename}`);
        probe.set(1);
      },
    });
    const logger: Logger = { ...createSilentLogger(), error: (message) => void errors.push(message), child: () => logger };
    server = createMetricsApp(registry, logger).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('serves the registry in the Prometheus text format', async () => {
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), registry.contentType);
    assert.match(await response.text(), /^agent_emails_read_total 3$/m);
  });

  test('a failed collection is a bare 500: no stack, no source path, logged once', async () => {
    failCollection = true;
    try {
      const response = await fetch(`${base}/metrics`);
      assert.equal(response.status, 500);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await response.text();
      assert.doesNotMatch(text, /\bat \w|\.ts\b|node_modules|\//, text);
      assert.deepEqual(errors, ['collecting metrics failed']);
    } finally {
      failCollection = false;
    }
  });

  test('every other request is a bare 404 that does not echo what was asked', async () => {
    for (const [method, path] of [
      ['GET', '/'],
      ['GET', '/healthz'],
      ['GET', '/v1/status'],
      ['POST', '/metrics'],
      ['GET', '/<b>probe-marker</b>'],
    ] as const) {
      const response = await fetch(`${base}${path}`, { method });
      assert.equal(response.status, 404, `${method} ${path}`);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await response.text();
      assert.doesNotMatch(text, /probe-marker|status|healthz|POST/, text);
    }
  });
});
