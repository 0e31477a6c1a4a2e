// Incident evidence reads a Docker agent's own metrics endpoint, which a compromised agent answers as it likes:
// on loopback stand-ins here, an oversized answer is refused rather than read into the orchestrator's memory, and
// a redirect is refused rather than followed to wherever the agent points.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { AGENT_METRICS_MAX_BYTES, DockerAgentForensics } from '../../../orchestrator/src/adapters/docker/docker-agent-forensics.ts';

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

let answer: Handler = (_request, response) => response.end();
const redirectTargetHits: string[] = [];
const agent = http.createServer((request, response) => answer(request, response));
const elsewhere = http.createServer((request, response) => {
  redirectTargetHits.push(request.url ?? '');
  response.end('secret: the host service answered');
});

const addressOf = (server: http.Server) => `127.0.0.1:${(server.address() as AddressInfo).port}`;
const forensics = new DockerAgentForensics({ socketPath: '/nonexistent/engine.sock', fleetId: 'fleet-under-test' });
const unavailable = (pattern: RegExp) => (error: unknown) => error instanceof FleetError && error.code === 'unavailable' && pattern.test(error.message);

/** Writes `total` bytes of exposition-like text in 64 KiB chunks, without announcing its length. */
function streamed(total: number): Handler {
  return (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    const chunk = Buffer.alloc(64 * 1024, '# filler line\n');
    let sent = 0;
    const write = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!response.write(chunk)) return void response.once('drain', write);
      }
      response.end();
    };
    response.on('close', () => (sent = total));
    write();
  };
}

describe("scraping a Docker agent's metrics for evidence", () => {
  before(async () => {
    await new Promise<void>((resolve) => agent.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    agent.closeAllConnections();
    await new Promise<void>((resolve) => agent.close(() => resolve()));
    await new Promise<void>((resolve) => elsewhere.close(() => resolve()));
  });

  test('an exposition of ordinary size is read as it is', async () => {
    answer = (_request, response) => response.end('agent_up 1\n');
    assert.equal(await forensics.scrapeMetrics(addressOf(agent)), 'agent_up 1\n');
  });

  test('an answer larger than the bound, sent without a length, is refused', async () => {
    answer = streamed(AGENT_METRICS_MAX_BYTES * 4);
    await assert.rejects(forensics.scrapeMetrics(addressOf(agent)), unavailable(/exceed/));
  });

  test('an answer announcing a length beyond the bound is refused', async () => {
    answer = (_request, response) => {
      const body = Buffer.alloc(AGENT_METRICS_MAX_BYTES + 1, 'x');
      response.writeHead(200, { 'content-length': String(body.length) });
      response.end(body);
    };
    await assert.rejects(forensics.scrapeMetrics(addressOf(agent)), unavailable(/exceed/));
  });

  test('a redirect elsewhere is refused, not followed', async () => {
    answer = (_request, response) => {
      response.writeHead(302, { location: `http://${addressOf(elsewhere)}/v1/secret` });
      response.end();
    };
    await assert.rejects(forensics.scrapeMetrics(addressOf(agent)), unavailable(/could not be read/));
    assert.deepEqual(redirectTargetHits, []);
  });
});
