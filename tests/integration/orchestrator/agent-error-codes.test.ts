// An agent's error keeps its code across every hop: the agent's control API, the orchestrator's client
// of it, the orchestrator's ops API, and the fleet CLI's exit status. A real agent container whose audit
// log is tampered with refuses to export it with `integrity`: the API answers 422 { code: 'integrity' }
// and `fleet audit export` exits 7, not `unavailable` (6) as a status-only decoding made of it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http, { type Server } from 'node:http';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { resourceNames, type ClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';
import { createSocketApp } from '../../../orchestrator/src/http/create-apps.ts';
import { listenUnixSocket } from '../../../orchestrator/src/http/listen.ts';
import type { SupportGrant } from '../../../orchestrator/src/services/support-access.ts';
import {
  createFleetFixture,
  execNode,
  uniqueClientId,
  type FleetFixture,
} from '../../helpers/fleet-fixture.ts';
import { signInForCli, type TestMember } from '../../helpers/team-session.ts';

const CLI = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../orchestrator/src/cli/main.ts',
);
const ADMIN = 'boss@client.example';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Flips one base64 character of the first record of the oldest audit file, in place (no truncation, so
 * the agent's appends are undisturbed): that record no longer authenticates under the client's key.
 */
const TAMPER_FIRST_RECORD = `
const fs = require('node:fs');
const dir = '/data/audit';
const file = fs.readdirSync(dir).filter((name) => /^audit-\\d{4}-\\d{2}-\\d{2}\\.log$/.test(name)).sort()[0];
const fd = fs.openSync(dir + '/' + file, 'r+');
const at = 40;
const current = Buffer.alloc(1);
fs.readSync(fd, current, 0, 1, at);
fs.writeSync(fd, Buffer.from(current.toString() === 'A' ? 'B' : 'A'), 0, 1, at);
fs.fsyncSync(fd);
fs.closeSync(fd);
process.stdout.write(file);
`;

describe('an agent’s integrity error reaches the ops API and the CLI as integrity', () => {
  let fleet: FleetFixture;
  let socketServer: Server;
  let clientId: ClientId;
  let member: TestMember;
  const used: string[] = [];

  before(async () => {
    fleet = await createFleetFixture();
    socketServer = await listenUnixSocket(
      createSocketApp(fleet.orchestrator, createSilentLogger()),
      fleet.config.api.socketPath,
    );
    // Every change on the ops API is a signed-in member's; the CLI uses the session kept in the fleet home.
    member = await signInForCli(fleet.orchestrator, fleet.homeDir);
    clientId = uniqueClientId('ie');
    used.push(clientId);
    const result = await fleet.orchestrator.provision.provision({
      clientId,
      actor: 'test',
      configYaml: `client: ${clientId}\nadmins: [${ADMIN}]\n`,
    });
    assert.equal(result.outcome, 'provisioned');
  });
  after(async () => {
    await new Promise<void>((resolve) => socketServer?.close(() => resolve()));
    await fleet?.cleanup(used);
  });

  /** The real `fleet` binary against the service on its unix socket. */
  function fleetCli(args: string[]): Promise<CliRun> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        env: { ...process.env, AGENT_FLEET_HOME: fleet.homeDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** The ops API's raw answer, status and body, as any client of the socket sees it. */
  function apiGet(urlPath: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        { socketPath: fleet.config.api.socketPath, path: urlPath, method: 'GET', headers: { authorization: `Bearer ${member.token}` } },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end();
    });
  }

  test('a tampered audit record: the agent says integrity, the API answers 422 integrity, the CLI exits 7', async () => {
    // The CLI's own operator identity gets a grant, as the audit export needs one.
    const requested = await fleetCli([
      '--json',
      'support',
      'request',
      clientId,
      '--incident',
      'INC-7',
      '--reason',
      'audit export after tampering',
      '--hours',
      '1',
    ]);
    assert.equal(requested.code, 0, requested.stderr);
    const grant = JSON.parse(requested.stdout) as SupportGrant;
    // Only a client admin approves (in the portal, through its gateway to the support service).
    const approved = await fleet.orchestrator.support.approve({ clientId, grantId: grant.id, by: ADMIN, actor: `client-admin:${ADMIN}` });
    assert.equal(approved.status, 'active');
    const exportPath = `/v1/clients/${clientId}/audit/export?format=jsonl&actor=${encodeURIComponent(grant.member)}`;

    const intact = await fleetCli(['audit', 'export', clientId]);
    assert.equal(intact.code, 0, intact.stderr);
    const records = intact.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { seq: number });
    assert.ok(records.length >= 1, 'the new agent has audit records to export');
    assert.equal(records[0]?.seq, 1);

    const file = await execNode(resourceNames(clientId).container, TAMPER_FIRST_RECORD);
    assert.match(file, /^audit-\d{4}-\d{2}-\d{2}\.log$/);

    // Hop 1: the agent's control API, through the orchestrator's client of it.
    const fromAgent = await fleet.orchestrator.agents
      .exportAudit(clientId, { format: 'jsonl' }, new PassThrough())
      .then(
        () => assert.fail('the export of a tampered log must fail'),
        (error: unknown) => error,
      );
    assert.ok(isFleetError(fromAgent), String(fromAgent));
    assert.equal(fromAgent.code, 'integrity', fromAgent.message);
    assert.equal(fromAgent.retryable, false);

    // Hop 2: the orchestrator's ops API.
    const answer = await apiGet(exportPath);
    assert.equal(answer.status, 422, answer.body);
    const body = JSON.parse(answer.body) as { code: string; message: string };
    assert.equal(body.code, 'integrity');
    assert.match(
      body.message,
      /^GET \/v1\/audit\/export\?format=jsonl: /,
      'the message names the agent call that failed',
    );

    // Hop 3: the CLI's exit status and its one error line; nothing of the log on stdout.
    const broken = await fleetCli(['audit', 'export', clientId]);
    assert.equal(broken.code, EXIT_CODES.integrity, broken.stderr);
    assert.notEqual(broken.code, EXIT_CODES.unavailable);
    assert.match(broken.stderr, /^fleet: GET \/v1\/audit\/export\?format=jsonl: .+\n$/);
    assert.equal(broken.stdout, '');

    // The chain check names the same record, and `audit verify` exits 7 as well.
    const verified = await fleetCli(['audit', 'verify', clientId]);
    assert.equal(verified.code, EXIT_CODES.integrity, verified.stderr);
    assert.match(verified.stdout, new RegExp(`^AUDIT LOG OF ${clientId} BROKEN: undecryptable at seq 1: `));
  });
});
