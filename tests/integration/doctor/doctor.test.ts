// `fleet doctor` against the live system: a freshly provisioned client lists exactly the checklist items
// a person or a later step still has to close; after the client's consent, a client admin's enrolment, a
// dry-run round against the mail emulator, the human attestations and Prometheus scraping the agent with
// the rules loaded, every item is done; a plaintext file in the volume fails encryption at rest.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gmailScopesFor } from '@agent-fleet/kernel/provider-scopes';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';
import type { OnboardingReport } from '../../../orchestrator/src/domain/onboarding-checklist.ts';
import { AnthropicEmulator } from '../../emulators/anthropic-emulator.ts';
import { GmailEmulator } from '../../emulators/gmail-emulator.ts';
import { docker, uniqueClientId } from '../../helpers/fleet-fixture.ts';
import {
  MONITORING_DOWN,
  MONITORING_UP,
  assertSucceeded,
  freePort,
  killLeftovers,
  monitoringEnv,
  run,
  startWebhookReceiver,
  close,
  waitFor,
} from '../../helpers/monitoring.ts';
import { ADMIN, KNOWN, inboxScript } from '../agent/agent-harness.ts';
import { clientSeries, startDoctorBed, type DoctorBed } from './doctor-bed.ts';

const MAILBOX = 'agent@acme.example';
const PERMISSIONS = { 'mail.read': true, 'mail.draft': true, 'mail.label': true };
const HUMAN_ITEMS = [
  'data-handling-reviewed',
  'dpa',
  'configuration-documented',
  'week1-review-call',
  'client-understands-controls',
];
const CANARY = `canary-${randomUUID()}`;

const statusOf = (report: OnboardingReport) =>
  Object.fromEntries(report.items.map((item) => [item.id, item.status]));
const openItems = (report: OnboardingReport) =>
  report.items.filter((item) => item.status !== 'pass').map((item) => item.id);

describe('fleet doctor on a live client', { timeout: 900_000 }, () => {
  let bed: DoctorBed;
  let clientId: ClientId;
  let gmail: GmailEmulator;
  let gmailPort: number;
  const cleanups: (() => Promise<unknown>)[] = [];

  before(async () => {
    const pool = `10.236.${100 + (process.pid % 100)}.0/28`;
    bed = await startDoctorBed({ pool });
    clientId = uniqueClientId('dr');
    cleanups.push(() => bed.close([clientId]));
    gmailPort = await freePort();
    const anthropicPort = await freePort();
    const config = {
      client: clientId,
      provider: 'gmail',
      mailbox: MAILBOX,
      admins: [ADMIN],
      permissions: PERMISSIONS,
      knownContacts: [KNOWN],
      dryRun: true,
      dailySummary: { enabled: false, at: '18:00' },
      model: 'claude-haiku-4-5',
    };
    const provisioned = await bed.fleet.orchestrator.provision.provision({
      clientId,
      actor: 'test',
      configYaml: JSON.stringify(config),
      agentEnvironment: {
        AGENT_GMAIL_ROOT_URL: `http://${bed.gateway}:${gmailPort}/`,
        AGENT_GMAIL_TOKEN_URL: `http://${bed.gateway}:${gmailPort}/token`,
        AGENT_ANTHROPIC_BASE_URL: `http://${bed.gateway}:${anthropicPort}`,
        AGENT_SYNC_INTERVAL_SECONDS: '5',
      },
    });
    assert.equal(provisioned.outcome, 'provisioned');
    // As at Google: a refresh token is not rotated on use (so the stored grant keeps the scopes recorded with it).
    gmail = new GmailEmulator({ mailbox: MAILBOX, rotateRefreshTokens: false });
    await gmail.start({ host: bed.gateway, port: gmailPort });
    cleanups.push(() => gmail.stop());
    const anthropic = new AnthropicEmulator();
    await anthropic.start({ host: bed.gateway, port: anthropicPort });
    anthropic.useScript(inboxScript);
    cleanups.push(() => anthropic.stop());
    await bed.fleet.orchestrator.secrets.set({
      clientId,
      name: 'anthropic',
      value: anthropic.apiKey,
      actor: 'test',
    });
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  const doctor = async (...args: string[]): Promise<{ code: number; report: OnboardingReport }> => {
    const result = await bed.cli('--json', 'doctor', clientId, ...args);
    assert.ok(
      result.out.startsWith('{'),
      `fleet doctor printed no report (exit ${result.code}): ${result.err}`,
    );
    return { code: result.code, report: JSON.parse(result.out) as OnboardingReport };
  };

  test('a freshly provisioned client lists exactly the open items, and exits non-zero', async () => {
    const { code, report } = await doctor('--marker', CANARY);
    assert.equal(code, EXIT_CODES.conflict);
    assert.deepEqual(
      openItems(report).sort(),
      ['anomaly-alerts', 'client-admin', 'oauth-scopes', 'sandbox-round', ...HUMAN_ITEMS].sort(),
      JSON.stringify(report.items, null, 2),
    );
    const status = statusOf(report);
    for (const done of [
      'isolated-instance',
      'draft-review-send',
      'rate-limits',
      'audit-logging',
      'encryption-at-rest',
    ])
      assert.equal(status[done], 'pass', done);
    assert.equal(status['anomaly-alerts'], 'fail', 'Prometheus is configured but not answering yet');
    assert.equal(report.open.required, 9);
    assert.equal(report.checkedBy, 'alice');

    const shown = await bed.cli('status', clientId);
    assert.match(shown.out, /onboarding: 9 required item\(s\) open at /);
    assert.equal(clientSeries(await bed.scrape(), 'fleet_onboarding_open_items', clientId), 9);
  });

  test('all green after consent, enrolment, a sandbox round, the attestations and live alerting', async () => {
    // Consent: the grant as `fleet connect` stores it, with the scopes Google granted.
    const scopes = gmailScopesFor(PERMISSIONS);
    const grant = {
      client_id: gmail.clientId,
      client_secret: gmail.clientSecret,
      refresh_token: gmail.issueRefreshToken(scopes),
      scope: scopes.join(' '),
    };
    await bed.fleet.orchestrator.secrets.set({
      clientId,
      name: 'gmail',
      value: JSON.stringify(grant),
      actor: 'test',
    });
    // A client admin's portal enrolment: the confirmed credential the portal's enrolment leaves in its store.
    await bed.portalStore.credentials.addCredential({
      id: randomUUID(),
      clientId,
      email: ADMIN,
      kind: 'totp',
      lookupHash: null,
      sealed: 'ps1.sealed-by-the-portal',
      confirmed: true,
      enrolmentHash: 'e'.repeat(64),
      createdAt: new Date(),
    });

    // The sandbox round: one message through the whole loop in dry run, against the emulator (seeded once the
    // agent watches the mailbox: its first sync starts from the mailbox's state then).
    await waitFor('the agent to watch the mailbox', 90_000, async () =>
      gmail.requests.some((request) => request.path.endsWith('/history') && request.status === 200)
        ? true
        : undefined,
    );
    await gmail.seedInbound({
      from: KNOWN,
      to: [MAILBOX],
      subject: 'Invoice 7',
      text: 'Hi, we received the invoice. Thanks!',
    });
    const { orchestrator } = bed.fleet;
    let last: unknown = null;
    await waitFor('the agent to finish the message in dry run', 120_000, async () => {
      const { address, token } = await orchestrator.agents.reach(clientId);
      const status = await orchestrator.control.request<{ messages: Record<string, number> }>(
        clientId,
        address,
        token,
        'GET',
        '/v1/status',
      );
      last = status;
      return (status.messages['done'] ?? 0) >= 1 ? true : undefined;
    }).catch(async (error: unknown) => {
      const logs = (
        await docker.getContainer(`fleet-${clientId}`).logs({ stdout: true, stderr: true, tail: 40 })
      ).toString();
      throw new Error(`${(error as Error).message}\nstatus: ${JSON.stringify(last)}\nagent log:\n${logs}`);
    });
    const sandbox = await doctor('--sandbox', '--emulator', `http://${bed.gateway}:${gmailPort}`);
    assert.equal(
      statusOf(sandbox.report)['sandbox-round'],
      'pass',
      JSON.stringify(sandbox.report.items.find((item) => item.id === 'sandbox-round')),
    );
    assert.equal(gmail.sent.length, 0, 'nothing was sent in the sandbox round');

    for (const item of HUMAN_ITEMS) {
      const attested = await bed.cli(
        'doctor',
        clientId,
        '--attest',
        item,
        '--note',
        `${item}: done in the onboarding meeting`,
      );
      assert.notEqual(attested.code, EXIT_CODES.unauthorized, attested.err);
    }

    const webhook = await startWebhookReceiver();
    cleanups.push(() => close(webhook.server));
    const upEnv = monitoringEnv(
      { ...process.env, AGENT_FLEET_HOME: bed.fleet.homeDir },
      {
        prometheus: bed.prometheusPort,
        alertmanager: await freePort(),
        orchestrator: bed.orchestratorPort,
        webhook: webhook.port,
      },
    );
    cleanups.push(async () => {
      await run('bash', [MONITORING_DOWN], { env: upEnv, timeoutMs: 30_000 });
      await killLeftovers(path.join(bed.fleet.homeDir, 'monitoring'));
    });
    assertSucceeded(
      await run('bash', [MONITORING_UP], { env: upEnv, timeoutMs: 90_000 }),
      'monitoring-up.sh',
    );

    let latest: OnboardingReport | null = null;
    const green = await waitFor('every item to be done', 120_000, async () => {
      const result = await doctor('--marker', CANARY);
      latest = result.report;
      return result.code === 0 ? result : undefined;
    }).catch((error: unknown) => {
      const open = (latest?.items ?? []).filter((item) => item.status !== 'pass');
      throw new Error(`${(error as Error).message}: still open ${JSON.stringify(open)}`);
    });
    assert.deepEqual(openItems(green.report), [], JSON.stringify(green.report.items, null, 2));
    assert.equal(green.report.open.required, 0);
    const attestation = green.report.items.find((item) => item.id === 'dpa');
    assert.match(
      attestation?.evidence[0] ?? '',
      /^attested by alice at .*: dpa: done in the onboarding meeting$/,
    );
    const attestations = (await orchestrator.registry.listOpsLog({ clientId })).filter(
      (entry) => entry.action === 'onboarding-attest',
    );
    assert.deepEqual(
      attestations.map((entry) => [entry.actor, entry.details['item']]),
      HUMAN_ITEMS.map((item) => ['alice', item]),
    );
    assert.equal(clientSeries(await bed.scrape(), 'fleet_onboarding_open_items', clientId), 0);
    const shown = (await bed.cli('status', clientId)).out;
    assert.match(shown, /onboarding: checklist complete at /);
    // What the running agent says of itself, the facts the runbooks send on-call to.
    assert.match(shown, /^agent report: ready, dry run$/m);
    assert.match(shown, /^ {2}sending paused: no$/m);
    assert.match(shown, /^ {2}mailbox: +gmail, last sync \d{4}-\d{2}-\d{2}T/m);
  });

  test('a plaintext file in the client’s volume fails encryption at rest, naming the file', async () => {
    await bed.fleet.orchestrator.runtime.placeFiles(clientId, { 'leak.txt': `notes for ${CANARY}\n` }, bed.fleet.config.agent.user);
    const { code, report } = await doctor('--marker', CANARY);
    assert.equal(code, EXIT_CODES.conflict);
    const item = report.items.find((entry) => entry.id === 'encryption-at-rest');
    assert.equal(item?.status, 'fail');
    assert.equal(item?.evidence[0], 'plaintext a given marker in leak.txt');
    assert.deepEqual(openItems(report), ['encryption-at-rest']);
  });
});
