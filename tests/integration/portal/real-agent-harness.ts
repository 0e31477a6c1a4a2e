// The client portal of a REAL orchestrator over REAL agents: each client's agent runs in its docker
// container, provisioned by the orchestrator, reading a Gmail emulator and a scripted Anthropic emulator
// that listen on its network's gateway. Mail the agent sends (enrolment links, approval notices, approved
// replies) is read back from the emulator.
import type { ParsedMail } from 'mailparser';
import { gmailScopesFor } from '@agent-fleet/kernel/provider-scopes';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { gatewayOf, parseIpv4Cidr } from '../../../orchestrator/src/domain/ipv4-cidr.ts';
import type { FleetPortal } from '../../../orchestrator/src/orchestrator.ts';
import { startSchedules } from '../../../orchestrator/src/services/schedules.ts';
import { AnthropicEmulator } from '../../emulators/anthropic-emulator.ts';
import { GmailEmulator } from '../../emulators/gmail-emulator.ts';
import { createFleetFixture, docker, uniqueClientId, type FleetFixture } from '../../helpers/fleet-fixture.ts';
import { freePort, waitFor } from '../../helpers/monitoring.ts';
import { inboxScript, withProviderVerdict } from '../agent/agent-harness.ts';
import { TestClock } from './portal-harness.ts';

const PERMISSIONS = { 'mail.read': true, 'mail.draft': true, 'mail.send': true, 'mail.label': true };
export const KNOWN = 'kim@partner.example';

export interface RealClient {
  id: ClientId;
  admins: string[];
  mailbox: string;
  gmail: GmailEmulator;
  anthropic: AnthropicEmulator;
  container: string;
}

export interface RealPortal {
  fleet: FleetFixture;
  portal: FleetPortal;
  /** The orchestrator's (and so the portal's) clock; the agents keep real time. */
  clock: TestClock;
  clients: RealClient[];
  close(): Promise<void>;
}

/** A pool of four /28 subnets unique to this test file and process, and its n-th /28. */
function subnetPool(octet: number): string {
  return `10.${octet}.${100 + (process.pid % 100)}.0/26`;
}
function nthSubnet(octet: number, index: number): string {
  return `10.${octet}.${100 + (process.pid % 100)}.${16 * index}/28`;
}

/**
 * Provisions `clients.length` clients (each with its admins) on a fleet whose portal listens on a fixed
 * port (so the agents know its origin), starts their emulators, connects their mailboxes and waits until
 * each agent watches its mailbox. The service's schedules run every 2 s (approval notices included).
 */
export async function startRealPortal(octet: number, clients: { stem: string; admins: string[] }[]): Promise<RealPortal> {
  const clock = new TestClock();
  const portalPort = await freePort();
  const fleet = await createFleetFixture(
    {
      FLEET_SUBNET_POOL: subnetPool(octet),
      FLEET_SUBNET_PREFIX: '28',
      PORTAL_PORT: String(portalPort),
      AUDIT_CHECKPOINT_INTERVAL_SECONDS: '2',
    },
    { portal: true, clock },
  );
  const portal = fleet.orchestrator.portal;
  if (!portal) throw new Error('the orchestrator started no portal');
  const started: RealClient[] = [];
  const stops: Array<() => Promise<unknown>> = [];
  const stopSchedules = startSchedules(fleet.orchestrator, createSilentLogger());
  try {
    for (const [index, spec] of clients.entries()) {
      started.push(await provisionClient(fleet, spec, nthSubnet(octet, index), stops));
    }
  } catch (error) {
    stopSchedules();
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await fleet.cleanup(started.map((client) => client.id));
    throw error;
  }
  return {
    fleet,
    portal,
    clock,
    clients: started,
    async close() {
      stopSchedules();
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
      await fleet.cleanup(started.map((client) => client.id));
    },
  };
}

async function provisionClient(
  fleet: FleetFixture,
  spec: { stem: string; admins: string[] },
  subnet: string,
  stops: Array<() => Promise<unknown>>,
): Promise<RealClient> {
  const id = uniqueClientId(spec.stem);
  const mailbox = `agent@${id}.example`;
  const [gmailPort, anthropicPort] = [await freePort(), await freePort()];
  const config = {
    client: id,
    displayName: `${spec.stem.toUpperCase()} Ltd`,
    provider: 'gmail',
    mailbox,
    admins: spec.admins,
    permissions: PERMISSIONS,
    onboarding: { startedAt: new Date(Date.now() - 60 * 86_400_000).toISOString(), days: 28 },
    knownContacts: [KNOWN],
    dailySummary: { enabled: false, at: '18:00' },
    approvalTimeoutHours: 1,
    model: 'claude-haiku-4-5',
  };
  // The endpoints are the agent's environment, known before it starts: clients are provisioned one after
  // another, each taking the next /28 of this file's pool, whose gateway is its first address.
  const gateway = gatewayOf(parseIpv4Cidr(subnet));
  const provisioned = await fleet.orchestrator.provision.provision({
    clientId: id,
    actor: 'test',
    configYaml: JSON.stringify(config),
    agentEnvironment: {
      AGENT_GMAIL_ROOT_URL: `http://${gateway}:${gmailPort}/`,
      AGENT_GMAIL_TOKEN_URL: `http://${gateway}:${gmailPort}/token`,
      AGENT_ANTHROPIC_BASE_URL: `http://${gateway}:${anthropicPort}`,
      AGENT_SYNC_INTERVAL_SECONDS: '5',
      AGENT_SWEEP_INTERVAL_SECONDS: '5',
    },
  });
  if (provisioned.outcome !== 'provisioned' || provisioned.subnet !== subnet) {
    throw new Error(`${id}: expected on ${subnet}, got ${JSON.stringify(provisioned)}`);
  }
  const gmail = new GmailEmulator({ mailbox });
  await gmail.start({ host: gateway, port: gmailPort });
  stops.push(() => gmail.stop());
  const anthropic = new AnthropicEmulator();
  await anthropic.start({ host: gateway, port: anthropicPort });
  anthropic.useScript(inboxScript);
  stops.push(() => anthropic.stop());
  const secret = JSON.stringify({
    client_id: gmail.clientId,
    client_secret: gmail.clientSecret,
    refresh_token: gmail.issueRefreshToken(gmailScopesFor(PERMISSIONS)),
  });
  await fleet.orchestrator.secrets.set({ clientId: id, name: 'gmail', value: secret, actor: 'test' });
  await fleet.orchestrator.secrets.set({ clientId: id, name: 'anthropic', value: anthropic.apiKey, actor: 'test' });
  await waitFor(`${id} to watch its mailbox`, 90_000, async () =>
    gmail.requests.some((request) => request.path.endsWith('/history') && request.status === 200) ? true : undefined,
  );
  return { id, admins: spec.admins, mailbox, gmail, anthropic, container: `fleet-${id}` };
}

/** The addresses a parsed mail went to. */
export function recipientsOf(mail: ParsedMail): string[] {
  return [mail.to ?? []].flat().flatMap((to) => to.value.map((address) => (address.address ?? '').toLowerCase()));
}

/** Mail the client's agent sent to `address`, oldest first. */
export function mailTo(client: RealClient, address: string): ParsedMail[] {
  return client.gmail.sent.map((record) => record.parsed).filter((mail) => recipientsOf(mail).includes(address));
}

/** Waits for a mail to `address` whose text matches `pattern`; returns the first capture (or the match). */
export function waitForMail(client: RealClient, address: string, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  return waitFor(`a mail to ${address} matching ${pattern}`, timeoutMs, async () => {
    for (const mail of mailTo(client, address)) {
      const found = pattern.exec(mail.text ?? '');
      if (found) return found[1] ?? found[0];
    }
    return undefined;
  });
}

/** The one-tap link of the approval notice mailed to `admin` about the draft to `recipient`. */
export function approvalNotice(client: RealClient, admin: string, recipient: string, timeoutMs = 60_000): Promise<string> {
  return waitFor(`the approval notice to ${admin} about ${recipient}`, timeoutMs, async () => {
    for (const mail of mailTo(client, admin)) {
      const text = mail.text ?? '';
      const link = /(https:\/\/\S+\/a\/[A-Za-z0-9._~-]+)/.exec(text)?.[1];
      if (link !== undefined && text.includes(`To: ${recipient}`)) return link;
    }
    return undefined;
  });
}

/**
 * A new contact writes in: the scripted model drafts a free-text answer, and the gate holds it for a
 * human (new contact). Resolves with the approval's id once the agent holds it.
 */
export async function newContactWrites(fleet: FleetFixture, client: RealClient, from: string, subject: string): Promise<string> {
  await client.gmail.seedInbound({
    from,
    to: [client.mailbox],
    subject,
    text: `Hello, I am interested in your services (${subject}). Could you tell me more?`,
    headers: withProviderVerdict('gmail', { from }),
  });
  return waitFor(`the approval of the reply to ${from}`, 90_000, async () => {
    const { approvals } = (await fleet.orchestrator.agents.listApprovals(client.id, 'pending')) as {
      approvals: { id: string; recipients: string[] }[];
    };
    return approvals.find((approval) => approval.recipients.includes(from))?.id;
  });
}

/** Whether the agent's container runs. */
export async function containerRunning(client: RealClient): Promise<boolean> {
  return (await docker.getContainer(client.container).inspect()).State.Running;
}
