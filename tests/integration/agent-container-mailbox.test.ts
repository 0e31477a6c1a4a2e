// The seeded inbox against the agent in its REAL container, provisioned through the orchestrator, for Gmail
// and for Outlook: the emulators listen on the client network's gateway, and every assertion is read from
// the mailbox emulator or through the orchestrator (approvals, audit export and verification).
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { gmailScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import type { AuditRecord } from '../../agent-image/src/domain/audit-record.ts';
import { gatewayOf, parseIpv4Cidr } from '../../orchestrator/src/domain/ipv4-cidr.ts';
import { AnthropicEmulator } from '../emulators/anthropic-emulator.ts';
import { GmailEmulator } from '../emulators/gmail-emulator.ts';
import { GraphEmulator } from '../emulators/graph-emulator.ts';
import { ADMIN, KNOWN, SEEDED_TYPES, inboxScript, seedInbox, withProviderVerdict, type ProviderKind, type SeedMail } from './agent/agent-harness.ts';
import { createFleetFixture, docker, uniqueClientId, type FleetFixture } from '../helpers/fleet-fixture.ts';
import { freePort, waitFor } from '../helpers/monitoring.ts';

const MAILBOX = 'agent@acme.example';
const PERMISSIONS = { 'mail.read': true, 'mail.draft': true, 'mail.send': true, 'mail.label': true };

/** One mailbox emulator on the gateway, seen the same way for both providers. */
interface GatewayMailbox {
  seed: SeedMail;
  /** True once the agent has taken its first sync position. */
  watching(): boolean;
  sentTo(): string[][];
  sentSubjects(): string[];
  labelsOf(id: string): string[];
  /** The next `count` API requests are refused with 429 and Retry-After. */
  throttle(count: number, retryAfterSeconds: number): void;
  secret(): string;
  env: Record<string, string>;
  stop(): Promise<void>;
  requestLog(): string;
}

/** The mailbox emulator on a port chosen before provisioning (the agent's endpoints are set then). */
async function gatewayMailbox(kind: ProviderKind, host: string, port: number): Promise<GatewayMailbox> {
  if (kind === 'gmail') {
    const gmail = new GmailEmulator({ mailbox: MAILBOX });
    await gmail.start({ host, port });
    return {
      seed: async (seed) => (await gmail.seedInbound({ ...seed, to: [MAILBOX], headers: withProviderVerdict('gmail', seed) })).id,
      watching: () => gmail.requests.some((request) => request.path.endsWith('/history') && request.status === 200),
      sentTo: () => gmail.sent.map((record) => [record.parsed.to ?? []].flat().flatMap((to) => to.value.map((address) => address.address ?? ''))),
      sentSubjects: () => gmail.sent.map((record) => record.parsed.subject ?? ''),
      labelsOf: (id) => gmail.labelNamesOf(id).filter((name) => name !== name.toUpperCase()),
      throttle: (count, retryAfterSeconds) => gmail.throttle(count, retryAfterSeconds),
      secret: () => JSON.stringify({ client_id: gmail.clientId, client_secret: gmail.clientSecret, refresh_token: gmail.issueRefreshToken(gmailScopesFor(PERMISSIONS)) }),
      env: { AGENT_GMAIL_ROOT_URL: `http://${host}:${port}/`, AGENT_GMAIL_TOKEN_URL: `http://${host}:${port}/token` },
      stop: () => gmail.stop(),
      requestLog: () => gmail.requests.map((r) => `${r.method} ${r.path} ${r.status}`).slice(-20).join('\n'),
    };
  }
  const graph = new GraphEmulator({ mailbox: MAILBOX });
  await graph.start({ host, port });
  return {
    seed: async (seed) => graph.seedInbound({ ...seed, to: [MAILBOX], headers: withProviderVerdict('outlook', seed) }).id,
    watching: () => graph.requests.some((request) => request.path.includes('/delta') && request.status === 200),
    sentTo: () => graph.sent.map((record) => record.to),
    sentSubjects: () => graph.sent.map((record) => record.subject),
    labelsOf: (id) => [...(graph.message(id)?.categories ?? [])],
    throttle: (count, retryAfterSeconds) => graph.throttle(count, retryAfterSeconds),
    secret: () => JSON.stringify({ client_id: graph.clientId, client_secret: graph.clientSecret, refresh_token: graph.issueRefreshToken(graphScopesFor(PERMISSIONS)) }),
    env: { AGENT_GRAPH_BASE_URL: graph.baseUrl, AGENT_GRAPH_TOKEN_URL: graph.tokenUrl },
    stop: () => graph.stop(),
    requestLog: () => graph.requests.map((r) => `${r.method} ${r.path} ${r.status}`).slice(-20).join('\n'),
  };
}

async function exportAudit(fleet: FleetFixture, clientId: string): Promise<AuditRecord[]> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  await fleet.orchestrator.agents.exportAudit(clientId, { format: 'jsonl' }, sink);
  return Buffer.concat(chunks)
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as AuditRecord);
}

const count = (records: AuditRecord[], type: string, result?: string) =>
  records.filter((record) => record.action_type === type && (result === undefined || record.result === result)).length;

interface Approval {
  recipients: string[];
  reasons: string[];
  emailType: string;
}

const SUBNETS: Record<ProviderKind, number> = { gmail: 219, outlook: 220 };

for (const kind of ['gmail', 'outlook'] as ProviderKind[]) {
  describe(`the seeded inbox in the real agent container on ${kind}`, () => {
    const cleanups: Array<() => Promise<unknown>> = [];
    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    });

    it('produces exactly the expected drafts, sends, approvals, labels and audit records', { timeout: 300_000 }, async () => {
      const pool = `10.${SUBNETS[kind]}.${100 + (process.pid % 100)}.0/28`;
      const gateway = gatewayOf(parseIpv4Cidr(pool));
      const fleet = await createFleetFixture({ FLEET_SUBNET_POOL: pool, FLEET_SUBNET_PREFIX: '28' });
      const clientId = uniqueClientId(kind === 'gmail' ? 'g' : 'o');
      cleanups.push(() => fleet.cleanup([clientId]));

      const anthropicPort = await freePort();
      const mailboxPort = await freePort();
      const config = {
        client: clientId,
        provider: kind,
        mailbox: MAILBOX,
        admins: [ADMIN],
        permissions: PERMISSIONS,
        onboarding: { startedAt: new Date(Date.now() - 60 * 86_400_000).toISOString(), days: 28 },
        knownContacts: [KNOWN],
        dailySummary: { enabled: false, at: '18:00' },
        model: 'claude-haiku-4-5',
      };
      // The provider's endpoints are known before it starts: the network (and so its gateway) exists only
      // once the client is provisioned.
      const endpoints: Record<string, string> =
        kind === 'gmail'
          ? { AGENT_GMAIL_ROOT_URL: `http://${gateway}:${mailboxPort}/`, AGENT_GMAIL_TOKEN_URL: `http://${gateway}:${mailboxPort}/token` }
          : { AGENT_GRAPH_BASE_URL: `http://${gateway}:${mailboxPort}`, AGENT_GRAPH_TOKEN_URL: `http://${gateway}:${mailboxPort}/acme-tenant/oauth2/v2.0/token` };
      const provisioned = await fleet.orchestrator.provision.provision({
        clientId,
        actor: 'test',
        configYaml: JSON.stringify(config),
        agentEnvironment: { ...endpoints, AGENT_ANTHROPIC_BASE_URL: `http://${gateway}:${anthropicPort}`, AGENT_SYNC_INTERVAL_SECONDS: '5' },
      });
      assert.equal(provisioned.outcome, 'provisioned');

      const mailbox = await gatewayMailbox(kind, gateway, mailboxPort);
      cleanups.push(() => mailbox.stop());
      assert.deepEqual(mailbox.env, endpoints);
      const anthropic = new AnthropicEmulator();
      await anthropic.start({ host: gateway, port: anthropicPort });
      anthropic.useScript(inboxScript);
      cleanups.push(() => anthropic.stop());

      await fleet.orchestrator.secrets.set({ clientId, name: kind, value: mailbox.secret(), actor: 'test' });
      await fleet.orchestrator.secrets.set({ clientId, name: 'anthropic', value: anthropic.apiKey, actor: 'test' });
      // No restart: the idle agent reads the secrets it now has at its next round (every 5 s here).
      const container = docker.getContainer(`fleet-${clientId}`);

      const diagnose = async (error: unknown): Promise<never> => {
        const logs = (await container.logs({ stdout: true, stderr: true, tail: 40 })).toString();
        throw new Error(`${(error as Error).message}\nagent log:\n${logs}\nmailbox requests:\n${mailbox.requestLog()}\nmodel calls: ${anthropic.received.length}`);
      };
      await waitFor('the agent to watch the mailbox', 90_000, async () => (mailbox.watching() ? true : undefined)).catch(diagnose);
      const ids = await seedInbox(mailbox.seed);

      // Finished: every message read, the four holds requested and the one auto-send through.
      const records = await waitFor('the seeded inbox to be processed', 120_000, async () => {
        const current = await exportAudit(fleet, clientId);
        return count(current, 'approval_requested') >= 4 && count(current, 'email_send', 'success') >= 1 && count(current, 'email_label', 'success') >= 5
          ? current
          : undefined;
      }).catch(diagnose);
      await new Promise((resolve) => setTimeout(resolve, 6_000)); // one more sync: nothing further may happen
      const final = await exportAudit(fleet, clientId);
      assert.equal(final.length, records.length, 'nothing happened after the inbox was processed');

      assert.equal(count(final, 'email_read', 'success'), 6);
      assert.equal(final.find((record) => record.action_type === 'email_read' && record.target === ids.list)?.parameters['no_reply'], 'mailing_list');
      assert.equal(count(final, 'llm_call', 'success'), 10, 'classify and draft for the five answerable messages');
      assert.equal(count(final, 'email_draft', 'success'), 5);
      assert.equal(count(final, 'email_send', 'success'), 1);
      assert.equal(count(final, 'approval_requested', 'pending'), 4);

      // Only the acknowledgement to a known contact went out, and nothing reached the injected address.
      assert.deepEqual(mailbox.sentTo(), [[KNOWN]]);
      assert.match(mailbox.sentSubjects()[0] ?? '', /^Re: Invoice 7/);
      assert.ok(mailbox.sentTo().every((to) => !to.includes('exfil@evil.example') && !to.includes('attacker@evil.example')));

      const { approvals } = (await fleet.orchestrator.agents.listApprovals(clientId, 'pending')) as { approvals: Approval[] };
      assert.equal(approvals.length, 4);
      const to = (address: string) => approvals.filter((entry) => entry.recipients.includes(address));
      assert.equal(to(KNOWN).length, 2, 'scheduling and the legal mail wait for a human');
      assert.ok(to(KNOWN).some((entry) => entry.reasons.includes('type_requires_approval')));
      assert.ok(to('lead@newco.example')[0]?.reasons.includes('new_contact'));
      const injected = to('attacker@evil.example');
      assert.equal(injected.length, 1, 'the injection is held for approval, addressed only to its sender');
      assert.ok(injected[0]?.reasons.includes('new_contact'));
      assert.ok(approvals.every((entry) => !entry.recipients.includes('exfil@evil.example')));

      // Filed in the mailbox: each classified message carries its category; the list mail is untouched.
      for (const [key, type] of Object.entries(SEEDED_TYPES)) {
        assert.deepEqual(mailbox.labelsOf(ids[key as keyof typeof SEEDED_TYPES]), [`AgentFleet/${type}`], `${key} is labelled ${type}`);
      }
      assert.deepEqual(mailbox.labelsOf(ids.list), []);
      assert.equal(count(final, 'email_label', 'success'), 5);

      // A 429 storm: the next requests are refused with Retry-After. The agent backs off and retries; the
      // two new acknowledgements each get exactly one reply, and nothing is lost.
      mailbox.throttle(8, 1);
      await mailbox.seed({ from: KNOWN, subject: 'Invoice 8', text: 'We received the invoice 8. Thanks!' });
      await mailbox.seed({ from: KNOWN, subject: 'Invoice 9', text: 'We received the invoice 9. Thanks!' });
      await waitFor('both replies after the storm', 120_000, async () => (mailbox.sentSubjects().length >= 3 ? true : undefined)).catch(diagnose);
      await new Promise((resolve) => setTimeout(resolve, 6_000)); // one more sync: no second reply may follow
      assert.deepEqual(mailbox.sentSubjects().map((subject) => subject.replace(/\s+/g, ' ')).sort(), ['Re: Invoice 7', 'Re: Invoice 8', 'Re: Invoice 9']);
      assert.equal(count(await exportAudit(fleet, clientId), 'email_send', 'success'), 3);

      const { verification } = await fleet.orchestrator.agents.verifyAudit(clientId);
      assert.equal((verification as { ok: boolean }).ok, true, JSON.stringify(verification));
    });
  });
}

