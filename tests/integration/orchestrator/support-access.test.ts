// Support access: no standing access to a client's data; a grant per incident, approved by one of the
// client's own admins, time-limited, revocable, and every use in the hash-chained ops log with the time,
// the team member and the reason. Exercised through the orchestrator's API on its unix socket, as the
// CLI uses it; the audit export is the read of client data it guards.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { OrchestratorClient } from '../../../orchestrator/src/cli/orchestrator-client.ts';
import { verifyOpsLog } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import { createSocketApp } from '../../../orchestrator/src/http/create-apps.ts';
import { listenUnixSocket } from '../../../orchestrator/src/http/listen.ts';
import { foldGrants, type SupportGrant } from '../../../orchestrator/src/services/support-access.ts';
import { createFleetFixture, uniqueClientId, type FleetFixture } from '../../helpers/fleet-fixture.ts';
import { enrolMember, type TestMember } from '../../helpers/team-session.ts';

const ADMIN = 'boss@client.example';
const HOUR_MS = 3_600_000;

describe('support access to a client’s data', () => {
  let fleet: FleetFixture;
  let socketServer: Server;
  let api: OrchestratorClient;
  const members = new Map<string, TestMember>();
  /** The ops API as this signed-in member. */
  const as = (name: string): OrchestratorClient => members.get(name)!.api(fleet.config.api.socketPath, fleet.homeDir);

  before(async () => {
    fleet = await createFleetFixture();
    socketServer = await listenUnixSocket(createSocketApp(fleet.orchestrator, createSilentLogger()), fleet.config.api.socketPath);
    api = new OrchestratorClient({ socketPath: fleet.config.api.socketPath, homeDir: fleet.homeDir });
    // Every change on the ops API is made by a signed-in team member (the actor the ops log names).
    for (const name of ['alice@agency', 'bob@agency', 'carol@agency', 'a@agency']) members.set(name, await enrolMember(fleet.orchestrator, name));
  });
  after(async () => {
    await new Promise<void>((resolve) => socketServer.close(() => resolve()));
    await fleet.cleanup([]);
  });

  /** A registered client (no container: the grant is checked before the agent is ever reached). */
  async function registerClient(): Promise<ClientId> {
    const clientId = uniqueClientId('sa');
    const configYaml = `client: ${clientId}\nadmins: [${ADMIN}]\n`;
    const claim = await fleet.orchestrator.registry.claimForProvisioning(
      { id: clientId, provider: 'gmail', admins: [ADMIN], configYaml, onboardingStartedAt: new Date().toISOString() },
      `op-${clientId}`,
      new Date(),
      60_000,
    );
    assert.equal(claim.outcome, 'claimed');
    return clientId;
  }

  async function refused(call: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
    await assert.rejects(call, (error: unknown) => isFleetError(error) && error.code === code && pattern.test(error.message));
  }

  const exportAs = (clientId: string, member: string) =>
    as(member).request<unknown>('GET', `/v1/clients/${clientId}/audit/export?format=jsonl&actor=${encodeURIComponent(member)}`);

  test('without a grant the team cannot export a client’s audit log', async () => {
    const clientId = await registerClient();
    await refused(exportAs(clientId, 'alice@agency'), 'forbidden', /alice@agency has no active support grant/);
  });

  test('a grant is requested per incident, approved only by a client admin, and then used, each step logged', async () => {
    const clientId = await registerClient();
    const requested = await as('alice@agency').request<SupportGrant>('POST', `/v1/clients/${clientId}/support-grants`, {
      incident: 'INC-42',
      reason: 'bounced replies since Monday',
      hours: 2,
      actor: 'alice@agency',
    });
    assert.equal(requested.status, 'pending');
    assert.equal(requested.member, 'alice@agency', 'the grant is for the requester unless another member is named');
    await refused(exportAs(clientId, 'alice@agency'), 'forbidden', /no active support grant/);

    // Ops cannot approve their own access: the API has no approve route any more (issue 12). Only a client
    // admin signed in to the portal approves, through the portal's gateway to this service.
    await refused(
      as('alice@agency').request('POST', `/v1/clients/${clientId}/support-grants/${requested.id}/approve`, { by: ADMIN, actor: 'alice@agency' }),
      'not_found',
      /no such endpoint/,
    );
    const portalApprove = (by: string) =>
      fleet.orchestrator.support.approve({ clientId, grantId: requested.id, by, actor: `client-admin:${by.toLowerCase()}` });
    await refused(portalApprove('alice@agency'), 'forbidden', /not an admin of/);
    const approved = await portalApprove('Boss@Client.example');
    assert.equal(approved.status, 'active');
    assert.equal(approved.approvedBy, ADMIN);
    const lifetime = Date.parse(approved.expiresAt ?? '') - Date.parse(approved.approvedAt ?? '');
    assert.ok(Math.abs(lifetime - 2 * HOUR_MS) < 5000, `expires two hours after approval (${lifetime} ms)`);
    await refused(portalApprove(ADMIN), 'conflict', /is active; only a pending grant/);

    // The grant is alice's: bob is still refused. Alice passes the gate (the agent itself is not running).
    await refused(exportAs(clientId, 'bob@agency'), 'forbidden', /bob@agency has no active support grant/);
    await assert.rejects(exportAs(clientId, 'alice@agency'), (error: unknown) => isFleetError(error) && error.code !== 'forbidden');

    const entries = await fleet.orchestrator.registry.listOpsLog({ clientId });
    const trail = entries.map((entry) => [entry.action, entry.actor]);
    assert.deepEqual(trail, [
      ['support-request', 'alice@agency'],
      ['support-approve', `client-admin:${ADMIN}`],
      ['support-access', 'alice@agency'],
    ]);
    const access = entries.at(-1);
    assert.equal(access?.reason, 'bounced replies since Monday');
    assert.deepEqual(access?.details, { grantId: requested.id, incident: 'INC-42', purpose: 'audit export' });
    assert.ok(Date.parse(access?.at ?? '') > 0, 'logged with its time');
    assert.equal(verifyOpsLog(await fleet.orchestrator.registry.listOpsLog()).valid, true);
  });

  test('a revoked grant stops working at once', async () => {
    const clientId = await registerClient();
    const grant = await as('carol@agency').request<SupportGrant>('POST', `/v1/clients/${clientId}/support-grants`, { incident: 'INC-7', reason: 'sync stalled', actor: 'carol@agency' });
    await fleet.orchestrator.support.approve({ clientId, grantId: grant.id, by: ADMIN, actor: `client-admin:${ADMIN}` });
    const revoked = await as('carol@agency').request<SupportGrant>('POST', `/v1/clients/${clientId}/support-grants/${grant.id}/revoke`, { actor: 'carol@agency' });
    assert.equal(revoked.status, 'revoked');
    await refused(exportAs(clientId, 'carol@agency'), 'forbidden', /no active support grant/);
    const { grants } = await api.request<{ grants: SupportGrant[] }>('GET', `/v1/clients/${clientId}/support-grants`);
    assert.deepEqual(grants.map((g) => [g.id, g.status]), [[grant.id, 'revoked']]);
  });

  test('bad requests are refused with a clear error and log nothing', async () => {
    const clientId = await registerClient();
    await refused(as('a@agency').request('POST', `/v1/clients/${clientId}/support-grants`, { incident: 'INC 1; drop', reason: 'x', actor: 'a@agency' }), 'invalid_input', /incident/);
    await refused(as('a@agency').request('POST', `/v1/clients/${clientId}/support-grants`, { incident: 'INC-1', reason: 'x', hours: 48, actor: 'a@agency' }), 'invalid_input', /hours/);
    await refused(as('a@agency').request('POST', `/v1/clients/${clientId}/support-grants`, { incident: 'INC-1', reason: ' ', actor: 'a@agency' }), 'invalid_input', /reason/);
    const portalApprove = (grantId: string) => fleet.orchestrator.support.approve({ clientId, grantId, by: ADMIN, actor: `client-admin:${ADMIN}` });
    await refused(portalApprove('sg-nope'), 'invalid_input', /grant id/);
    await refused(portalApprove('sg-0123456789abcdef'), 'not_found', /no support grant/);
    await refused(as('a@agency').request('POST', '/v1/clients/no-such-client/support-grants', { incident: 'INC-1', reason: 'x', actor: 'a@agency' }), 'not_found', /no client/);
    // Access is for a member of the team: a name nobody holds is refused before anything is logged.
    await refused(
      as('a@agency').request('POST', `/v1/clients/${clientId}/support-grants`, { member: 'nobody@agency', incident: 'INC-1', reason: 'x', actor: 'a@agency' }),
      'invalid_input',
      /nobody@agency is not a team member/,
    );
    assert.deepEqual(await fleet.orchestrator.registry.listOpsLog({ clientId }), []);
  });
});

describe('grant states folded from the ops log', () => {
  const at = (hours: number) => new Date(Date.UTC(2026, 10, 23, 8) + hours * HOUR_MS).toISOString();
  const entry = (seq: number, hours: number, action: string, details: Record<string, unknown>) => ({
    seq,
    at: at(hours),
    actor: 'alice@agency',
    action,
    clientId: 'acme',
    reason: 'r',
    outcome: 'success',
    details,
    prevHash: '',
    hash: '',
  });
  const request = entry(1, 0, 'support-request', { grantId: 'sg-0000000000000001', member: 'alice@agency', incident: 'INC-1', hours: 2 });
  const approve = entry(2, 1, 'support-approve', { grantId: 'sg-0000000000000001', approvedBy: ADMIN, expiresAt: at(3) });

  test('pending until approved, active until it expires, then expired', () => {
    assert.equal(foldGrants([request], new Date(at(1)))[0]?.status, 'pending');
    assert.equal(foldGrants([request, approve], new Date(at(2)))[0]?.status, 'active');
    assert.equal(foldGrants([request, approve], new Date(at(3)))[0]?.status, 'expired');
  });

  test('an unapproved request lapses after 72 hours, and an approval of an unknown grant changes nothing', () => {
    assert.equal(foldGrants([request], new Date(at(73)))[0]?.status, 'expired');
    const stray = entry(3, 1, 'support-approve', { grantId: 'sg-00000000000000ff', approvedBy: ADMIN, expiresAt: at(9) });
    assert.deepEqual(foldGrants([request, stray], new Date(at(1))).map((g) => [g.id, g.status]), [['sg-0000000000000001', 'pending']]);
  });
});
