// A gmail client provisioned through the orchestrator in its real container, its mailbox and model emulated on
// the client network's gateway, the orchestrator's API on its unix socket for the real `fleet` CLI.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gmailScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { createLogger, createSilentLogger, type Logger } from '@agent-fleet/kernel/logger';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { gatewayOf, parseIpv4Cidr } from '../../../orchestrator/src/domain/ipv4-cidr.ts';
import { createSocketApp } from '../../../orchestrator/src/http/create-apps.ts';
import { listenUnixSocket } from '../../../orchestrator/src/http/listen.ts';
import { AnthropicEmulator } from '../../emulators/anthropic-emulator.ts';
import { GmailEmulator } from '../../emulators/gmail-emulator.ts';
import { createFleetFixture, docker, uniqueClientId, type FleetFixture } from '../../helpers/fleet-fixture.ts';
import { freePort, waitFor } from '../../helpers/monitoring.ts';
import { signInForCli, type TestMember } from '../../helpers/team-session.ts';
import { ADMIN, KNOWN, inboxScript, seedInbox } from '../agent/agent-harness.ts';

export const MAILBOX = 'agent@acme.example';
const PERMISSIONS = { 'mail.read': true, 'mail.draft': true, 'mail.send': true, 'mail.label': true };
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../orchestrator/src/cli/main.ts');

export interface AuditLine {
  seq: number;
  action_type: string;
  result: string;
  target: string | null;
  parameters: Record<string, unknown>;
}

export interface LifecycleClient {
  fleet: FleetFixture;
  /** The team member signed in for the CLI (every change on the ops API is a member's). */
  member: TestMember;
  clientId: ClientId;
  gmail: GmailEmulator;
  /** The agent's emulator endpoints (a restored agent's new container needs them too). */
  agentEnvironment: Record<string, string>;
  /** Where the orchestrator's log goes (null when silent). */
  logFile: string | null;
  seed(seed: { from: string; subject: string; text: string }): Promise<string>;
  sentSubjects(): string[];
  /** The agent's audit log, through the orchestrator (the agent must run). */
  audit(): Promise<AuditLine[]>;
  /** Waits until the audit log satisfies `done`. */
  auditUntil(what: string, done: (records: AuditLine[]) => boolean, timeoutMs?: number): Promise<AuditLine[]>;
  /** The real `fleet` CLI against this orchestrator's socket. */
  cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /**
   * Seeds the inbox, waits until every message is held for approval, then has the client's admin approve
   * the reply to the known contact and waits until it is sent: one send and one decision in the data.
   */
  processInboxAndSendOne(): Promise<AuditLine[]>;
  /** An operator's support grant, approved by the client's admin. */
  grantSupport(member: string): Promise<void>;
  cleanup(): Promise<void>;
}

/** Provisions a client (its config: the bed's, with `config`'s fields over it) and waits until its agent watches the mailbox. `octet` keeps subnets apart per file. */
export async function lifecycleClient(options: { octet: number; stem: string; logToFile?: boolean; config?: Record<string, unknown> }): Promise<LifecycleClient> {
  const pool = `10.${options.octet}.${100 + (process.pid % 100)}.0/28`;
  const gateway = gatewayOf(parseIpv4Cidr(pool));
  const gmailPort = await freePort();
  const anthropicPort = await freePort();
  const logDir = options.logToFile ? await mkdtemp(path.join(os.tmpdir(), 'fleet-log-')) : null;
  const logFile = logDir === null ? null : path.join(logDir, 'orchestrator.log');
  const logger: Logger = logFile === null ? createSilentLogger() : createLogger({ service: 'orchestrator', level: 'debug', stream: createWriteStream(logFile, { mode: 0o600 }) });
  const fleet = await createFleetFixture({ FLEET_SUBNET_POOL: pool, FLEET_SUBNET_PREFIX: '28' }, { googleRevokeUrl: `http://${gateway}:${gmailPort}/revoke` }, logger);
  const clientId = uniqueClientId(options.stem);
  const cleanups: (() => Promise<unknown>)[] = [() => fleet.cleanup([clientId])];
  if (logDir !== null) cleanups.push(() => rm(logDir, { recursive: true, force: true }));
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => undefined);
  };
  try {
    const config = {
      client: clientId,
      provider: 'gmail',
      mailbox: MAILBOX,
      admins: [ADMIN],
      permissions: PERMISSIONS,
      onboarding: { startedAt: new Date(Date.now() - 60 * 86_400_000).toISOString(), days: 28 },
      knownContacts: [KNOWN],
      dailySummary: { enabled: false, at: '18:00' },
      model: 'claude-haiku-4-5',
      ...options.config,
    };
    const agentEnvironment = {
      AGENT_GMAIL_ROOT_URL: `http://${gateway}:${gmailPort}/`,
      AGENT_GMAIL_TOKEN_URL: `http://${gateway}:${gmailPort}/token`,
      AGENT_ANTHROPIC_BASE_URL: `http://${gateway}:${anthropicPort}`,
      AGENT_SYNC_INTERVAL_SECONDS: '5',
    };
    const provisioned = await fleet.orchestrator.provision.provision({ clientId, actor: 'test', configYaml: JSON.stringify(config), agentEnvironment });
    if (provisioned.outcome !== 'provisioned') throw new Error(`provisioning ended ${provisioned.outcome}`);
    const gmail = new GmailEmulator({ mailbox: MAILBOX });
    await gmail.start({ host: gateway, port: gmailPort });
    cleanups.push(() => gmail.stop());
    const anthropic = new AnthropicEmulator();
    await anthropic.start({ host: gateway, port: anthropicPort });
    anthropic.useScript(inboxScript);
    cleanups.push(() => anthropic.stop());
    const server: Server = await listenUnixSocket(createSocketApp(fleet.orchestrator, logger), fleet.config.api.socketPath);
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const member = await signInForCli(fleet.orchestrator, fleet.homeDir);
    const secret = JSON.stringify({ client_id: gmail.clientId, client_secret: gmail.clientSecret, refresh_token: gmail.issueRefreshToken(gmailScopesFor(PERMISSIONS)) });
    await fleet.orchestrator.secrets.set({ clientId, name: 'gmail', value: secret, actor: 'test' });
    await fleet.orchestrator.secrets.set({ clientId, name: 'anthropic', value: anthropic.apiKey, actor: 'test' });
    const watching = () => gmail.requests.some((request) => request.path.endsWith('/history') && request.status === 200);
    await waitFor('the agent to watch the mailbox', 90_000, async () => (watching() ? true : undefined)).catch(async (error: unknown) => {
      const logs = (await docker.getContainer(`fleet-${clientId}`).logs({ stdout: true, stderr: true, tail: 30 })).toString();
      throw new Error(`${(error as Error).message}\nagent log:\n${logs}`);
    });
    const audit = async (): Promise<AuditLine[]> => {
      const sink = new PassThrough();
      const chunks: Buffer[] = [];
      sink.on('data', (chunk: Buffer) => chunks.push(chunk));
      await fleet.orchestrator.agents.exportAudit(clientId, { format: 'jsonl' }, sink);
      return Buffer.concat(chunks).toString('utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as AuditLine);
    };
    return {
      fleet,
      clientId,
      gmail,
      agentEnvironment,
      logFile,
      seed: async (seed) => (await gmail.seedInbound({ ...seed, to: [MAILBOX] })).id,
      sentSubjects: () => gmail.sent.map((record) => (record.parsed.subject ?? '').replace(/\s+/g, ' ')),
      audit,
      auditUntil: (what, done, timeoutMs = 120_000) => waitFor(what, timeoutMs, async () => {
        const records = await audit();
        return done(records) ? records : undefined;
      }),
      member,
      cli: async (args) => {
        // Client data needs a code within the last 15 minutes: sign in again when the last one is older.
        await member.keepFresh();
        return runFleetCli(fleet.homeDir, args);
      },
      processInboxAndSendOne: async () => {
        await seedInbox(async (seed) => (await gmail.seedInbound({ ...seed, to: [MAILBOX] })).id);
        await waitFor('the seeded inbox to be held for approval', 120_000, async () => (count(await audit(), 'approval_requested') >= 4 ? true : undefined));
        const { approvals } = (await fleet.orchestrator.agents.listApprovals(clientId, 'pending')) as { approvals: { id: string; recipients: string[]; subject: string }[] };
        const reply = approvals.find((approval) => approval.recipients.includes(KNOWN));
        if (!reply) throw new Error('no held reply to the known contact');
        await fleet.orchestrator.agents.decide(clientId, reply.id, { decision: 'approve', by: ADMIN }, 'test');
        return waitFor('the approved reply to be sent', 120_000, async () => {
          const records = await audit();
          return count(records, 'email_send', 'success') >= 1 && gmail.sent.length >= 1 ? records : undefined;
        });
      },
      grantSupport: async (member) => {
        const grant = await fleet.orchestrator.support.request({ clientId, member, incident: 'DSR-1', reason: 'client asked for its data', actor: member });
        await fleet.orchestrator.support.approve({ clientId, grantId: grant.id, by: ADMIN, actor: 'test' });
      },
      cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

function runFleetCli(home: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, AGENT_FLEET_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

export const count = (records: AuditLine[], type: string, result?: string) =>
  records.filter((record) => record.action_type === type && (result === undefined || record.result === result)).length;
