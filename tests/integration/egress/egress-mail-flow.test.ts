// The mail flow of a real agent container on its internal network, through the egress proxy only: the
// mailbox and model emulators listen on the HOST's loopback (as `localhost`), which nothing on a client
// network can reach directly, and the fleet's extra egress hosts name them. googleapis (gaxios), the Graph
// client, the token calls and the Anthropic SDK must all tunnel through the proxy for a reply to go out.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { gmailScopesFor, graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { resourceNames } from '@agent-fleet/kernel/client-id';
import { AnthropicEmulator } from '../../emulators/anthropic-emulator.ts';
import { GmailEmulator } from '../../emulators/gmail-emulator.ts';
import { GraphEmulator } from '../../emulators/graph-emulator.ts';
import { ADMIN, KNOWN, inboxScript, withProviderVerdict, type ProviderKind } from '../agent/agent-harness.ts';
import { createFleetFixture, docker, runNodeInNetworkOf, uniqueClientId } from '../../helpers/fleet-fixture.ts';
import { waitFor } from '../../helpers/monitoring.ts';
import { tcpProbeScript } from './egress-probes.ts';

const MAILBOX = 'agent@acme.example';
const PERMISSIONS = { 'mail.read': true, 'mail.draft': true, 'mail.send': true, 'mail.label': true };

/** The provider's emulator on the host's loopback, with what the agent and the test need of it. */
interface Provider {
  port: number;
  env: Record<string, string>;
  secret(): string;
  seed(seed: { from: string; subject: string; text: string }): Promise<unknown>;
  /** True once the agent has taken its first sync position (mail seeded before that is history to it). */
  watching(): boolean;
  sentSubjects(): string[];
  requests(): string[];
  stop(): Promise<void>;
}

async function startProvider(kind: ProviderKind): Promise<Provider> {
  if (kind === 'gmail') {
    const gmail = new GmailEmulator({ mailbox: MAILBOX });
    const url = await gmail.start({ host: 'localhost' });
    return {
      port: Number(new URL(url).port),
      env: { AGENT_GMAIL_ROOT_URL: `${url}/`, AGENT_GMAIL_TOKEN_URL: `${url}/token` },
      secret: () => JSON.stringify({ client_id: gmail.clientId, client_secret: gmail.clientSecret, refresh_token: gmail.issueRefreshToken(gmailScopesFor(PERMISSIONS)) }),
      seed: (seed) => gmail.seedInbound({ ...seed, to: [MAILBOX], headers: withProviderVerdict('gmail', seed) }),
      watching: () => gmail.requests.some((request) => request.path.endsWith('/history') && request.status === 200),
      sentSubjects: () => gmail.sent.map((record) => record.parsed.subject ?? ''),
      requests: () => gmail.requests.map((r) => `${r.method} ${r.path} ${r.status}`),
      stop: () => gmail.stop(),
    };
  }
  const graph = new GraphEmulator({ mailbox: MAILBOX });
  await graph.start({ host: 'localhost' });
  return {
    port: Number(new URL(graph.baseUrl).port),
    env: { AGENT_GRAPH_BASE_URL: graph.baseUrl, AGENT_GRAPH_TOKEN_URL: graph.tokenUrl },
    secret: () => JSON.stringify({ client_id: graph.clientId, client_secret: graph.clientSecret, refresh_token: graph.issueRefreshToken(graphScopesFor(PERMISSIONS)) }),
    seed: async (seed) => graph.seedInbound({ ...seed, to: [MAILBOX], headers: withProviderVerdict('outlook', seed) }),
    watching: () => graph.requests.some((request) => request.path.includes('/delta') && request.status === 200),
    sentSubjects: () => graph.sent.map((record) => record.subject),
    requests: () => graph.requests.map((r) => `${r.method} ${r.path} ${r.status}`),
    stop: () => graph.stop(),
  };
}

for (const kind of ['gmail', 'outlook'] as ProviderKind[]) {
  describe(`the mail flow on ${kind} through the egress proxy`, () => {
    const cleanups: Array<() => Promise<unknown>> = [];
    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    });

    it('reads, asks the model and sends the reply, every call tunnelled, none direct', { timeout: 300_000 }, async () => {
      const provider = await startProvider(kind);
      cleanups.push(() => provider.stop());
      const anthropic = new AnthropicEmulator();
      const anthropicPort = Number(new URL(await anthropic.start({ host: 'localhost' })).port);
      anthropic.useScript(inboxScript);
      cleanups.push(() => anthropic.stop());

      const pool = `10.218.${100 + (process.pid % 100)}.${kind === 'gmail' ? 0 : 16}/28`;
      const fleet = await createFleetFixture({
        FLEET_SUBNET_POOL: pool,
        FLEET_SUBNET_PREFIX: '28',
        FLEET_EGRESS_EXTRA_HOSTS: `localhost:${provider.port},localhost:${anthropicPort}`,
      });
      const clientId = uniqueClientId(kind === 'gmail' ? 'eg' : 'eo');
      cleanups.push(() => fleet.cleanup([clientId]));
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
      const provisioned = await fleet.orchestrator.provision.provision({
        clientId,
        actor: 'test',
        configYaml: JSON.stringify(config),
        agentEnvironment: { ...provider.env, AGENT_ANTHROPIC_BASE_URL: `http://localhost:${anthropicPort}`, AGENT_SYNC_INTERVAL_SECONDS: '5' },
      });
      assert.equal(provisioned.outcome, 'provisioned');
      const container = resourceNames(clientId).container;

      // Without the proxy there is no way to the emulators: the agent's own loopback is not the host's.
      const direct = JSON.parse(
        await runNodeInNetworkOf(container, tcpProbeScript([{ host: '127.0.0.1', port: provider.port }, { host: '127.0.0.1', port: anthropicPort }], 1000)),
      ) as Record<string, string>;
      assert.ok(Object.values(direct).every((outcome) => outcome !== 'connected'), JSON.stringify(direct));

      await fleet.orchestrator.secrets.set({ clientId, name: kind, value: provider.secret(), actor: 'test' });
      await fleet.orchestrator.secrets.set({ clientId, name: 'anthropic', value: anthropic.apiKey, actor: 'test' });
      const diagnose = async (error: unknown): Promise<never> => {
        const logs = (await docker.getContainer(container).logs({ stdout: true, stderr: true, tail: 40 })).toString();
        const approvals = JSON.stringify(await fleet.orchestrator.agents.listApprovals(clientId, 'pending').catch((failure: unknown) => String(failure)));
        const requests = provider.requests().filter((request) => !/history|delta/.test(request));
        throw new Error(`${(error as Error).message}\nagent log:\n${logs}\nprovider requests:\n${requests.join('\n')}\nmodel calls: ${anthropic.received.length}\napprovals: ${approvals}`);
      };
      await waitFor('the agent to watch the mailbox', 90_000, async () => (provider.watching() ? true : undefined)).catch(diagnose);
      await provider.seed({ from: KNOWN, subject: 'Invoice 7', text: 'Hi, we received the invoice. Thanks!' });
      await waitFor('the acknowledgement to be answered', 150_000, async () => (provider.sentSubjects().length >= 1 ? true : undefined)).catch(diagnose);
      assert.match(provider.sentSubjects()[0] ?? '', /^Re: Invoice 7/);
      assert.ok(anthropic.received.length >= 2, 'classified and drafted by the model');

      const metrics = await fleet.orchestrator.metrics.metrics();
      const tunnels = Number(new RegExp(`^fleet_egress_tunnels_total\\{client="${clientId}"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
      assert.ok(tunnels >= 2, `the mailbox and the model were reached through tunnels (${tunnels})`);
      assert.match(metrics, new RegExp(`^fleet_egress_refused_total\\{client="${clientId}"\\} 0$`, 'm'), 'nothing the agent needs was refused');
    });
  });
}
