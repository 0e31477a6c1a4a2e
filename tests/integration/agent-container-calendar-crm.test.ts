// Calendar events and CRM notes by the agent in its REAL container, provisioned through the orchestrator,
// for Gmail and for Outlook; the mailbox (with its calendar), the model and Bullhorn are emulators on the
// client network's gateway. Shown: one Bullhorn note per sent email, exactly once across a SIGKILL mid-batch;
// a scheduling confirmation and its event are one approval (one event when approved, none when rejected or
// killed); a revoked Bullhorn grant pauses CRM work, alerts the admins and leaves email running; the kill
// switch stops calendar and CRM access as it stops mail.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { gmailScopesFor, graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import type { AuditRecord } from '../../agent-image/src/domain/audit-record.ts';
import { gatewayOf, parseIpv4Cidr } from '../../orchestrator/src/domain/ipv4-cidr.ts';
import { AnthropicEmulator } from '../emulators/anthropic-emulator.ts';
import { BullhornEmulator } from '../emulators/bullhorn-emulator.ts';
import { GmailEmulator } from '../emulators/gmail-emulator.ts';
import { GraphEmulator } from '../emulators/graph-emulator.ts';
import { ADMIN, KNOWN, withProviderVerdict, type ProviderKind } from './agent/agent-harness.ts';
import { CALENDAR_CRM_PERMISSIONS as PERMISSIONS, calendarCrmScript } from './agent/calendar-crm-script.ts';
import { createFleetFixture, docker, uniqueClientId, type FleetFixture } from '../helpers/fleet-fixture.ts';
import { freePort, waitFor } from '../helpers/monitoring.ts';

const MAILBOX = 'agent@acme.example';
const NEWCOMER = 'dana@newco.example';
/** Once the agent wrote to Dana she is a known contact (and her confirmations may go out on their own). */
const OTHER_NEWCOMER = 'lee@newco.example';
const ZONE = 'Europe/Berlin';
const BURST = 12;
const SUBNETS: Record<ProviderKind, number> = { gmail: 221, outlook: 222 };

/** The mailbox emulator (with the owner's calendar) on the gateway, seen the same way for both providers. */
interface GatewayMailbox {
  seed(from: string, subject: string, text: string): Promise<void>;
  watching(): boolean;
  sent(): { to: string[]; subject: string }[];
  events(): { start: Date; end: Date; timeZone: string | null; attendees: string[] }[];
  requests(): number;
  secret(): string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

async function gatewayMailbox(kind: ProviderKind, host: string, port: number): Promise<GatewayMailbox> {
  if (kind === 'gmail') {
    const gmail = new GmailEmulator({ mailbox: MAILBOX });
    await gmail.start({ host, port });
    return {
      seed: async (from, subject, text) => void (await gmail.seedInbound({ from, to: [MAILBOX], subject, text, headers: withProviderVerdict('gmail', { from }) })),
      watching: () => gmail.requests.some((request) => request.path.endsWith('/history') && request.status === 200),
      sent: () => gmail.sent.map((r) => ({ to: [r.parsed.to ?? []].flat().flatMap((to) => to.value.map((a) => a.address ?? '')), subject: r.parsed.subject ?? '' })),
      events: () => gmail.calendar.events().map((e) => ({ start: e.start, end: e.end, timeZone: e.timeZone, attendees: e.attendees })),
      requests: () => gmail.requests.length,
      secret: () => JSON.stringify({ client_id: gmail.clientId, client_secret: gmail.clientSecret, refresh_token: gmail.issueRefreshToken(gmailScopesFor(PERMISSIONS)) }),
      env: { AGENT_GMAIL_ROOT_URL: `http://${host}:${port}/`, AGENT_GMAIL_TOKEN_URL: `http://${host}:${port}/token` },
      stop: () => gmail.stop(),
    };
  }
  const graph = new GraphEmulator({ mailbox: MAILBOX });
  await graph.start({ host, port });
  return {
    seed: async (from, subject, text) => void graph.seedInbound({ from, to: [MAILBOX], subject, text, headers: withProviderVerdict('outlook', { from }) }),
    watching: () => graph.requests.some((request) => request.path.includes('/delta') && request.status === 200),
    sent: () => graph.sent.map((r) => ({ to: r.to, subject: r.subject })),
    events: () => graph.calendar.events().map((e) => ({ start: e.start, end: e.end, timeZone: e.timeZone, attendees: e.attendees.map((a) => a.address) })),
    requests: () => graph.requests.length,
    secret: () => JSON.stringify({ client_id: graph.clientId, client_secret: graph.clientSecret, refresh_token: graph.issueRefreshToken(graphScopesFor(PERMISSIONS)) }),
    env: { AGENT_GRAPH_BASE_URL: `http://${host}:${port}`, AGENT_GRAPH_TOKEN_URL: `http://${host}:${port}/acme-tenant/oauth2/v2.0/token` },
    stop: () => graph.stop(),
  };
}

async function exportAudit(fleet: FleetFixture, clientId: string): Promise<AuditRecord[]> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  await fleet.orchestrator.agents.exportAudit(clientId, { format: 'jsonl' }, sink);
  return Buffer.concat(chunks).toString('utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as AuditRecord);
}

interface Approval {
  id: string;
  recipients: string[];
  subject: string;
  bodyPreview: string;
  event: { start: string; end: string | null; timeZone: string; attendees: string[] } | null;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 11_000)); // two more syncs: nothing further may happen

for (const kind of ['gmail', 'outlook'] as ProviderKind[]) {
  describe(`calendar and CRM work in the real agent container on ${kind}`, () => {
    const cleanups: Array<() => Promise<unknown>> = [];
    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    });

    it('notes exactly once across a SIGKILL, one event per approved confirmation, a CRM pause, and the kill switch', { timeout: 600_000 }, async () => {
      const pool = `10.${SUBNETS[kind]}.${100 + (process.pid % 100)}.0/28`;
      const gateway = gatewayOf(parseIpv4Cidr(pool));
      const fleet = await createFleetFixture({ FLEET_SUBNET_POOL: pool, FLEET_SUBNET_PREFIX: '28' });
      const clientId = uniqueClientId(kind === 'gmail' ? 'gc' : 'oc');
      cleanups.push(() => fleet.cleanup([clientId]));
      const [mailboxPort, anthropicPort, bullhornPort] = [await freePort(), await freePort(), await freePort()];
      const endpoints: Record<string, string> =
        kind === 'gmail'
          ? { AGENT_GMAIL_ROOT_URL: `http://${gateway}:${mailboxPort}/`, AGENT_GMAIL_TOKEN_URL: `http://${gateway}:${mailboxPort}/token` }
          : { AGENT_GRAPH_BASE_URL: `http://${gateway}:${mailboxPort}`, AGENT_GRAPH_TOKEN_URL: `http://${gateway}:${mailboxPort}/acme-tenant/oauth2/v2.0/token` };
      const config = {
        client: clientId,
        provider: kind,
        mailbox: MAILBOX,
        admins: [ADMIN],
        permissions: PERMISSIONS,
        timezone: ZONE,
        onboarding: { startedAt: new Date(Date.now() - 60 * 86_400_000).toISOString(), days: 28 },
        knownContacts: [KNOWN],
        rateLimits: { perHour: 500, perDay: 1000 },
        dailySummary: { enabled: false, at: '18:00' },
        model: 'claude-haiku-4-5',
      };
      const provisioned = await fleet.orchestrator.provision.provision({
        clientId,
        actor: 'test',
        configYaml: JSON.stringify(config),
        agentEnvironment: {
          ...endpoints,
          AGENT_ANTHROPIC_BASE_URL: `http://${gateway}:${anthropicPort}`,
          AGENT_BULLHORN_AUTH_URL: `http://${gateway}:${bullhornPort}`,
          AGENT_BULLHORN_LOGIN_URL: `http://${gateway}:${bullhornPort}/rest-services/login`,
          AGENT_SYNC_INTERVAL_SECONDS: '5',
        },
      });
      assert.equal(provisioned.outcome, 'provisioned');

      const mailbox = await gatewayMailbox(kind, gateway, mailboxPort);
      cleanups.push(() => mailbox.stop());
      assert.deepEqual(mailbox.env, endpoints);
      const anthropic = new AnthropicEmulator({ latencyMs: 150 });
      await anthropic.start({ host: gateway, port: anthropicPort });
      anthropic.useScript(calendarCrmScript);
      cleanups.push(() => anthropic.stop());
      const bullhorn = new BullhornEmulator();
      await bullhorn.start({ host: gateway, port: bullhornPort });
      cleanups.push(() => bullhorn.stop());
      const contact = bullhorn.addClientContact({ firstName: 'Kim', lastName: 'Berger', email: KNOWN, occupation: 'Head of Talent', company: 'Partner GmbH' });
      const bullhornSecret = () => JSON.stringify({ client_id: bullhorn.oauth.clientId, client_secret: bullhorn.oauth.clientSecret, refresh_token: bullhorn.issueRefreshToken() });

      for (const [name, value] of [[kind, mailbox.secret()], ['anthropic', anthropic.apiKey], ['bullhorn', bullhornSecret()]] as const) {
        await fleet.orchestrator.secrets.set({ clientId, name, value, actor: 'test' });
      }
      const container = docker.getContainer(`fleet-${clientId}`);
      const diagnose = async (error: unknown): Promise<never> => {
        const logs = (await container.logs({ stdout: true, stderr: true, tail: 40 })).toString();
        throw new Error(`${(error as Error).message}\nagent log:\n${logs}\nbullhorn: ${bullhorn.requests.slice(-10).map((r) => `${r.method} ${r.path} ${r.status}`).join('\n')}`);
      };
      await waitFor('the agent to watch the mailbox', 90_000, async () => (mailbox.watching() ? true : undefined)).catch(diagnose);
      const notes = () => bullhorn.notes().filter((note) => (note['personReference'] as { id: number }).id === contact);
      const invoices = () => mailbox.sent().filter((mail) => /Invoice/.test(mail.subject));

      // A burst of acknowledgements to a contact the CRM knows; SIGKILL mid-batch, the reconciler restarts it.
      for (let index = 0; index < BURST; index++) await mailbox.seed(KNOWN, `Invoice ${index}`, `We received the invoice ${index}. Thanks!`);
      await waitFor('the first replies and notes', 120_000, async () => (invoices().length >= 3 && notes().length >= 1 ? true : undefined)).catch(diagnose);
      await container.kill({ signal: 'SIGKILL' });
      assert.ok(invoices().length < BURST, `the kill landed mid-batch (${invoices().length}/${BURST} sent)`);
      await fleet.orchestrator.reconcile.reconcile();
      await waitFor('every reply and its note', 180_000, async () => (invoices().length >= BURST && notes().length >= BURST ? true : undefined)).catch(diagnose);
      await settle();
      assert.equal(invoices().length, BURST, 'no reply lost or duplicated');
      assert.equal(notes().length, BURST, 'one note per sent email, none twice');
      assert.equal(new Set(notes().map((note) => note['externalID'])).size, BURST);
      assert.ok(notes().every((note) => /^Email sent .+: Re: Invoice \d+/.test(String(note['comments'])) && !/We received/.test(String(note['comments']))));

      // Two scheduling confirmations to a new contact: each is ONE approval showing the email and its event.
      await mailbox.seed(NEWCOMER, 'Interview', 'Can we meet on Tuesday at 10?');
      await mailbox.seed(NEWCOMER, 'Second interview', 'Can we meet on Thursday at 3?');
      const pending = async () => ((await fleet.orchestrator.agents.listApprovals(clientId, 'pending')) as { approvals: Approval[] }).approvals;
      const approvals = await waitFor('both confirmations held', 90_000, async () => {
        const list = (await pending()).filter((entry) => entry.recipients.includes(NEWCOMER));
        return list.length >= 2 ? list : undefined;
      }).catch(diagnose);
      for (const approval of approvals) {
        assert.match(approval.bodyPreview, /I confirm/);
        assert.equal(approval.event?.timeZone, ZONE);
        assert.deepEqual([...(approval.event?.attendees ?? [])].sort(), [NEWCOMER, MAILBOX].sort());
      }
      const approved = approvals.find((entry) => /Re: Interview/.test(entry.subject)) as Approval;
      const rejected = approvals.find((entry) => /Second interview/.test(entry.subject)) as Approval;
      assert.equal(mailbox.events().length, 0, 'no event before the approval');
      await fleet.orchestrator.agents.decide(clientId, rejected.id, { decision: 'reject', by: 'boss', reason: 'not now' }, 'test');
      await fleet.orchestrator.agents.decide(clientId, approved.id, { decision: 'approve', by: 'boss' }, 'test');
      await waitFor('the approved event', 30_000, async () => (mailbox.events().length >= 1 ? true : undefined)).catch(diagnose);
      await settle();
      const events = mailbox.events();
      assert.equal(events.length, 1, 'exactly one event: the approved one');
      assert.equal(events[0]?.start.getTime(), Date.parse(approved.event?.start ?? ''));
      assert.equal(events[0]?.timeZone, ZONE);
      assert.deepEqual([...(events[0]?.attendees ?? [])].sort(), [NEWCOMER, MAILBOX].sort());
      assert.deepEqual(mailbox.sent().filter((mail) => mail.to.includes(NEWCOMER)).map((mail) => mail.subject.replace(/\s+/g, ' ')), ['Re: Interview']);

      // The Bullhorn admin revokes the integration: CRM work pauses, the admins hear of it, email goes on.
      bullhorn.revokeConsent();
      bullhorn.expireSessions();
      await mailbox.seed(KNOWN, 'Invoice after revocation', 'We received the invoice 99. Thanks!');
      await waitFor('the reply and the admins’ alert', 60_000, async () =>
        mailbox.sent().some((mail) => /Invoice after revocation/.test(mail.subject)) && mailbox.sent().some((mail) => mail.to.includes(ADMIN) && /lost access to the CRM/.test(mail.subject)) ? true : undefined,
      ).catch(diagnose);
      const records = await exportAudit(fleet, clientId);
      assert.equal(records.filter((r) => r.action_type === 'pause' && r.target === 'crm').length, 1);
      assert.equal(records.filter((r) => r.action_type === 'pause' && r.target !== 'crm').length, 0, 'mail work is not paused');
      assert.equal(records.filter((r) => r.action_type === 'crm_write' && r.result === 'success' && r.parameters['operation'] === 'append_note').length, BURST);

      // The kill switch with a confirmation pending: tokens revoked, the agent stopped; nothing reaches the calendar or the CRM.
      await mailbox.seed(OTHER_NEWCOMER, 'Third interview', 'Can we meet on Friday at 9?');
      const third = await waitFor('the third confirmation held', 60_000, async () => (await pending()).find((entry) => entry.subject.includes('Third interview'))).catch(diagnose);
      const killed = await fleet.orchestrator.kill.kill({ clientId, reason: 'test kill', actor: 'test' });
      assert.ok(killed.revokedTokens >= 1 && killed.containerStopped, JSON.stringify(killed));
      const [mailCalls, crmCalls] = [mailbox.requests(), bullhorn.requests.length];
      await assert.rejects(fleet.orchestrator.agents.decide(clientId, third.id, { decision: 'approve', by: 'boss' }, 'test'));
      await mailbox.seed(KNOWN, 'Invoice after the kill', 'We received the invoice 100. Thanks!');
      await settle();
      assert.equal(mailbox.events().length, 1, 'no event after the kill');
      assert.equal(mailbox.requests(), mailCalls, 'no mailbox or calendar call after the kill');
      assert.equal(bullhorn.requests.length, crmCalls, 'no CRM call after the kill');
      assert.ok(!mailbox.sent().some((mail) => /Third interview|Invoice after the kill/.test(mail.subject)));
    });
  });
}
