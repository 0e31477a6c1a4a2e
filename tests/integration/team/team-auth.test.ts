// Team identities on the ops API, through the real `fleet` CLI against the orchestrator's unix socket:
// the first member added without a session (once), sign-in with a TOTP code, every change made by the
// signed-in member (never by whom the request body names), and each refusal (no session, another
// member's support grant, a second factor older than 15 minutes) exiting 5 and recorded in the ops log.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';
import { sessionFile } from '../../../orchestrator/src/cli/session-file.ts';
import { createSocketApp, createTcpApp } from '../../../orchestrator/src/http/create-apps.ts';
import { listenTcp, listenUnixSocket } from '../../../orchestrator/src/http/listen.ts';
import type { OpsLogEntry } from '../../../orchestrator/src/ports/registry.ts';
import type { SupportGrant } from '../../../orchestrator/src/services/support-access.ts';
import { createFleetFixture, uniqueClientId, type FleetFixture } from '../../helpers/fleet-fixture.ts';
import { enrolMember, type TestMember } from '../../helpers/team-session.ts';
import { runFleetCli } from '../../helpers/fleet-cli.ts';

const ADMIN = 'boss@client.example';
const MINUTE = 60_000;

describe('team members on the ops API', () => {
  let fleet: FleetFixture;
  let server: Server;
  // The orchestrator's clock runs ahead of the wall clock by `offset`, so a test can let 16 minutes pass.
  let offset = 0;
  const now = () => new Date(Date.now() + offset);

  before(async () => {
    fleet = await createFleetFixture({}, { clock: { now } });
    server = await listenUnixSocket(
      createSocketApp(fleet.orchestrator, createSilentLogger()),
      fleet.config.api.socketPath,
    );
  });
  after(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await fleet?.cleanup([]);
  });

  const fleetCli = (...args: string[]) => runFleetCli(fleet.homeDir, ...args);

  /** A registered client without a container: the gates are passed (or not) before any agent is reached. */
  async function registerClient(): Promise<ClientId> {
    const clientId = uniqueClientId('ta');
    const configYaml = `client: ${clientId}\nadmins: [${ADMIN}]\n`;
    const claim = await fleet.orchestrator.registry.claimForProvisioning(
      {
        id: clientId,
        provider: 'gmail',
        admins: [ADMIN],
        configYaml,
        onboardingStartedAt: now().toISOString(),
      },
      `op-${clientId}`,
      now(),
      60_000,
    );
    assert.equal(claim.outcome, 'claimed');
    return clientId;
  }

  const refusals = async (): Promise<OpsLogEntry[]> =>
    (await fleet.orchestrator.registry.listOpsLog()).filter((entry) => entry.action === 'ops-refused');

  let alice: TestMember;

  test('the first member is added over the socket without a session, once; sign-in keeps an owner-only session', async () => {
    const first = await fleetCli('--json', 'team', 'add', 'alice', '--email', 'alice@agency.example');
    assert.equal(first.code, 0, first.err);
    const added = JSON.parse(first.out) as { bootstrap: boolean; enrolment: { code: string } };
    assert.equal(added.bootstrap, true);

    const second = await fleetCli('team', 'add', 'mallory', '--email', 'mallory@agency.example');
    assert.equal(second.code, EXIT_CODES.unauthorized, second.err);
    assert.match(second.err, /sign in first/);

    const enrolled = await fleetCli(
      '--json',
      'login',
      'alice',
      '--enrol',
      '--enrolment-code',
      added.enrolment.code,
    );
    assert.equal(enrolled.code, 0, enrolled.err);
    const { secret } = JSON.parse(enrolled.out) as { secret: string };
    const reused = await fleetCli('login', 'alice', '--enrol', '--enrolment-code', added.enrolment.code);
    assert.equal(reused.code, EXIT_CODES.unauthorized, 'an enrolment code works once');

    const { generate } = await import('otplib');
    const signedIn = await fleetCli(
      '--json',
      'login',
      'alice',
      '--code',
      await generate({ secret, epoch: Math.floor(now().getTime() / 1000) }),
    );
    assert.equal(signedIn.code, 0, signedIn.err);
    assert.equal((await stat(sessionFile(fleet.homeDir))).mode & 0o777, 0o600);

    const log = await fleet.orchestrator.registry.listOpsLog();
    const trail = log
      .filter((entry) => entry.action.startsWith('team-'))
      .map((entry) => [entry.action, entry.actor]);
    assert.deepEqual(trail, [
      ['team-add', 'bootstrap@socket'],
      ['team-enrol', 'alice'],
      ['team-login', 'alice'],
    ]);
    const refused = (await refusals()).find((entry) => entry.details['path'] === '/v1/team/members');
    assert.equal(refused?.actor, 'anonymous');
    assert.equal(refused?.outcome, 'refused');

    // Her first sign-in made alice active.
    const team = await fleetCli('--json', 'team', 'list');
    assert.deepEqual(
      (JSON.parse(team.out) as { name: string; status: string }[]).map((m) => [m.name, m.status]),
      [['alice', 'active']],
    );
  });

  test('an ops action without a session is refused with exit 5 and recorded', async () => {
    await fleetCli('logout');
    const clientId = await registerClient();
    const kill = await fleetCli('kill', clientId, '--reason', 'test');
    assert.equal(kill.code, EXIT_CODES.unauthorized, kill.err);
    assert.match(kill.err, /sign in first: fleet login <member>/);
    assert.equal(
      (await fleet.orchestrator.registry.getClient(clientId))?.status,
      'provisioning',
      'nothing was done',
    );
    const refused = (await refusals()).at(-1);
    assert.equal(refused?.actor, 'anonymous');
    assert.deepEqual(refused?.details, {
      method: 'POST',
      path: `/v1/clients/${clientId}/kill`,
      transport: 'socket',
      code: 'unauthorized',
    });
    // Reads without client content stay open to the socket's owner.
    assert.equal((await fleetCli('list')).code, 0);
  });

  test('the member of the session is the actor, whatever the request names', async () => {
    alice = await enrolMember(fleet.orchestrator, 'alice-ops', { now });
    const clientId = await registerClient();
    const grant = await alice
      .api(fleet.config.api.socketPath, fleet.homeDir)
      .request<SupportGrant>('POST', `/v1/clients/${clientId}/support-grants`, {
        incident: 'INC-3',
        reason: 'sync stalled',
        actor: 'mallory',
      });
    assert.equal(grant.requestedBy, 'alice-ops');
    assert.equal(grant.member, 'alice-ops');
    const [entry] = await fleet.orchestrator.registry.listOpsLog({ clientId });
    assert.equal(entry?.actor, 'alice-ops');
  });

  test('another member’s support grant is refused with exit 5 and recorded; its own member passes the gate', async () => {
    const clientId = await registerClient();
    const grant = await alice
      .api(fleet.config.api.socketPath, fleet.homeDir)
      .request<SupportGrant>('POST', `/v1/clients/${clientId}/support-grants`, {
        incident: 'INC-4',
        reason: 'drafts look wrong',
      });
    await fleet.orchestrator.support.approve({
      clientId,
      grantId: grant.id,
      by: ADMIN,
      actor: `client-admin:${ADMIN}`,
    });

    const bob = await enrolMember(fleet.orchestrator, 'bob', { now });
    await bob.useForCli(fleet.homeDir);
    const asBob = await fleetCli('audit', 'export', clientId);
    assert.equal(asBob.code, EXIT_CODES.forbidden, asBob.err);
    assert.match(asBob.err, /bob has no active support grant/);
    const refused = (await refusals()).at(-1);
    assert.equal(refused?.actor, 'bob');
    assert.equal(refused?.details['path'], `/v1/clients/${clientId}/audit/export`);

    await alice.useForCli(fleet.homeDir);
    const asAlice = await fleetCli('audit', 'export', clientId);
    assert.equal(
      asAlice.code,
      EXIT_CODES.unavailable,
      `past the gate, the agent is not running: ${asAlice.err}`,
    );
    const access = (await fleet.orchestrator.registry.listOpsLog({ clientId })).at(-1);
    assert.deepEqual([access?.action, access?.actor], ['support-access', 'alice-ops']);
  });

  test('client data needs a code within the last 15 minutes: refused (exit 5, recorded) until one is entered', async () => {
    const clientId = await registerClient();
    const grant = await alice
      .api(fleet.config.api.socketPath, fleet.homeDir)
      .request<SupportGrant>('POST', `/v1/clients/${clientId}/support-grants`, {
        incident: 'INC-5',
        reason: 'bounces',
      });
    await fleet.orchestrator.support.approve({
      clientId,
      grantId: grant.id,
      by: ADMIN,
      actor: `client-admin:${ADMIN}`,
    });
    await alice.useForCli(fleet.homeDir);
    // Time only moves on: a code's time step must be later than the last one accepted.
    offset += 16 * MINUTE;
    // A change needs only the session; client data needs the fresh code.
    assert.equal((await fleetCli('support', 'list', clientId)).code, 0);
    const stale = await fleetCli('audit', 'export', clientId);
    assert.equal(stale.code, EXIT_CODES.forbidden, stale.err);
    assert.match(stale.err, /enter a code within the last 15 minutes/);
    const refused = (await refusals()).at(-1);
    assert.deepEqual(
      [refused?.actor, refused?.details['path'], refused?.details['code']],
      ['alice-ops', `/v1/clients/${clientId}/audit/export`, 'forbidden'],
    );
    assert.equal(
      (await fleet.orchestrator.registry.listOpsLog({ clientId })).some(
        (entry) => entry.action === 'support-access',
      ),
      false,
      'the grant was not used',
    );

    const wrong = await fleetCli('audit', 'export', clientId, '--code', '000000');
    assert.equal(wrong.code, EXIT_CODES.unauthorized, wrong.err);
    const fresh = await fleetCli('audit', 'export', clientId, '--code', await alice.nextCode());
    assert.equal(fresh.code, EXIT_CODES.unavailable, `past the gate, the agent is not running: ${fresh.err}`);
    assert.equal(
      (await fleet.orchestrator.registry.listOpsLog({ clientId })).at(-1)?.action,
      'support-access',
    );
  });

  test('a removed member’s session ends at once', async () => {
    const carol = await enrolMember(fleet.orchestrator, 'carol', { now });
    await alice.signIn();
    await alice.useForCli(fleet.homeDir);
    assert.equal((await fleetCli('team', 'remove', 'carol')).code, 0);
    const clientId = await registerClient();
    await assert.rejects(
      carol
        .api(fleet.config.api.socketPath, fleet.homeDir)
        .request('POST', `/v1/clients/${clientId}/kill`, { reason: 'x' }),
      /the session is unknown or has ended/,
    );
  });

  test('on the TCP API a member’s session is the bearer; without one nothing is served', async () => {
    const tcp = await listenTcp(
      createTcpApp(fleet.orchestrator, fleet.orchestrator.metrics, undefined, createSilentLogger()),
      '127.0.0.1',
      0,
    );
    try {
      const base = `http://127.0.0.1:${(tcp.address() as { port: number }).port}/v1`;
      const anonymous = await fetch(`${base}/clients`);
      assert.equal(anonymous.status, 401);
      const signedIn = await fetch(`${base}/sessions/current`, {
        headers: { authorization: `Bearer ${alice.token}` },
      });
      assert.equal(signedIn.status, 200);
      assert.equal(((await signedIn.json()) as { member: string }).member, 'alice-ops');
      assert.equal((await refusals()).at(-1)?.details['transport'], 'tcp');
    } finally {
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    }
  });
});
