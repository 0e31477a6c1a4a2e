import { answerWithin } from '@agent-fleet/kernel/answer-within';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { normaliseAddress } from '@agent-fleet/kernel/email-address';
import type { Logger } from '@agent-fleet/kernel/logger';
import { GrantReplacedError, ProviderAuthError } from '../../ports/mail-provider.ts';
import type { SecretSource, VersionedSecret } from '../../ports/secret-source.ts';
import { openCrmLink } from '../mail-loop/crm-link.ts';
import { MailLoop } from '../mail-loop/mail-loop.ts';
import { MailMemoryBudget } from '../mail-loop/mail-memory-budget.ts';
import type { RetryOptions } from '../mail-loop/provider-retry.ts';
import type { Outbox } from '../outbox/outbox.ts';
import type { AgentStateStore } from './agent-state-store.ts';
import type { ApprovalStore } from './approval-store.ts';
import type { ConnectorFactory, Connectors } from './connectors.ts';
import type { KillSwitch } from './kill-switch.ts';
import { killGuardedConnectors } from './kill-guarded-providers.ts';
import { MailSendReceipts, type KnownDraft } from './mail-send-receipts.ts';
import type { RuntimeContext } from './runtime-context.ts';
import type { SendPipeline } from './send-pipeline.ts';

export interface MailboxConnectionOptions {
  config: ClientConfig;
  factory: ConnectorFactory;
  /** The secret source in use (a rotation replaces it). */
  source: () => SecretSource;
  context: RuntimeContext;
  pipeline: SendPipeline;
  outbox: Outbox;
  approvals: ApprovalStore;
  state: AgentStateStore;
  kill: KillSwitch;
  logger: Logger;
  now: () => Date;
  /** Messages processed at once. Default 4. */
  concurrency?: number;
  retry?: Partial<RetryOptions>;
  /** How long a connect waits for the provider to say which account the grant opens. Default 5 s. */
  accountCheckMs?: number;
  onAuthFailure: (error: ProviderAuthError, where: string) => Promise<void>;
  /** Told of each new connection (push watches follow the provider). */
  onConnected: (connectors: Connectors) => void;
}

/** How much of an address a refusal quotes, in characters (the reason stays one bounded line). */
const ADDRESS_CHARS = 64;
/**
 * The first connect answers the orchestrator's introduction, which waits 15 s for all of the agent's start:
 * a provider slow to say which account the grant opens (its calls may take 30 s and retry) must leave the
 * account unconfirmed for the next round, not fail the provisioning that introduced the agent.
 */
const ACCOUNT_CHECK_MS = 5_000;

/**
 * Where the mailbox connection stands:
 * - `not connected`: not tried yet, or the stored grant was refused (the auth pause says so);
 * - `missing secrets`: secrets it needs are not stored yet (`missingSecrets` names them; retried each round);
 * - `account unconfirmed`: the provider could not be asked which account the grant opens, or a grant
 *   another writer stored replaced the checked one (GrantReplacedError); retried each round;
 * - `wrong account`: the grant opens another mailbox than the config's (`refusedAccount` says why; paused);
 * - `connected`: the mail loop works the mailbox.
 */
export type MailboxConnectionState = 'not connected' | 'missing secrets' | 'account unconfirmed' | 'wrong account' | 'connected';

/**
 * The client's mailbox and model as the agent's secrets allow: built on `connect` (and again after a
 * resume or revive), with the send side the outbox uses and the mail loop that works the inbox. Idle,
 * naming the missing secrets, while they are not stored yet. Idle too, and paused, when the stored
 * grant opens another mailbox than the config's `mailbox:` (checked at every connect, so a grant stored
 * since is checked before it is used): nothing is read, drafted or sent in a mailbox nobody configured.
 */
export class MailboxConnection {
  private readonly options: MailboxConnectionOptions;
  /** The agent's memory for mail: the mail loop's workers and the approval views read mail through it, across reconnects. */
  readonly memory = new MailMemoryBudget();
  private connected: Connectors | null = null;
  private sendSide: MailSendReceipts | null = null;
  private mailLoop: MailLoop | null = null;
  private current: MailboxConnectionState = 'not connected';
  private missing: string[] = [];
  private wrongAccount: string | null = null;

  constructor(options: MailboxConnectionOptions) {
    this.options = options;
  }

  get connectors(): Connectors | null {
    return this.connected;
  }

  /** The outbox's provider side; null while nothing is connected. */
  get receipts(): MailSendReceipts | null {
    return this.sendSide;
  }

  get loop(): MailLoop | null {
    return this.mailLoop;
  }

  get state(): MailboxConnectionState {
    return this.current;
  }

  /** True while idle for a reason the next round retries by itself: secrets not stored, or the account not confirmed. */
  get retryDue(): boolean {
    return this.current === 'missing secrets' || this.current === 'account unconfirmed';
  }

  /** The secrets the last attempt found not stored (empty otherwise); the next round tries again. */
  get missingSecrets(): readonly string[] {
    return this.missing;
  }

  /** Why the last attempt refused the stored grant (it opens another mailbox than the config's), or null. */
  get refusedAccount(): string | null {
    return this.wrongAccount;
  }

  /** (Re)reads the secrets and builds the mailbox and model connectors; idle when secrets are missing. */
  async connect(): Promise<void> {
    const { options } = this;
    const secrets = await options.source().readSecrets();
    // The connectors outlive a rotation: what they store (a refreshed OAuth token) goes through the token
    // in use when they store it, never the one they were built with, which the rotation revoked.
    const source = currentSource(options.source);
    const made = await options.factory({ config: options.config, secrets, source, logger: options.logger });
    if ('missing' in made) {
      this.disconnect('missing secrets', { missing: made.missing });
      options.logger.info('no provider connected; the agent is idle', { missing: made.missing });
      return;
    }
    // Before anything else touches the mailbox (the outbox's recovery reads and sends): is it the client's?
    if (!(await this.accountConfirmed(made))) return;
    // Every provider write the agent makes checks the kill switch at the call (the push watch keeps the
    // raw provider: a kill must still be able to unwatch).
    const built = killGuardedConnectors(made, options.kill);
    this.current = 'connected';
    this.missing = [];
    this.wrongAccount = null;
    this.connected = built;
    const receipts = new MailSendReceipts({
      provider: built.provider,
      draftFor: (key) => this.draftFor(key),
      beforeWrite: (what) => options.kill.assertAlive(what),
      now: options.now,
    });
    // Intents left pending by a crash are reconciled with the provider before anything new is sent.
    await options.outbox.recover(receipts);
    this.sendSide = receipts;
    // The CRM never holds up mail: without its secret (or grant) CRM work is simply off.
    const crm = built.crm === null ? null : await openCrmLink({ context: options.context, connector: built.crm, source: options.source });
    options.pipeline.attach({ mail: built.provider, calendar: built.calendar, crm });
    this.mailLoop = new MailLoop({
      context: options.context,
      pipeline: options.pipeline,
      provider: built.provider,
      llm: built.llm,
      calendar: built.calendar,
      crm,
      providerKind: built.providerKind,
      onAuthFailure: (error, where) => this.onLoopAuthFailure(built, error, where),
      concurrency: options.concurrency ?? 4,
      memory: this.memory,
      ...(options.retry === undefined ? {} : { retry: options.retry }),
    });
    options.onConnected(made);
  }

  /**
   * The mail loop's authentication failures go to the runtime (pause, alert), except a replaced grant:
   * that connection is dropped, unpaused, and the next round builds it again and checks the account.
   * One from a connection already replaced (a worker still finishing) changes nothing.
   */
  private async onLoopAuthFailure(from: Connectors, error: ProviderAuthError, where: string): Promise<void> {
    if (!(error instanceof GrantReplacedError)) return this.options.onAuthFailure(error, where);
    if (this.connected !== from) return;
    this.options.logger.info('another grant was stored for the mailbox; the agent connects again and checks its account next round', { where });
    this.disconnect('account unconfirmed');
  }

  /** Nothing connected: no mail loop, no send side, nothing attached to the pipeline. */
  private disconnect(state: Exclude<MailboxConnectionState, 'connected'>, why: { missing?: string[]; wrongAccount?: string } = {}): void {
    this.connected = null;
    this.sendSide = null;
    this.mailLoop = null;
    this.options.pipeline.attach(null);
    this.current = state;
    this.missing = why.missing ?? [];
    this.wrongAccount = why.wrongAccount ?? null;
  }

  /**
   * True when the mailbox the grant opens is the config's `mailbox:` (or either is unknown: a config that
   * names none, a provider that cannot tell). Otherwise the agent stays idle: paused for another account,
   * or retried next round when the provider could not be asked (a refused grant is reported as the
   * mail loop reports one).
   */
  private async accountConfirmed(made: Connectors): Promise<boolean> {
    const { options } = this;
    const configured = options.config.mailbox === undefined ? undefined : normaliseAddress(options.config.mailbox);
    if (configured === undefined || made.provider.mailboxAccount === undefined) return true;
    let account: string;
    try {
      const waitMs = options.accountCheckMs ?? ACCOUNT_CHECK_MS;
      account = await answerWithin(made.provider.mailboxAccount(), waitMs, `the mailbox account check had no answer within ${Math.round(waitMs / 1000)} s`);
    } catch (error) {
      if (error instanceof FleetError && error.code === 'killed') throw error;
      // Another grant stored since this connection read its secrets: the next round reads and checks it.
      if (error instanceof GrantReplacedError) {
        this.disconnect('account unconfirmed');
        return false;
      }
      if (error instanceof ProviderAuthError) {
        this.disconnect('not connected');
        await options.onAuthFailure(error, 'the mailbox account check');
        return false;
      }
      // Told once when it starts, not every round while the provider stays unreachable.
      if (this.current !== 'account unconfirmed') options.logger.warn('the mailbox account could not be read; the agent is idle until a round can read it', { error });
      this.disconnect('account unconfirmed');
      return false;
    }
    if (account === configured) return true;
    const reason = wrongAccountReason(made.providerKind, account, configured, options.config.client);
    this.disconnect('wrong account', { wrongAccount: reason });
    options.logger.error('the stored grant opens another mailbox than the config names; the agent will not act', { provider: made.providerKind });
    await options.onAuthFailure(new ProviderAuthError('wrong_account', reason), 'connect');
    return false;
  }

  /** The draft already in the mailbox for an idempotency key (an approval's or a message's reply), with the message it answers. */
  private draftFor(key: string): KnownDraft | null {
    const { approvals, state, now } = this.options;
    for (const entry of approvals.list(now())) {
      if (entry.idempotencyKey === key && entry.draftId !== null) return { draftId: entry.draftId, inReplyTo: entry.messageId };
    }
    for (const { id, progress } of state.unfinished()) {
      if (progress.key === key && progress.draftId !== undefined) return { draftId: progress.draftId, inReplyTo: id };
    }
    return null;
  }
}

/** The refusal an on-call engineer and the client's admins act on: one bounded line naming both accounts. */
export function wrongAccountReason(kind: Connectors['providerKind'], account: string, configured: string, client: string): string {
  const provider = kind === 'gmail' ? 'Gmail' : 'Outlook';
  return `the connected ${provider} account is ${bounded(account)}, but this client's mailbox is ${bounded(configured)}: connect again with fleet connect ${client}`;
}

function bounded(address: string): string {
  return address.length <= ADDRESS_CHARS ? address : `${address.slice(0, ADDRESS_CHARS - 1)}…`;
}

/** A SecretSource that is always the one `current` returns now (the agent's, which a rotation replaces). */
function currentSource(current: () => SecretSource): SecretSource {
  return {
    start: () => current().start(),
    readSecrets: () => current().readSecrets(),
    readSecretData: (name) => current().readSecretData(name),
    writeSecret: (name, value, options) => current().writeSecret(name, value, options),
    // Offered when the source offers it (every Vault-backed one does; a test double may not).
    ...(current().readSecretVersion === undefined ? {} : { readSecretVersion: (name: string) => readVersion(current(), name) }),
    dataKey: () => current().dataKey(),
    get revoked() {
      return current().revoked;
    },
    onRevoked: (listener) => current().onRevoked(listener),
    stop: () => current().stop(),
  };
}

function readVersion(source: SecretSource, name: string): Promise<VersionedSecret | null> {
  if (source.readSecretVersion === undefined) throw new FleetError('internal', 'the secret source in use reads no secret versions');
  return source.readSecretVersion(name);
}
