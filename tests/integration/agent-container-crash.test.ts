// Exactly-once sends in the real container: the agent, auto-sending replies to a burst of routine mail
// from a known contact, is killed with SIGKILL mid-burst; after the reconciler restarts it (with a fresh
// secret introduction), every reply has been sent exactly once and the audit chain is intact.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { gmailScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { gatewayOf, parseIpv4Cidr } from '../../orchestrator/src/domain/ipv4-cidr.ts';
import { AnthropicEmulator } from '../emulators/anthropic-emulator.ts';
import { GmailEmulator } from '../emulators/gmail-emulator.ts';
import { KNOWN, inboxScript, withProviderVerdict } from './agent/agent-harness.ts';
import { createFleetFixture, docker, uniqueClientId } from '../helpers/fleet-fixture.ts';
import { freePort, waitFor } from '../helpers/monitoring.ts';

const BURST = 24;

describe('exactly-once sends across a SIGKILL of the agent container', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  it('kill -9 during a burst of sends loses and duplicates nothing', { timeout: 300_000 }, async () => {
    const pool = `10.216.${100 + (process.pid % 100)}.0/28`;
    const gateway = gatewayOf(parseIpv4Cidr(pool));
    const fleet = await createFleetFixture({ FLEET_SUBNET_POOL: pool, FLEET_SUBNET_PREFIX: '28' });
    const clientId = uniqueClientId('x');
    cleanups.push(() => fleet.cleanup([clientId]));

    const [gmailPort, anthropicPort] = [await freePort(), await freePort()];
    const permissions = { 'mail.read': true, 'mail.draft': true, 'mail.send': true, 'mail.label': true };
    const config = {
      client: clientId,
      provider: 'gmail',
      mailbox: 'agent@acme.example',
      admins: ['boss@acme.example'],
      permissions,
      onboarding: { startedAt: new Date(Date.now() - 60 * 86_400_000).toISOString(), days: 28 },
      knownContacts: [KNOWN],
      rateLimits: { perHour: 500, perDay: 1000 },
      dailySummary: { enabled: false, at: '18:00' },
    };
    const provisioned = await fleet.orchestrator.provision.provision({
      clientId,
      actor: 'test',
      configYaml: JSON.stringify(config),
      agentEnvironment: {
        AGENT_GMAIL_ROOT_URL: `http://${gateway}:${gmailPort}/`,
        AGENT_GMAIL_TOKEN_URL: `http://${gateway}:${gmailPort}/token`,
        AGENT_ANTHROPIC_BASE_URL: `http://${gateway}:${anthropicPort}`,
        AGENT_SYNC_INTERVAL_SECONDS: '5',
      },
    });
    assert.equal(provisioned.outcome, 'provisioned');

    const gmail = new GmailEmulator({ mailbox: 'agent@acme.example' });
    await gmail.start({ host: gateway, port: gmailPort });
    cleanups.push(() => gmail.stop());
    const anthropic = new AnthropicEmulator({ latencyMs: 150 });
    await anthropic.start({ host: gateway, port: anthropicPort });
    anthropic.useScript(inboxScript);
    cleanups.push(() => anthropic.stop());

    await fleet.orchestrator.secrets.set({
      clientId,
      name: 'gmail',
      value: JSON.stringify({ client_id: gmail.clientId, client_secret: gmail.clientSecret, refresh_token: gmail.issueRefreshToken(gmailScopesFor(permissions)) }),
      actor: 'test',
    });
    await fleet.orchestrator.secrets.set({ clientId, name: 'anthropic', value: anthropic.apiKey, actor: 'test' });

    // A fresh introduction (after a restart) makes the agent read its secrets and start on the inbox.
    const container = docker.getContainer(`fleet-${clientId}`);
    await container.kill({ signal: 'SIGKILL' });
    await fleet.orchestrator.reconcile.reconcile();

    // The agent's cursor starts at "now": the burst arrives once it watches the mailbox.
    await waitFor('the agent to watch the mailbox', 60_000, async () =>
      gmail.requests.some((request) => request.path.endsWith('/history') && request.status === 200) ? true : undefined,
    );
    const seeded: string[] = [];
    for (let index = 0; index < BURST; index++) {
      const message = await gmail.seedInbound({
        from: KNOWN,
        to: ['agent@acme.example'],
        subject: `Invoice ${index}`,
        text: 'Hi, we received the invoice. Thanks!',
        headers: withProviderVerdict('gmail', { from: KNOWN }),
      });
      seeded.push(message.messageId);
    }

    // Mid-burst: some replies are out, others are still in flight.
    const sentBeforeKill = await waitFor('the first auto-sent replies', 120_000, async () =>
      gmail.sent.length >= 3 ? gmail.sent.length : undefined,
    ).catch(async (error: unknown) => {
      const logs = (await container.logs({ stdout: true, stderr: true, tail: 40 })).toString();
      const requests = gmail.requests.map((r) => `${r.method} ${r.path} ${r.status}`).slice(-15).join('\n');
      throw new Error(`${(error as Error).message}\nagent log:\n${logs}\ngmail requests:\n${requests}\nmodel calls: ${anthropic.received.length}`);
    });
    await container.kill({ signal: 'SIGKILL' });
    const sentAtKill = gmail.sent.length;
    assert.ok(sentAtKill < BURST, `the kill landed mid-burst (${sentAtKill}/${BURST} sent; ${sentBeforeKill} when seen)`);

    const report = await fleet.orchestrator.reconcile.reconcile();
    assert.ok(report.actions.some((action) => action.clientId === clientId && action.kind === 'restarted'), JSON.stringify(report));
    await waitFor('every reply to be sent', 180_000, async () => (gmail.sent.length >= BURST ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 6_000)); // one more sync: nothing further may go out

    const keys = gmail.sent.map((record) => record.headers.get('x-agent-fleet-idempotency-key') ?? '');
    assert.equal(gmail.sent.length, BURST, 'no reply lost, none duplicated');
    assert.equal(new Set(keys).size, BURST, 'every send carries its own idempotency key');
    const answered = gmail.sent.map((record) => String(record.headers.get('in-reply-to') ?? ''));
    assert.deepEqual(new Set(answered), new Set(seeded), 'each seeded message answered exactly once');

    const { verification } = await fleet.orchestrator.agents.verifyAudit(clientId);
    assert.equal((verification as { ok: boolean }).ok, true, JSON.stringify(verification));
  });
});
