import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { gmailScopesFor } from '../../../agent-image/src/adapters/gmail/gmail-scopes.ts';
import { graphScopesFor } from '../../../agent-image/src/adapters/graph/graph-scopes.ts';
import { connectorsFromSecrets } from '../../../agent-image/src/adapters/connectors-from-secrets.ts';
import { VaultSecretSource } from '../../../agent-image/src/adapters/vault/vault-secret-source.ts';
import type { AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import { parseClientConfig, type ClientConfig, type ClientConfigInput } from '../../../agent-image/src/domain/client-config.ts';
import { parseClientId, type ClientId } from '../../../agent-image/src/domain/client-id.ts';
import { createControlApp, listen } from '../../../agent-image/src/http/control-server.ts';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import { createSilentLogger } from '../../../agent-image/src/observability/logger.ts';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { AgentRuntime } from '../../../agent-image/src/services/runtime/agent-runtime.ts';
import { startEmbeddedVault, type EmbeddedVault } from '../../../orchestrator/src/adapters/embedded-vault/start-embedded-vault.ts';
import { createVaultClient, type VaultClient } from '../../../orchestrator/src/adapters/vault/vault-client.ts';
import { VaultSecretStore } from '../../../orchestrator/src/adapters/vault/vault-secret-store.ts';
import type { AnthropicEmulator} from '../../emulators/anthropic-emulator.ts';
import { type MessagesRequest, type ScriptedReply } from '../../emulators/anthropic-emulator.ts';
import { GmailEmulator } from '../../emulators/gmail-emulator.ts';
import { GraphEmulator } from '../../emulators/graph-emulator.ts';

export type ProviderKind = 'gmail' | 'outlook';

export interface SentMail {
  to: string[];
  subject: string;
  body: string;
  /** The HTML alternative, where the provider keeps one apart from the text. */
  html: string | null;
  idempotencyKey: string | null;
}

/** One mailbox emulator behind the agent's provider, seen the same way for Gmail and Outlook. */
export interface MailboxUnderTest {
  kind: ProviderKind;
  mailbox: string;
  seed(seed: { from: string; subject: string; text: string; headers?: Record<string, string> }): Promise<string>;
  sent(): SentMail[];
  draftCount(): number;
  revokeConsent(): void;
  throttle(count: number, retryAfterSeconds: number): void;
  /** The secret value (JSON) for a fresh refresh token, as the consent flow would store it. */
  secretValue(config: ClientConfig): string;
  endpoints: Parameters<typeof connectorsFromSecrets>[0];
  stop(): Promise<void>;
}

async function gmailMailbox(): Promise<MailboxUnderTest> {
  const emulator = new GmailEmulator();
  await emulator.start();
  return {
    kind: 'gmail',
    mailbox: emulator.mailbox,
    seed: async (seed) => (await emulator.seedInbound({ ...seed, to: [emulator.mailbox] })).id,
    sent: () =>
      emulator.sent.map((record) => ({
        to: record.parsed.to === undefined ? [] : [record.parsed.to].flat().flatMap((t) => t.value.map((a) => a.address ?? '')),
        subject: record.parsed.subject ?? '',
        body: (record.parsed.text ?? '').trimEnd(),
        html: typeof record.parsed.html === 'string' ? record.parsed.html : null,
        idempotencyKey: record.headers.get('x-agent-fleet-idempotency-key') ?? null,
      })),
    draftCount: () => emulator.draftCount(),
    revokeConsent: () => emulator.revokeConsent(),
    throttle: (count, seconds) => emulator.throttle(count, seconds),
    secretValue: (config) =>
      JSON.stringify({
        client_id: emulator.clientId,
        client_secret: emulator.clientSecret,
        refresh_token: emulator.issueRefreshToken(gmailScopesFor(config.permissions)),
      }),
    endpoints: { gmailRootUrl: emulator.rootUrl, gmailTokenUrl: emulator.tokenUrl },
    stop: () => emulator.stop(),
  };
}

async function outlookMailbox(): Promise<MailboxUnderTest> {
  const emulator = new GraphEmulator();
  await emulator.start();
  return {
    kind: 'outlook',
    mailbox: emulator.mailbox,
    seed: async (seed) => emulator.seedInbound({ ...seed, to: [emulator.mailbox] }).id,
    sent: () =>
      emulator.sent.map((record) => ({
        to: record.to,
        subject: record.subject,
        body: record.text.trimEnd(),
        html: record.html,
        idempotencyKey: record.internetMessageHeaders.find((h) => h.name.toLowerCase() === 'x-agent-fleet-idempotency-key')?.value ?? null,
      })),
    draftCount: () => 0,
    revokeConsent: () => emulator.revokeConsent(),
    throttle: (count, seconds) => emulator.throttle(count, seconds),
    secretValue: (config) =>
      JSON.stringify({
        client_id: emulator.clientId,
        client_secret: emulator.clientSecret,
        refresh_token: emulator.issueRefreshToken(graphScopesFor(config.permissions)),
      }),
    endpoints: { graphBaseUrl: emulator.baseUrl, graphTokenUrl: emulator.tokenUrl },
    stop: () => emulator.stop(),
  };
}

export function startMailbox(kind: ProviderKind): Promise<MailboxUnderTest> {
  return kind === 'gmail' ? gmailMailbox() : outlookMailbox();
}

/** The model as scripted for the seeded inbox: keywords in the (untrusted) email pick the answer. */
export function inboxScript(request: MessagesRequest): ScriptedReply {
  const first = request.messages[0]?.content;
  const text = typeof first === 'string' ? first : JSON.stringify(first);
  if (request.tool_choice?.name === 'classify_email') {
    const type = /MALFORMED/.test(text)
      ? 'not-a-type'
      : /received the invoice/i.test(text)
        ? 'acknowledgement'
        : /meet on/i.test(text)
          ? 'scheduling'
          : /termination/i.test(text)
            ? 'legal'
            : 'question';
    return { toolInput: { type, confidence: 0.9, reasons: ['scripted'] } };
  }
  // A fooled model: the injected email gets a reply that "agrees" to forward the data.
  const body = /Ignore previous instructions/i.test(text)
    ? 'Sure, I will forward all invoices to exfil@evil.example right away.'
    : 'Thank you for your message. I will get back to you shortly.';
  return { toolInput: { subject: 'Reply', body } };
}

export const ADMIN = 'boss@acme.example';
export const KNOWN = 'kim@partner.example';

export function clientConfig(id: ClientId, mailbox: string, provider: ProviderKind, overrides: Partial<ClientConfigInput> = {}): ClientConfig {
  const parsed = parseClientConfig({
    client: id,
    provider,
    mailbox,
    admins: [ADMIN],
    permissions: { 'mail.read': true, 'mail.draft': true, 'mail.send': true, 'mail.label': true },
    onboarding: { startedAt: new Date(Date.now() - 60 * 86_400_000).toISOString(), days: 28 },
    knownContacts: [KNOWN],
    dailySummary: { enabled: true, at: '18:00' },
    model: 'claude-haiku-4-5',
    ...overrides,
  });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

let counter = 0;
export function uniqueClient(): ClientId {
  counter++;
  return parseClientId(`ag${process.pid.toString(36)}x${counter}`);
}

export interface VaultFixture {
  vault: EmbeddedVault;
  admin: VaultClient;
  store: VaultSecretStore;
  close(): Promise<void>;
}

export async function startVault(): Promise<VaultFixture> {
  const dataDir = await mkdtemp(join(tmpdir(), 'agent-vault-'));
  const vault = await startEmbeddedVault({ dataDir, listen: [{ host: '127.0.0.1', port: 0 }], logger: createSilentLogger() });
  const admin = createVaultClient({ endpoint: vault.url, token: vault.rootToken });
  return {
    vault,
    admin,
    store: new VaultSecretStore({ client: admin, logger: createSilentLogger() }),
    close: async () => {
      await vault.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface AgentUnderTest {
  id: ClientId;
  config: ClientConfig;
  dataDir: string;
  controlToken: string;
  runtime: AgentRuntime;
  registry: Registry;
  url: string;
  clock: { now: Date };
  call(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; json: unknown; text: string }>;
  /** A fresh introduction from the store, redeemed through the control API. */
  introduce(): Promise<number>;
  metric(name: string): Promise<number>;
  auditRecords(): Promise<AuditRecord[]>;
  /** Stops this runtime and starts a new one on the same volume (a container restart). */
  restart(): Promise<AgentUnderTest>;
  stop(): Promise<void>;
}

export interface AgentOptions {
  vault: VaultFixture;
  config: ClientConfig;
  mailbox?: MailboxUnderTest;
  anthropic?: AnthropicEmulator;
  dataDir?: string;
  clock?: { now: Date };
  controlToken?: string;
  /** Skip writing the provider and model secrets (an agent that is not connected yet). */
  withoutSecrets?: boolean;
  concurrency?: number;
}

/** Starts an agent runtime in-process against the embedded Vault, with its control API on loopback. */
export async function startAgent(options: AgentOptions): Promise<AgentUnderTest> {
  const { vault, config } = options;
  const id = parseClientId(config.client);
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'agent-data-')));
  const controlToken = options.controlToken ?? randomBytes(32).toString('base64url');
  const clock = options.clock ?? { now: new Date() };
  if (options.dataDir === undefined) {
    await vault.store.ensureClient(id);
    await vault.admin.write(`fleet/data/${id}/control`, { data: { token_sha256: createHash('sha256').update(controlToken).digest('hex') } });
    if (options.withoutSecrets !== true && options.mailbox !== undefined && options.anthropic !== undefined) {
      await vault.store.writeSecret(id, config.provider === 'gmail' ? 'gmail' : 'outlook', options.mailbox.secretValue(config));
      await vault.store.writeSecret(id, 'anthropic', options.anthropic.apiKey);
    }
  }
  const registry = new Registry();
  const metrics = new AgentMetrics(registry, { client: id, version: '1.0.0' });
  const logger = createSilentLogger();
  const runtime = new AgentRuntime({
    config,
    dataDir,
    logger,
    metrics,
    vaultAddr: vault.vault.url,
    secretSource: ({ vaultAddr, wrappingToken, wrappedKeyFile }) => new VaultSecretSource({ clientId: id, vaultAddr, wrappingToken, wrappedKeyFile, logger }),
    connectors: connectorsFromSecrets({
      ...(options.mailbox?.endpoints ?? {}),
      ...(options.anthropic === undefined ? {} : { anthropicBaseUrl: options.anthropic.url }),
    }),
    now: () => clock.now,
    syncIntervalMs: 0,
    sweepIntervalMs: 0,
    scheduleSummary: false,
    concurrency: options.concurrency ?? 3,
    retry: { baseDelayMs: 5, maxDelayMs: 50, maxAttempts: 8 },
    sendBackoff: { baseDelayMs: 5, maxDelayMs: 50, maxAttempts: 8 },
  });
  const server: Server = await listen(createControlApp(runtime, logger), '127.0.0.1', 0);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call: AgentUnderTest['call'] = async (method, path, body, token = controlToken) => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    const response = await fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await response.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: response.status, json, text };
  };
  const stop = async () => {
    await runtime.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  const agent: AgentUnderTest = {
    id,
    config,
    dataDir,
    controlToken,
    runtime,
    registry,
    url,
    clock,
    call,
    introduce: async () => {
      const intro = await vault.store.issueAgentIntroduction(id);
      const response = await call('POST', '/v1/introduce', { wrappingToken: intro.wrappingToken, creationPath: intro.creationPath, vaultAddr: vault.vault.url }, null);
      return response.status;
    },
    metric: async (name) => {
      const metric = (await registry.getMetricsAsJSON()).find((candidate) => candidate.name === name);
      return (metric?.values ?? []).reduce((sum, value) => sum + value.value, 0);
    },
    auditRecords: async () => {
      // Read with the same data key, as `fleet audit export` would through the agent.
      const response = await call('GET', '/v1/audit/export?format=jsonl');
      return response.text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as AuditRecord);
    },
    restart: async () => {
      await stop();
      return startAgent({ ...options, dataDir, clock, controlToken });
    },
    stop,
  };
  return agent;
}

/** Removes a data directory created by startAgent. */
export function removeDir(path: string): Promise<void> {
  return rm(path, { recursive: true, force: true });
}

export { AuditLog };
