// The agent acts only in the mailbox its config names: a stored Gmail grant that opens another account
// (stored by hand, from before `fleet connect` checked, or a config whose `mailbox:` changed since) is
// refused when the connection is built, against the strict Gmail emulator: nothing is read, drafted or
// sent, the agent pauses with a reason naming both accounts, and a grant stored since is checked again.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { parseClientConfig, type ClientConfig } from '@agent-fleet/kernel/client-config';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { gmailScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { RotatingOAuth2Client } from '../../../agent-image/src/adapters/gmail/gmail-auth.ts';
import { GmailMailProvider } from '../../../agent-image/src/adapters/gmail/gmail-mail-provider.ts';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import type { SecretSource } from '../../../agent-image/src/ports/secret-source.ts';
import type { Outbox } from '../../../agent-image/src/services/outbox/outbox.ts';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { AgentStateStore } from '../../../agent-image/src/services/runtime/agent-state-store.ts';
import type { ApprovalStore } from '../../../agent-image/src/services/runtime/approval-store.ts';
import type { Connectors } from '../../../agent-image/src/services/runtime/connectors.ts';
import { KillSwitch } from '../../../agent-image/src/services/runtime/kill-switch.ts';
import { MailboxConnection } from '../../../agent-image/src/services/runtime/mailbox-connection.ts';
import type { OpenedAgent } from '../../../agent-image/src/services/runtime/open-volume.ts';
import { PauseControl } from '../../../agent-image/src/services/runtime/pause-control.ts';
import type { PauseNotice } from '../../../agent-image/src/services/runtime/pause-notices.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import { runtimeStatus } from '../../../agent-image/src/services/runtime/runtime-status.ts';
import type { ActionLinks, SendPipeline } from '../../../agent-image/src/services/runtime/send-pipeline.ts';
import { GmailEmulator } from '../../emulators/gmail-emulator.ts';
import { googleOAuth } from '../../helpers/oauth-tokens.ts';

const NOW = new Date('2026-06-01T08:00:00.000Z');
const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function configFor(mailbox: string | undefined): ClientConfig {
  const parsed = parseClientConfig({ client: 'acme', timezone: 'Europe/Berlin', permissions: { 'mail.read': true }, ...(mailbox === undefined ? {} : { mailbox }) });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

async function emulatorFor(mailbox: string): Promise<GmailEmulator> {
  const emulator = new GmailEmulator({ mailbox });
  await emulator.start();
  cleanups.push(() => emulator.stop());
  return emulator;
}

/** A stored Gmail grant: a refresh token of `emulator`'s account, issued now. */
interface StoredGrant {
  emulator: GmailEmulator;
  refreshToken: string;
}

function grantOn(emulator: GmailEmulator): StoredGrant {
  return { emulator, refreshToken: emulator.issueRefreshToken(gmailScopesFor({ 'mail.read': true, 'mail.draft': true, 'mail.send': true })) };
}

/**
 * The mailbox as the stored grant opens it: a Gmail provider on its emulator's account, which reads the
 * stored grant again as the agent's does (`stored`: the grant stored now, which another writer may replace).
 */
function gmailConnectors(grant: StoredGrant, stored: () => StoredGrant): Connectors {
  // The emulator rotates refresh tokens: the rotated one is stored, as Vault stores it (unless another won).
  const onRotated = async (rotated: string) => {
    if (stored() !== grant) return stored().refreshToken;
    grant.refreshToken = rotated;
    return null;
  };
  const readNewer = async () => (stored() === grant ? null : stored().refreshToken);
  const provider = new GmailMailProvider({
    client: new RotatingOAuth2Client(googleOAuth(grant.emulator, grant.refreshToken), onRotated, readNewer),
    rootUrl: grant.emulator.rootUrl,
    canSend: true,
    logger: createSilentLogger(),
  });
  return { providerKind: 'gmail', provider, llm: {} as Connectors['llm'], calendar: null, crm: null };
}

/** A mailbox connection as the runtime builds one, whose factory opens whichever emulator `grant` names now. */
async function bed(config: ClientConfig, first: GmailEmulator, slowAccount: { accountCheckMs: number } | null = null) {
  const directory = await mkdtemp(join(tmpdir(), 'mailbox-account-'));
  cleanups.push(() => rm(directory, { recursive: true, force: true }));
  const keys = KeyRing.single(randomBytes(32));
  const audit = await AuditLog.open({ directory: join(directory, 'audit'), keys, now: () => NOW });
  const state = await AgentStateStore.open({ directory: join(directory, 'state'), keys });
  const kill = new KillSwitch(join(directory, 'KILLED'));
  const registry = new Registry();
  const metrics = new AgentMetrics(registry, { client: 'acme', version: '1.0.0' });
  const alerts: PauseNotice[] = [];
  let grant = grantOn(first);
  let recoveries = 0;
  let links: ActionLinks | null | 'never attached' = 'never attached';
  let connection: MailboxConnection | null = null;
  const pauses = new PauseControl({
    config,
    state,
    audit,
    metrics,
    kill,
    logger: createSilentLogger(),
    now: () => NOW,
    alert: async (_key, notice) => alerts.push(notice),
    providerKind: () => connection?.connectors?.providerKind ?? null,
  });
  const source = { readSecrets: async () => new Map<string, string>() } as unknown as SecretSource;
  connection = new MailboxConnection({
    config,
    factory: async () => {
      const made = gmailConnectors(grant, () => grant);
      // A provider that never says which account the grant opens (a hung call).
      if (slowAccount !== null) made.provider.mailboxAccount = () => new Promise<string>(() => undefined);
      return made;
    },
    ...(slowAccount === null ? {} : { accountCheckMs: slowAccount.accountCheckMs }),
    source: () => source,
    // What the mail loop's sync reads of the runtime (an empty inbox asks no more).
    context: { kill, logger: createSilentLogger(), state, config, now: () => NOW, metrics, modelBudget: { exhausted: () => false } } as unknown as RuntimeContext,
    pipeline: { attach: (attached: ActionLinks | null) => (links = attached) } as unknown as SendPipeline,
    outbox: { recover: async () => (recoveries++, { reconciled: [], sent: [], pending: [], held: [] }) } as unknown as Outbox,
    approvals: { list: () => [] } as unknown as ApprovalStore,
    state,
    kill,
    logger: createSilentLogger(),
    now: () => NOW,
    onAuthFailure: (error, where) => pauses.onProviderAuthFailure(error, where),
    onConnected: () => undefined,
  });
  const status = () =>
    runtimeStatus({
      client: 'acme',
      lifecycle: 'ready',
      killed: false,
      dryRun: false,
      agent: {
        connection,
        state,
        audit,
        outbox: { list: () => [] },
        approvals: { pendingCount: () => 0 },
      } as unknown as OpenedAgent,
      vaultRevoked: false,
      lastSync: null,
      push: { enabled: false, expiresAt: null },
      now: NOW,
    });
  const paused = async () => (await registry.getSingleMetricAsString('agent_paused')).split('\n').find((line) => line.startsWith('agent_paused'));
  return { connection, pauses, state, audit, alerts, store: (next: GmailEmulator) => (grant = grantOn(next)), status, paused, links: () => links, recoveries: () => recoveries };
}

/** What is connected now (read through a call: an assertion's narrowing does not outlive a reconnect). */
const connectedKind = (connection: MailboxConnection) => connection.connectors?.providerKind ?? null;

/** Why the agent is paused now (read through a call, for the same reason). */
const pauseReason = (state: AgentStateStore) => state.pause?.reason ?? null;

/** The Gmail API calls the emulator answered, beside the token endpoint. */
const apiCalls = (emulator: GmailEmulator) => emulator.requests.filter((request) => request.path !== '/token').map((request) => `${request.method} ${request.path}`);

describe('the agent acts only in the mailbox its config names', () => {
  test('a Gmail grant opening another account is refused: nothing read, drafted or sent, paused with both accounts named', async () => {
    const other = await emulatorFor('someone@personal.example');
    await other.seedInbound({ from: 'client@customer.example', to: ['someone@personal.example'], subject: 'private', text: 'not for the agent' });
    const agent = await bed(configFor('agent@acme.example'), other);
    await agent.connection.connect();

    assert.equal(agent.connection.connectors, null);
    assert.equal(agent.connection.receipts, null);
    assert.equal(agent.connection.loop, null);
    assert.equal(agent.links(), null, 'the send pipeline has no mailbox to act in');
    assert.equal(agent.recoveries(), 0, 'the outbox recovery (which reads and sends) did not run');
    assert.deepEqual(apiCalls(other), ['GET /gmail/v1/users/me/profile'], 'only the account was asked');
    assert.equal(other.draftCount(), 0);
    assert.equal(other.sent.length, 0);

    const reason = "the connected Gmail account is someone@personal.example, but this client's mailbox is agent@acme.example: connect again with fleet connect acme";
    assert.equal(agent.connection.refusedAccount, reason);
    assert.deepEqual(agent.state.pause, { reason: 'auth', since: NOW.toISOString(), detail: reason });
    assert.match((await agent.paused()) ?? '', / 1$/);
    assert.equal(agent.alerts.length, 1);
    assert.match(agent.alerts[0]?.subject ?? '', /another mailbox/);
    assert.match(agent.alerts[0]?.text ?? '', /someone@personal\[\.\]example.*agent@acme\[\.\]example.*fleet connect acme.*fleet resume acme/s);
    assert.doesNotMatch(agent.alerts[0]?.text ?? '', /refused the assistant's credentials/);
    const failures = (await agent.audit.read()).filter((record) => record.action_type === 'auth_failure');
    assert.deepEqual(failures.map((record) => [record.target, record.parameters['kind']]), [['gmail', 'wrong_account']]);
    assert.equal(agent.connection.state, 'wrong account');
    assert.equal(agent.connection.retryDue, false, 'not retried each round: a resume connects again');
    const status = agent.status();
    assert.equal(status.connection, 'wrong account');
    assert.equal(status.paused, 'auth');
  });

  test('a grant stored since for the configured account is checked again on reconnect and connects', async () => {
    const other = await emulatorFor('someone@personal.example');
    const own = await emulatorFor('agent@acme.example');
    const agent = await bed(configFor('agent@acme.example'), other);
    await agent.connection.connect();
    assert.equal(agent.connection.connectors, null);

    // An admin connects the right mailbox; the operator resumes, which reconnects (agent-runtime.ts).
    agent.store(own);
    await agent.pauses.resume('ops');
    await agent.connection.connect();
    assert.equal(connectedKind(agent.connection), 'gmail');
    assert.equal(agent.connection.refusedAccount, null);
    assert.notEqual(agent.links(), null);
    assert.equal(agent.status().connection, 'gmail');

    // And the other way round: a grant for another account stored later is refused at the next connect.
    agent.store(other);
    await agent.connection.connect();
    assert.equal(agent.connection.connectors, null);
    assert.equal(agent.links(), null);
    assert.equal(agent.state.pause?.reason, 'auth');
  });

  test('the accounts are compared as addresses are: trimmed and case-insensitive', async () => {
    const own = await emulatorFor('Agent@ACME.example');
    const agent = await bed(configFor('agent@Acme.Example'), own);
    await agent.connection.connect();
    assert.equal(connectedKind(agent.connection), 'gmail');
    assert.equal(agent.state.pause, null);
    assert.equal(agent.recoveries(), 1);
  });

  test('a config that names no mailbox is not checked', async () => {
    const other = await emulatorFor('someone@personal.example');
    const agent = await bed(configFor(undefined), other);
    await agent.connection.connect();
    assert.equal(connectedKind(agent.connection), 'gmail');
    assert.deepEqual(apiCalls(other), [], 'the account is not even asked');
  });

  test('a provider that cannot be asked now leaves the agent idle, unpaused, and the next round tries again', async () => {
    const own = await emulatorFor('agent@acme.example');
    const agent = await bed(configFor('agent@acme.example'), own);
    own.throttle(1, 1);
    await agent.connection.connect();
    assert.equal(agent.connection.connectors, null);
    assert.equal(agent.links(), null);
    assert.equal(agent.state.pause, null);
    assert.equal(agent.connection.state, 'account unconfirmed');
    assert.equal(agent.connection.retryDue, true, 'work-round.ts connects again next round');
    assert.deepEqual(agent.connection.missingSecrets, [], 'no secret is missing: none is to be stored');
    assert.equal(agent.status().connection, 'account unconfirmed');
    await agent.connection.connect();
    assert.equal(connectedKind(agent.connection), 'gmail');
    assert.equal(agent.connection.state, 'connected');
    assert.equal(agent.connection.retryDue, false);
    assert.equal(agent.status().connection, 'gmail');
  });

  test('a provider that does not answer the account check leaves it unconfirmed for the next round: the connect (an introduction waits on it) returns', async () => {
    const own = await emulatorFor('agent@acme.example');
    const agent = await bed(configFor('agent@acme.example'), own, { accountCheckMs: 20 });
    await agent.connection.connect();
    assert.equal(agent.connection.connectors, null);
    assert.equal(agent.connection.state, 'account unconfirmed');
    assert.equal(agent.connection.retryDue, true);
    assert.equal(agent.state.pause, null, 'no pause: nobody refused anything');
  });

  test('a revoked grant met by the account check pauses as the mail loop would', async () => {
    const own = await emulatorFor('agent@acme.example');
    const agent = await bed(configFor('agent@acme.example'), own);
    own.revokeConsent();
    await agent.connection.connect();
    assert.equal(agent.connection.connectors, null);
    assert.equal(agent.state.pause?.reason, 'auth');
    assert.match(agent.state.pause?.detail ?? '', /^revoked during the mailbox account check$/);
    assert.match(agent.alerts[0]?.subject ?? '', /lost access to the mailbox/);
    assert.equal(agent.connection.state, 'not connected', 'a refused grant is no account left to confirm');
    assert.equal(agent.connection.retryDue, false);
    assert.deepEqual(agent.connection.missingSecrets, []);
  });

  test('a grant for another account stored while connected is not used: the connection drops unpaused, and the next connect refuses it', async () => {
    const own = await emulatorFor('agent@acme.example');
    const other = await emulatorFor('someone@personal.example');
    const agent = await bed(configFor('agent@acme.example'), own);
    await agent.connection.connect();
    await agent.connection.loop?.tick();
    assert.equal(connectedKind(agent.connection), 'gmail');

    // Another writer stores a grant for another account; the agent's access token runs out.
    agent.store(other);
    own.invalidateAccessTokens();
    await agent.connection.loop?.tick();
    assert.equal(agent.connection.connectors, null);
    assert.equal(agent.connection.loop, null);
    assert.equal(agent.links(), null, 'nothing can be sent meanwhile');
    assert.equal(agent.connection.state, 'account unconfirmed');
    assert.equal(agent.connection.retryDue, true, 'the next round connects again');
    assert.equal(agent.state.pause, null, 'no refused credential: no pause');
    assert.equal(agent.alerts.length, 0);
    assert.deepEqual((await agent.audit.read()).filter((record) => record.action_type === 'auth_failure'), []);
    assert.deepEqual(apiCalls(other), [], 'the other account was not touched');

    await agent.connection.connect();
    assert.equal(agent.connection.state, 'wrong account');
    assert.deepEqual(apiCalls(other), ['GET /gmail/v1/users/me/profile'], 'only its account was asked');
    assert.equal(pauseReason(agent.state), 'auth');
  });

  test('a grant for the same account stored while connected is checked at the next connect, and work goes on with it', async () => {
    const own = await emulatorFor('agent@acme.example');
    const agent = await bed(configFor('agent@acme.example'), own);
    await agent.connection.connect();
    await agent.connection.loop?.tick();
    const refreshes = () => own.requests.filter((request) => request.path === '/token').length;

    agent.store(own);
    own.invalidateAccessTokens();
    await agent.connection.loop?.tick();
    assert.equal(agent.connection.state, 'account unconfirmed');
    assert.equal(agent.state.pause, null);
    const before = own.requests.length;
    await agent.connection.connect();
    assert.equal(connectedKind(agent.connection), 'gmail');
    const since = own.requests.slice(before).filter((request) => request.path !== '/token');
    assert.deepEqual(since.map((request) => `${request.method} ${request.path}`), ['GET /gmail/v1/users/me/profile'], 'its account asked first');
    const refreshed = refreshes();
    own.invalidateAccessTokens();
    await agent.connection.loop?.tick();
    assert.equal(agent.connection.state, 'connected', 'its own refreshes do not drop it');
    assert.equal(refreshes(), refreshed + 1);
    assert.equal(agent.state.pause, null);
  });
});
