// A team member's sign-in lockout used against them: anyone who reaches the orchestrator's TCP sign-in could
// send wrong codes for a member's name until the member was locked out, and that lockout refused the
// member's sign-in over the owner-only unix socket too, so `fleet kill` (which needs a session) was out of
// reach for ops on the machine during an incident. Wrong codes now count per channel.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { OrchestratorClient } from '../../../orchestrator/src/cli/orchestrator-client.ts';
import { readCliSession } from '../../../orchestrator/src/cli/session-file.ts';
import { createSocketApp, createTcpApp } from '../../../orchestrator/src/http/create-apps.ts';
import { listenTcp, listenUnixSocket } from '../../../orchestrator/src/http/listen.ts';
import { TEAM_POLICY } from '../../../orchestrator/src/domain/team-member.ts';
import { createFleetFixture, type FleetFixture } from '../../helpers/fleet-fixture.ts';
import { enrolMember, type TestMember } from '../../helpers/team-session.ts';
import { runFleetCli } from '../../helpers/fleet-cli.ts';

describe('team sign-in lockouts per channel, through the real listeners', () => {
  let fleet: FleetFixture;
  let socket: Server;
  let tcp: Server;
  let base: string;
  let alice: TestMember;

  before(async () => {
    fleet = await createFleetFixture();
    const logger = createSilentLogger();
    socket = await listenUnixSocket(createSocketApp(fleet.orchestrator, logger), fleet.config.api.socketPath);
    tcp = await listenTcp(
      createTcpApp(fleet.orchestrator, fleet.orchestrator.metrics, undefined, logger),
      '127.0.0.1',
      0,
    );
    base = `http://127.0.0.1:${(tcp.address() as { port: number }).port}/v1`;
    alice = await enrolMember(fleet.orchestrator, 'alice');
  });
  after(async () => {
    await new Promise<void>((resolve) => socket?.close(() => resolve()));
    await new Promise<void>((resolve) => tcp?.close(() => resolve()));
    await fleet?.cleanup([]);
  });

  const fleetCli = (...args: string[]) => runFleetCli(fleet.homeDir, ...args);

  const tcpLogin = async (code: string) =>
    fetch(`${base}/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ member: 'alice', code }),
    });

  test('wrong codes over TCP lock TCP only: `fleet login` over the socket still signs in, and each failure is in the ops log', async () => {
    const right = await alice.nextCode();
    const wrong = String((Number(right) + 500_000) % 1_000_000).padStart(6, '0');
    for (let guess = 0; guess < TEAM_POLICY.lockout.maxFailures + 2; guess += 1)
      assert.equal((await tcpLogin(wrong)).status, 401);
    const lockedOut = await tcpLogin(right);
    assert.equal(lockedOut.status, 401, 'TCP is locked, even for the right code');
    assert.match(JSON.stringify(await lockedOut.json()), /too many wrong codes for alice over TCP/);

    const signedIn = await fleetCli('--json', 'login', 'alice', '--code', await alice.nextCode());
    assert.equal(signedIn.code, 0, signedIn.err);
    const session = await readCliSession(fleet.homeDir);
    assert.equal(session?.member, 'alice');
    const client = new OrchestratorClient({
      socketPath: fleet.config.api.socketPath,
      homeDir: fleet.homeDir,
      sessionToken: session?.token ?? '',
    });
    const current = await client.request<{ member: string }>('GET', '/v1/sessions/current');
    assert.equal(current.member, 'alice', 'a live session: fleet kill is within reach');

    const refusals = (await fleet.orchestrator.registry.listOpsLog()).filter(
      (entry) => entry.action === 'ops-refused' && entry.details['path'] === '/v1/sessions',
    );
    assert.equal(refusals.length, TEAM_POLICY.lockout.maxFailures + 3, 'every failed attempt is recorded');
    assert.ok(refusals.every((entry) => entry.actor === 'alice' && entry.details['transport'] === 'tcp'));
  });
});
