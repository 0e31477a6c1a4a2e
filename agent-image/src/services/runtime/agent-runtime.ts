import { existsSync } from 'node:fs';
import { canonicalJson, sha256Hex } from '@agent-fleet/kernel/canonical-json';
import type { AuditCheckpoint, ChainVerification } from '../../domain/audit-record.ts';
import { approve, approveEdited, expireApproval, reject, type ApprovalResult } from '../../domain/approval.ts';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { compilePolicy, type PolicyEvaluator } from '../../domain/policy/evaluate-policy.ts';
import type { PolicyState } from '../../domain/policy/policy-state.ts';
import { parseProposedAction } from '../../domain/policy/proposed-action.ts';
import { recipientsInWindows } from '../../domain/policy/rate-window.ts';
import type { AgentMetrics } from '../../observability/agent-metrics.ts';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { ProviderAuthError } from '../../ports/mail-provider.ts';
import type { SecretSource } from '../../ports/secret-source.ts';
import type { SendReceipts } from '../../ports/send-receipts.ts';
import { AuditLog, type AuditRange } from '../audit-log/audit-log.ts';
import type { AuditExportFormat } from '../audit-log/audit-export.ts';
import { KeyRing } from '../audit-log/key-ring.ts';
import { DailySummary } from '../daily-summary/daily-summary.ts';
import { parseGmailNotification, parseGraphNotification, type MailNotification } from '../mail-watch/mail-notification.ts';
import { MailWatchKeeper } from '../mail-watch/mail-watch-keeper.ts';
import { pushSettingsFor } from '../mail-watch/push-settings.ts';
import { MailLoop, type LoopReport } from '../mail-loop/mail-loop.ts';
import type { RetryOptions } from '../mail-loop/provider-retry.ts';
import { Outbox } from '../outbox/outbox.ts';
import type { BackoffPolicy } from '../outbox/backoff.ts';
import { AdminNotifier } from './admin-notifier.ts';
import { AgentStateStore, type PauseReason } from './agent-state-store.ts';
import { ApprovalStore, publishApprovalGauges, type StoredApproval } from './approval-store.ts';
import type { ConnectorFactory, Connectors, SecretSourceFactory } from './connectors.ts';
import { controlTokenMatches, isSha256Hex } from './control-token.ts';
import { KillSwitch } from './kill-switch.ts';
import { MailSendReceipts } from './mail-send-receipts.ts';
import type { RuntimeContext } from './runtime-context.ts';
import { runtimePaths } from './runtime-paths.ts';
import { SendPipeline } from './send-pipeline.ts';

/**
 * Lifecycle: awaiting_introduction (serves /healthz only) → starting (introduction redeemed, opening the
 * volume) → ready (audit chain verified; working, or idle when no provider is connected) | failed (the
 * audit chain is broken or the volume cannot be opened: nothing runs) → stopped.
 */
export type RuntimeLifecycle = 'awaiting_introduction' | 'starting' | 'ready' | 'failed' | 'stopped';

export interface AgentRuntimeOptions {
  config: ClientConfig;
  /** The client's volume, e.g. /data. */
  dataDir: string;
  logger: Logger;
  metrics: AgentMetrics;
  secretSource: SecretSourceFactory;
  connectors: ConnectorFactory;
  /** VAULT_ADDR from the environment; an introduction may name another. */
  vaultAddr?: string;
  /** AGENT_PLACED_FILES_DIR: read-only files the orchestrator placed (Kubernetes), e.g. its kill flag. */
  placedFilesDir?: string | undefined;
  /** AGENT_VAULT_SINK_FILE: the token file Vault Agent keeps current (Kubernetes); see `introduceFromSinkWhenPresent`. */
  vaultSinkFile?: string | undefined;
  now?: () => Date;
  /** Mailbox sync period, ms. Default 60 000. 0 disables the timer (tests call `tick`). */
  syncIntervalMs?: number;
  /** Approval expiry sweep period, ms. Default 60 000. 0 disables the timer. */
  sweepIntervalMs?: number;
  /** Messages processed at once. Default 4. */
  concurrency?: number;
  /** Backoff for reads, drafts and model calls. */
  retry?: Partial<RetryOptions>;
  /** Backoff of the outbox's sends. */
  sendBackoff?: Partial<BackoffPolicy>;
  /** Schedule the daily summary. Default true. */
  scheduleSummary?: boolean;
  /** How often the push watch is checked for renewal (and failed calls retried), ms. Default 60 000. 0 disables. */
  watchCheckIntervalMs?: number;
  /** Delay that coalesces a burst of push notifications into one sync, ms. Default 250. */
  notificationDebounceMs?: number;
  /** Backoff of failed watch calls, ms. Default 30 s doubling to one hour. */
  watchBackoff?: { baseMs: number; maxMs: number };
}

/** A push notification as the control API received it (untrusted). */
export interface MailNotificationInput {
  body: unknown;
  /** The `token` query parameter of the push URL (Gmail Pub/Sub push). */
  token: string | null;
}

export interface IntroduceInput {
  wrappingToken: string;
  vaultAddr?: string;
  creationPath: string;
}

export type DecisionInput =
  | { decision: 'approve'; by: string }
  | { decision: 'edit'; by: string; arguments: unknown }
  | { decision: 'reject'; by: string; reason?: string };

export interface RuntimeStatus {
  client: string;
  lifecycle: RuntimeLifecycle;
  ready: boolean;
  killed: boolean;
  paused: PauseReason | null;
  pausedSince: string | null;
  dryRun: boolean;
  connection: string;
  vault: 'not_introduced' | 'ok' | 'revoked';
  pendingApprovals: number;
  lastSync: string | null;
  messages: Record<string, number>;
  outbox: { pending: number; held: number; sent: number };
  auditHead: AuditCheckpoint | null;
  /** Push notifications: off, or the current watch's expiry (null while none is active). */
  push: { enabled: boolean; expiresAt: string | null };
}

/** Everything that exists only after the introduction (the data key opens the volume). */
interface Opened {
  source: SecretSource;
  audit: AuditLog;
  state: AgentStateStore;
  approvals: ApprovalStore;
  outbox: Outbox;
  context: RuntimeContext;
  pipeline: SendPipeline;
  notifier: AdminNotifier;
  summary: DailySummary;
  controlHash: string | null;
  connectors: Connectors | null;
  receipts: SendReceipts | null;
  loop: MailLoop | null;
  missingSecrets: string[];
}

const CONTROL_SECRET = 'control';
const CONTROL_REREAD_MS = 5000;
const AUTH_FAILURES_BEFORE_PAUSE = 3;
const PUSH_SECRET = 'push';
const WATCH_STOP_TIMEOUT_MS = 5000;

/**
 * The agent inside a client's container: redeems its Vault introduction, opens its encrypted volume
 * (audit log, outbox, state), verifies the audit chain, connects the mailbox and model from its
 * secrets, and runs the mail loop, the approval sweep and the daily summary. The control API calls the
 * public methods; every decision, kill, resume and config change is audited.
 */
export class AgentRuntime {
  private readonly options: AgentRuntimeOptions;
  private readonly now: () => Date;
  private readonly logger: Logger;
  private readonly metrics: AgentMetrics;
  private readonly kill: KillSwitch;
  private readonly gate: PolicyEvaluator;
  private readonly paths: ReturnType<typeof runtimePaths>;
  private lifecycleState: RuntimeLifecycle = 'awaiting_introduction';
  private failure: string | null = null;
  private opened: Opened | null = null;
  private vaultRevoked = false;
  private introductions: Promise<void> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private ticking: Promise<void> | null = null;
  private lastSync: Date | null = null;
  private consecutiveAuthFailures = 0;
  private lastControlRead = 0;
  private watchKeeper: MailWatchKeeper | null = null;
  private pushSync: NodeJS.Timeout | null = null;

  constructor(options: AgentRuntimeOptions) {
    parseClientId(options.config.client);
    this.options = options;
    this.now = options.now ?? (() => new Date());
    this.logger = options.logger.child({ component: 'agent-runtime' });
    this.metrics = options.metrics;
    this.paths = runtimePaths(options.dataDir, { placedFilesDir: options.placedFilesDir, vaultSinkFile: options.vaultSinkFile });
    this.kill = new KillSwitch(this.paths.killFlag, this.paths.placedKillFlag === null ? [] : [this.paths.placedKillFlag]);
    this.gate = compilePolicy(options.config);
    this.metrics.setKilled(this.kill.killed);
  }

  get lifecycle(): RuntimeLifecycle {
    return this.lifecycleState;
  }

  get clientId(): string {
    return this.options.config.client;
  }

  /** The creation path a genuine introduction for this client carries. */
  get expectedCreationPath(): string {
    return `auth/token/create/fleet-${this.options.config.client}`;
  }

  readiness(): { ready: true } | { ready: false; reason: string } {
    if (this.lifecycleState === 'ready') return { ready: true };
    if (this.lifecycleState === 'failed') return { ready: false, reason: this.failure ?? 'failed' };
    return { ready: false, reason: this.lifecycleState === 'awaiting_introduction' ? 'not_introduced' : this.lifecycleState };
  }

  /**
   * Redeems an introduction. The first one opens the volume and starts the work; a later one replaces
   * the Vault token (rotation) and revokes the old one. Serialised: one introduction at a time.
   */
  introduce(input: IntroduceInput): Promise<void> {
    const run = this.introductions.then(() => this.doIntroduce(input));
    this.introductions = run.catch(() => undefined);
    return run;
  }

  private async doIntroduce(input: IntroduceInput): Promise<void> {
    if (this.lifecycleState === 'stopped') throw new FleetError('conflict', 'the agent is stopping');
    if (input.creationPath !== this.expectedCreationPath) {
      throw new FleetError('forbidden', `introduction must come from ${this.expectedCreationPath}`);
    }
    const vaultAddr = input.vaultAddr ?? this.options.vaultAddr;
    if (vaultAddr === undefined) throw new FleetError('invalid_input', 'no Vault address: set VAULT_ADDR or send vaultAddr');
    await this.adopt(this.options.secretSource({ vaultAddr, wrappingToken: input.wrappingToken, wrappedKeyFile: this.paths.wrappedKey }));
  }

  /**
   * Kubernetes with Vault Agent: the token is in the sink file, so the agent introduces itself as soon as
   * the file is there (checked every 2 s until then). A later wrapped introduction still works (rotation).
   */
  introduceFromSinkWhenPresent(retryMs = 2000): void {
    const file = this.paths.vaultSinkFile;
    const vaultAddr = this.options.vaultAddr;
    if (file === null || vaultAddr === undefined) return;
    const attempt = (): void => {
      if (this.lifecycleState !== 'awaiting_introduction') return;
      if (!existsSync(file)) {
        setTimeout(attempt, retryMs).unref();
        return;
      }
      const run = this.introductions.then(() =>
        this.lifecycleState === 'awaiting_introduction'
          ? this.adopt(this.options.secretSource({ vaultAddr, tokenFile: file, wrappedKeyFile: this.paths.wrappedKey }))
          : undefined,
      );
      this.introductions = run.catch(() => undefined);
      run.catch((error: unknown) => {
        this.logger.warn('introduction from the Vault Agent token file failed; retrying', { error });
        if (this.lifecycleState === 'awaiting_introduction') setTimeout(attempt, retryMs).unref();
      });
    };
    attempt();
  }

  /** Starts a secret source: the first one opens the volume; a later one replaces the previous (rotation). */
  private async adopt(source: SecretSource): Promise<void> {
    if (this.lifecycleState === 'stopped') throw new FleetError('conflict', 'the agent is stopping');
    await source.start();
    source.onRevoked((reason) => {
      this.onVaultRevoked(reason).catch((error: unknown) => this.logger.error('handling the vault revocation failed', { error }));
    });
    if (this.opened !== null) {
      const previous = this.opened.source;
      this.opened.source = source;
      this.vaultRevoked = false;
      await previous.stop();
      // A rotation also mints a new control token: its hash is read with the new Vault token.
      await this.readControlHash();
      this.logger.info('vault token rotated');
      return;
    }
    this.lifecycleState = 'starting';
    try {
      await this.open(source);
    } catch (error) {
      this.lifecycleState = 'failed';
      this.failure = error instanceof FleetError && error.code === 'integrity' ? 'audit_chain_broken' : 'open_failed';
      this.logger.error('the agent could not open its volume', { error });
      throw error;
    }
  }

  private async open(source: SecretSource): Promise<void> {
    const { config } = this.options;
    const keys = KeyRing.single(source.dataKey());
    const audit = await AuditLog.open({ directory: this.paths.audit, keys, now: this.now, logger: this.logger });
    const verification = await audit.verify();
    this.metrics.setAuditChainValid(verification.ok);
    if (!verification.ok) {
      await audit.close();
      this.lifecycleState = 'failed';
      this.failure = 'audit_chain_broken';
      this.logger.error('audit chain verification failed; the agent will not act', { break: verification.break });
      return;
    }
    const state = await AgentStateStore.open({ directory: this.paths.state, keys, now: this.now });
    const approvals = await ApprovalStore.open({ directory: this.paths.state, keys, now: this.now });
    const outbox = await Outbox.open({
      directory: this.paths.outbox,
      keys,
      audit,
      now: this.now,
      logger: this.logger,
      ...(this.options.sendBackoff === undefined ? {} : { backoff: this.options.sendBackoff }),
      onPause: (reason) => {
        this.metrics.authFailure();
        this.pause('auth', `send refused: ${reason}`).catch((error: unknown) => this.logger.error('pause failed', { error }));
      },
    });
    let opened: Opened | null = null;
    const context: RuntimeContext = {
      config,
      gate: this.gate,
      state,
      approvals,
      audit,
      outbox,
      metrics: this.metrics,
      kill: this.kill,
      logger: this.logger,
      now: this.now,
      policyState: (): PolicyState => ({ ...state.policy, killed: this.kill.killed }),
      receipts: () => opened?.receipts ?? null,
      pause: (reason, detail) => this.pause(reason, detail),
    };
    const notifier = new AdminNotifier(context);
    opened = {
      source,
      audit,
      state,
      approvals,
      outbox,
      context,
      pipeline: new SendPipeline(context),
      notifier,
      summary: new DailySummary({ config, audit, notifier, logger: this.logger, now: this.now }),
      controlHash: null,
      connectors: null,
      receipts: null,
      loop: null,
      missingSecrets: [],
    };
    this.opened = opened;
    this.metrics.setPaused(state.pause !== null);
    this.metrics.setRateLimitPerHour(config.rateLimits.perHour);
    publishApprovalGauges(this.metrics, approvals, this.now());
    await this.auditConfig(audit);
    await this.readControlHash();
    if (!this.kill.killed) await this.connect();
    this.lifecycleState = 'ready';
    this.startTimers();
    this.logger.info('agent ready', { connection: opened.connectors?.providerKind ?? 'not connected' });
  }

  /** A config different from the last one the log saw is recorded as a config change. */
  private async auditConfig(audit: AuditLog): Promise<void> {
    const hash = sha256Hex(canonicalJson(JSON.parse(JSON.stringify(this.options.config)) as unknown));
    let last: string | null = null;
    for await (const record of audit.records()) {
      if (record.action_type === 'config_change' && typeof record.parameters['config_hash'] === 'string') last = record.parameters['config_hash'];
    }
    if (last === hash) return;
    await audit.append({
      action_type: 'config_change',
      actor: 'system',
      target: 'client-config',
      parameters: { config_hash: hash, previous_hash: last, dry_run: this.options.config.dryRun },
      approval_status: 'not_required',
      approved_by: null,
      result: 'success',
    });
  }

  private async readControlHash(): Promise<void> {
    const opened = this.opened;
    if (opened === null || this.vaultRevoked) return;
    this.lastControlRead = Date.now();
    const data = await opened.source.readSecretData(CONTROL_SECRET);
    let hash = data?.['token_sha256'];
    // Also accepted: the hash stored as the secret's `value` (the store's generic write form).
    if (hash === undefined && typeof data?.['value'] === 'string') {
      const value = data['value'].trim();
      if (isSha256Hex(value)) hash = value;
      else {
        try {
          const inner = (JSON.parse(value) as { token_sha256?: unknown }).token_sha256;
          if (typeof inner === 'string') hash = inner;
        } catch {
          hash = undefined;
        }
      }
    }
    opened.controlHash = hash !== undefined && isSha256Hex(hash) ? hash : null;
    if (opened.controlHash === null) this.logger.warn('no control token hash in the secret store yet');
  }

  /**
   * Checks a bearer token against the control token's SHA-256 from the secret store. Before
   * introduction: FleetError('unavailable'). Wrong or missing: FleetError('unauthorized').
   */
  async authenticate(bearer: string | null): Promise<void> {
    const opened = this.opened;
    if (opened === null) throw new FleetError('unavailable', 'the agent is not introduced yet');
    if (opened.controlHash === null && Date.now() - this.lastControlRead > CONTROL_REREAD_MS) {
      await this.readControlHash().catch((error: unknown) => this.logger.warn('reading the control token hash failed', { error }));
    }
    if (bearer === null || opened.controlHash === null || !controlTokenMatches(bearer, opened.controlHash)) {
      throw new FleetError('unauthorized', 'missing or wrong control token');
    }
  }

  /** (Re)reads the secrets and builds the mailbox and model connectors; idle when secrets are missing. */
  private async connect(): Promise<void> {
    const opened = this.required();
    const secrets = await opened.source.readSecrets();
    const built = await this.options.connectors({ config: this.options.config, secrets, source: opened.source, logger: this.logger });
    if ('missing' in built) {
      opened.connectors = null;
      opened.receipts = null;
      opened.loop = null;
      opened.missingSecrets = built.missing;
      this.logger.info('no provider connected; the agent is idle', { missing: built.missing });
      return;
    }
    opened.missingSecrets = [];
    opened.connectors = built;
    const receipts = new MailSendReceipts({
      provider: built.provider,
      draftFor: (key) => this.draftFor(key),
      beforeWrite: (what) => this.kill.assertAlive(what),
      now: this.now,
    });
    // Intents left pending by a crash are reconciled with the provider before anything new is sent.
    await opened.outbox.recover(receipts);
    opened.receipts = receipts;
    opened.loop = new MailLoop({
      context: opened.context,
      pipeline: opened.pipeline,
      provider: built.provider,
      llm: built.llm,
      calendar: built.calendar,
      providerKind: built.providerKind,
      onAuthFailure: (error, where) => this.onProviderAuthFailure(error, where),
      onDraftCreated: (draft) => receipts.remember(draft),
      concurrency: this.options.concurrency ?? 4,
      ...(this.options.retry === undefined ? {} : { retry: this.options.retry }),
    });
    this.startWatch(built);
  }

  /** Push on top of polling, when the config asks for it: watched in the background, never blocking. */
  private startWatch(built: Connectors): void {
    const opened = this.required();
    const settings = pushSettingsFor(this.options.config, built.providerKind);
    if (settings === null) return;
    const previous = this.watchKeeper;
    const keeper = new MailWatchKeeper({
      provider: built.provider,
      settings,
      store: {
        load: async () => (await opened.source.readSecretData(PUSH_SECRET))?.['value'] ?? null,
        save: (value) => opened.source.writeSecret(PUSH_SECRET, value),
      },
      audit: (entry) => opened.audit.append(entry),
      logger: this.logger,
      now: this.now,
      ...(this.options.watchBackoff === undefined ? {} : { backoff: this.options.watchBackoff }),
    });
    this.watchKeeper = keeper;
    // A reconnect (resume, revive) brings a new provider; the stored watch is renewed, not duplicated.
    void (previous === null ? Promise.resolve() : previous.retire()).then(() => keeper.ensure());
  }

  /** Stops the push watch (kill, shutdown), bounded in time: polling never depended on it. */
  private async stopWatch(reason: string): Promise<void> {
    const keeper = this.watchKeeper;
    this.watchKeeper = null;
    if (this.pushSync !== null) clearTimeout(this.pushSync);
    this.pushSync = null;
    if (keeper === null) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([keeper.stop(reason), new Promise<void>((resolve) => (timer = setTimeout(resolve, WATCH_STOP_TIMEOUT_MS)))]);
    clearTimeout(timer);
  }

  /** Whether the route should answer Graph's validation handshake (push configured for Outlook). */
  acceptsGraphValidation(): boolean {
    return this.options.config.provider === 'outlook' && this.options.config.push?.notificationUrl !== undefined;
  }

  /**
   * Takes a push notification: authenticated by the secret only the provider knows (Graph clientState,
   * Gmail push token), then trusted only as "something changed": it schedules a sync of the mailbox.
   * Errors: not_found (push off), unavailable (no watch yet), unauthorized / forbidden, invalid_input.
   */
  async receiveMailNotification(input: MailNotificationInput): Promise<MailNotification> {
    const keeper = this.watchKeeper;
    if (keeper === null) throw new FleetError('not_found', 'push notifications are not enabled for this agent');
    const token = keeper.token;
    if (token === null) throw new FleetError('unavailable', 'no push watch yet');
    const notification =
      this.options.config.provider === 'outlook' ? parseGraphNotification(input.body, token) : parseGmailNotification(input.body, input.token, token);
    if (notification.kind === 'outlook') {
      const current = keeper.current?.id;
      for (const { event, subscriptionId } of notification.lifecycle) {
        this.logger.info('graph lifecycle event', { event });
        // Events about an older subscription only mean "sync"; the current one is what we keep alive.
        if (subscriptionId !== current) continue;
        if (event === 'reauthorizationRequired') void keeper.renewNow();
        if (event === 'subscriptionRemoved') void keeper.recreate();
      }
    }
    this.requestSync();
    return notification;
  }

  /** A debounced sync: a burst of notifications costs one round, run after the round in flight. */
  private requestSync(): void {
    if (this.pushSync !== null || this.lifecycleState === 'stopped') return;
    this.pushSync = setTimeout(() => {
      this.pushSync = null;
      const inFlight = this.ticking ?? Promise.resolve();
      inFlight
        .catch(() => undefined)
        .then(() => this.tick())
        .catch((error: unknown) => this.logger.error('sync after a push notification failed', { error }));
    }, this.options.notificationDebounceMs ?? 250);
    this.pushSync.unref();
  }

  private draftFor(key: string): string | null {
    const opened = this.required();
    for (const entry of opened.approvals.list(this.now())) if (entry.idempotencyKey === key && entry.draftId !== null) return entry.draftId;
    for (const { progress } of opened.state.unfinished()) if (progress.key === key && progress.draftId !== undefined) return progress.draftId;
    return null;
  }

  private startTimers(): void {
    const every = (ms: number | undefined, fallback: number, run: () => Promise<unknown>) => {
      const period = ms ?? fallback;
      if (period <= 0) return;
      const timer = setInterval(() => {
        run().catch((error: unknown) => this.logger.error('periodic task failed', { error }));
      }, period);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.options.syncIntervalMs, 60_000, () => this.tick());
    every(this.options.sweepIntervalMs, 60_000, () => this.sweepExpiredApprovals());
    every(this.options.watchCheckIntervalMs, 60_000, () => this.watchKeeper?.ensure() ?? Promise.resolve());
    if (this.options.scheduleSummary !== false) this.opened?.summary.start();
    if (this.options.syncIntervalMs !== 0) setImmediate(() => void this.tick().catch(() => undefined));
  }

  /**
   * One round of work: resume a rate-limit pause whose window has room, finish sends left pending,
   * run approved sends that waited, then sync and process the mailbox. Concurrent calls share one round.
   */
  tick(): Promise<void> {
    this.ticking ??= this.doTick().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  private async doTick(): Promise<void> {
    const opened = this.opened;
    if (this.kill.killed) {
      this.metrics.setKilled(true);
      return;
    }
    if (opened === null || this.lifecycleState !== 'ready') return;
    const pause = opened.state.pause;
    if (pause?.reason === 'rate_limit' && this.windowHasRoom()) await this.resume('system', 'rate limit window has room again');
    if (opened.receipts !== null && opened.state.pause?.reason !== 'auth') {
      if (opened.outbox.list('pending').length > 0) await opened.outbox.recover(opened.receipts);
      if (opened.state.pause === null) for (const entry of opened.approvals.waitingExecution()) await opened.pipeline.executeApproval(entry);
    }
    // Not connected yet: pick up secrets stored since (`fleet connect`, `fleet secrets set`) without a restart.
    if (opened.loop === null && opened.missingSecrets.length > 0 && opened.state.pause === null) await this.connect();
    const report: LoopReport | null = opened.loop === null ? null : await opened.loop.tick();
    if (report !== null && this.opened?.state.pause?.reason !== 'auth') {
      this.lastSync = this.now();
      this.consecutiveAuthFailures = 0;
    }
  }

  private windowHasRoom(): boolean {
    const usage = recipientsInWindows(this.required().state.policy.sendHistory, this.now().getTime());
    const { perHour, perDay } = this.options.config.rateLimits;
    return usage.lastHour < perHour && usage.lastDay < perDay;
  }

  /** Marks pending approvals past their expiry as expired: audited, counted, never executed. */
  async sweepExpiredApprovals(): Promise<number> {
    const opened = this.opened;
    if (opened === null) return 0;
    const now = this.now();
    let expired = 0;
    for (const entry of opened.approvals.dueForExpiry(now)) {
      const result = expireApproval(entry.record, now);
      if (!result.ok) continue;
      await opened.audit.append({
        action_type: 'approval_expired',
        actor: 'system',
        target: entry.preview.to.join(', ').slice(0, 2000),
        parameters: { approval_id: entry.record.id, expires_at: entry.record.expiresAt, idempotency_key: entry.idempotencyKey },
        approval_status: 'expired',
        approved_by: null,
        result: 'skipped',
      });
      await opened.approvals.put({ ...entry, record: result.record });
      this.metrics.approvalExpired();
      expired++;
    }
    publishApprovalGauges(this.metrics, opened.approvals, now);
    return expired;
  }

  /** Pauses sending (rate limit) or all work (auth): persisted, audited, gauged, admins alerted once. */
  async pause(reason: PauseReason, detail: string): Promise<void> {
    const opened = this.required();
    const current = opened.state.pause;
    if (current !== null && (current.reason === reason || current.reason === 'auth')) return;
    const since = this.now().toISOString();
    await opened.audit.append({
      action_type: 'pause',
      actor: 'system',
      target: reason === 'auth' ? 'agent' : 'sending',
      parameters: { reason, detail: detail.slice(0, 300) },
      approval_status: 'not_required',
      approved_by: null,
      result: 'success',
    });
    await opened.state.setPause({ reason, since });
    this.metrics.setPaused(true);
    this.logger.warn('agent paused', { reason });
    const subject = reason === 'auth' ? 'Your AI assistant lost access to the mailbox and is paused' : 'Your AI assistant reached its sending limit and paused sending';
    const text =
      reason === 'auth'
        ? `The mailbox refused the assistant's credentials (${detail}). Nothing is sent or read until an operator reconnects the mailbox and resumes: fleet resume ${this.clientId}\n`
        : `The assistant reached the configured limit of recipients (${this.options.config.rateLimits.perHour} per hour, ${this.options.config.rateLimits.perDay} per day). Pending emails wait; sending resumes when the window has room again or on: fleet resume ${this.clientId}\n`;
    await opened.notifier.notify('alert', `pause:${reason}:${since}`, subject, text).catch((error: unknown) => {
      this.logger.warn('pause alert not sent now; it waits in the outbox', { error });
    });
  }

  /** Clears a pause (not a kill): audited; re-reads the secrets after an auth pause, then catches up. */
  async resume(by: string, why = 'resumed'): Promise<void> {
    const opened = this.required();
    if (this.kill.killed) throw new FleetError('conflict', 'the agent is killed; a kill is not resumed');
    const pause = opened.state.pause;
    const outboxPaused = opened.outbox.paused !== null;
    if (pause === null && !outboxPaused) return;
    await opened.audit.append({
      action_type: 'resume',
      actor: by === 'system' ? 'system' : `admin:${by}`,
      target: pause?.reason === 'auth' ? 'agent' : 'sending',
      parameters: { reason: pause?.reason ?? 'outbox', detail: why },
      approval_status: 'not_required',
      approved_by: by === 'system' ? null : by,
      result: 'success',
    });
    await opened.state.setPause(null);
    this.metrics.setPaused(false);
    this.consecutiveAuthFailures = 0;
    if (outboxPaused) await opened.outbox.resume(by);
    if (pause?.reason === 'auth' || outboxPaused) await this.connect();
    else if (opened.receipts !== null) await opened.outbox.recover(opened.receipts);
  }

  /** The audit record of an admin pulling (kill) or releasing (revive) the kill switch. */
  private async auditKillSwitch(audit: Opened['audit'], action: 'kill' | 'revive', reason: string, by: string): Promise<void> {
    await audit.append({
      action_type: action,
      actor: `admin:${by}`,
      target: 'agent',
      parameters: { reason: reason.slice(0, 500) },
      approval_status: 'not_required',
      approved_by: by,
      result: 'success',
    });
  }

  /** Undoes a kill: audited, flag removed from the volume, work resumes with the current secrets. */
  async revive(reason: string, by: string): Promise<void> {
    const opened = this.required();
    if (!this.kill.killed) return;
    await this.auditKillSwitch(opened.audit, 'revive', reason, by);
    await this.kill.release();
    this.metrics.setKilled(false);
    await this.connect();
    this.stopTimers();
    this.startTimers();
    this.logger.warn('kill switch released', { by });
  }

  /** Engages the kill switch: latched at once, audited, persisted in the volume; all work stops. */
  async killAgent(reason: string, by: string): Promise<void> {
    this.kill.latch();
    this.metrics.setKilled(true);
    this.stopTimers();
    const opened = this.opened;
    if (opened !== null) await this.auditKillSwitch(opened.audit, 'kill', reason, by);
    await this.kill.engage({ reason, by, at: this.now() });
    // Stopping the watch stops the provider calling us; it finishes (or times out) before the kill returns.
    await this.stopWatch('kill');
    this.logger.warn('kill switch engaged', { by });
  }

  private async onVaultRevoked(reason: string): Promise<void> {
    this.vaultRevoked = true;
    const opened = this.opened;
    if (opened === null) return;
    this.metrics.authFailure('revoked');
    await opened.audit.append({
      action_type: 'auth_failure',
      actor: 'system',
      target: 'secret-store',
      parameters: { source: 'vault', reason: reason.slice(0, 300) },
      approval_status: 'not_required',
      approved_by: null,
      result: 'failure',
    });
    // A revoked Vault token is how the orchestrator's kill arrives: stop, but do not mail anyone.
    if (opened.state.pause?.reason !== 'auth') {
      await opened.audit.append({
        action_type: 'pause',
        actor: 'system',
        target: 'agent',
        parameters: { reason: 'auth', detail: 'secret store revoked the agent token' },
        approval_status: 'not_required',
        approved_by: null,
        result: 'success',
      });
      await opened.state.setPause({ reason: 'auth', since: this.now().toISOString() });
    }
    this.metrics.setPaused(true);
  }

  private async onProviderAuthFailure(error: ProviderAuthError, where: string): Promise<void> {
    const opened = this.required();
    // Revoked consent pages at once; an expired access token or a missing scope is a passing failure.
    this.metrics.authFailure(error.kind === 'revoked' ? 'revoked' : 'transient');
    this.consecutiveAuthFailures++;
    await opened.audit.append({
      action_type: 'auth_failure',
      actor: 'system',
      target: opened.connectors?.providerKind ?? 'provider',
      parameters: { kind: error.kind, where, consecutive: this.consecutiveAuthFailures },
      approval_status: 'not_required',
      approved_by: null,
      result: 'failure',
    });
    // A revoked grant is final; a single 401 is often a token that died early, so only a run of them pauses.
    if (error.kind !== 'invalid_token' || this.consecutiveAuthFailures >= AUTH_FAILURES_BEFORE_PAUSE) {
      await this.pause('auth', `${error.kind} during ${where}`);
    }
  }

  listApprovals(status?: 'pending' | 'approved' | 'edited' | 'rejected' | 'expired'): StoredApproval[] {
    return this.required().approvals.list(this.now(), status);
  }

  /**
   * Decides an approval (only ever called from the authenticated control API). Errors: not_found,
   * conflict (already decided or expired), invalid_input (reject without reason, bad edited arguments).
   * An approval is executed at once when the gate allows it; otherwise it waits (pause, rate limit).
   */
  async decide(id: string, input: DecisionInput): Promise<StoredApproval> {
    const opened = this.required();
    const entry = opened.approvals.get(id);
    if (entry === undefined) throw new FleetError('not_found', `no approval ${id}`);
    const now = this.now();
    const base = { by: input.by, via: 'orchestrator-api', now };
    let result: ApprovalResult;
    if (input.decision === 'approve') result = approve(entry.record, base);
    else if (input.decision === 'reject') result = reject(entry.record, { ...base, reason: input.reason ?? '' });
    else {
      const parsed = parseProposedAction(input.arguments);
      if (!parsed.ok) throw new FleetError('invalid_input', `edited arguments are not a valid action: ${parsed.issues.join('; ')}`);
      result = approveEdited(entry.record, { ...base, arguments: parsed.action });
    }
    if (!result.ok) {
      switch (result.error) {
        case 'not_pending':
        case 'expired':
          throw new FleetError('conflict', `approval ${id} is ${result.error === 'expired' ? 'expired' : 'already decided'}`);
        default:
          throw new FleetError('invalid_input', `cannot decide approval ${id}: ${result.error}`);
      }
    }
    const record = result.record;
    await opened.audit.append({
      action_type: 'approval_decided',
      actor: `admin:${input.by}`,
      target: entry.preview.to.join(', ').slice(0, 2000),
      parameters: {
        approval_id: id,
        decision: input.decision,
        reason: record.decision?.reason ?? null,
        proposed_hash: record.proposedHash,
        approved_hash: record.approvedHash ?? null,
        idempotency_key: entry.idempotencyKey,
      },
      approval_status: record.status === 'edited' ? 'edited' : record.status === 'rejected' ? 'rejected' : 'approved',
      approved_by: record.status === 'rejected' ? null : `admin:${input.by}`,
      result: 'success',
    });
    const decided: StoredApproval = { ...entry, record, execution: record.status === 'rejected' ? 'none' : 'waiting' };
    await opened.approvals.put(decided);
    publishApprovalGauges(this.metrics, opened.approvals, now);
    if (decided.execution === 'waiting' && !this.kill.killed && opened.state.pause === null) await opened.pipeline.executeApproval(decided);
    return opened.approvals.get(id) as StoredApproval;
  }

  auditHead(): AuditCheckpoint | null {
    return this.required().audit.head();
  }

  async verifyAudit(checkpoint: AuditCheckpoint | null): Promise<ChainVerification> {
    const result = await this.required().audit.verify({ checkpoint });
    this.metrics.setAuditChainValid(result.ok);
    return result;
  }

  exportAudit(format: AuditExportFormat, sink: NodeJS.WritableStream, range: AuditRange): Promise<number> {
    return this.required().audit.exportTo(format, sink, range);
  }

  status(): RuntimeStatus {
    const opened = this.opened;
    const now = this.now();
    const outbox = opened?.outbox;
    return {
      client: this.clientId,
      lifecycle: this.lifecycleState,
      ready: this.lifecycleState === 'ready',
      killed: this.kill.killed,
      paused: opened?.state.pause?.reason ?? null,
      pausedSince: opened?.state.pause?.since ?? null,
      dryRun: this.options.config.dryRun,
      connection: opened?.connectors?.providerKind ?? 'not connected',
      vault: opened === null ? 'not_introduced' : this.vaultRevoked ? 'revoked' : 'ok',
      pendingApprovals: opened?.approvals.pendingCount(now) ?? 0,
      lastSync: this.lastSync?.toISOString() ?? null,
      messages: opened?.state.countByStage() ?? {},
      outbox: {
        pending: outbox?.list('pending').length ?? 0,
        held: (outbox?.list('quarantined').length ?? 0) + (outbox?.list('review').length ?? 0),
        sent: outbox?.list('sent').length ?? 0,
      },
      auditHead: opened?.audit.head() ?? null,
      push: { enabled: this.watchKeeper !== null, expiresAt: this.watchKeeper?.current?.expiresAt ?? null },
    };
  }

  /** The daily summary service (to send one now, or read its report). Throws before introduction. */
  get summary(): DailySummary {
    return this.required().summary;
  }

  private required(): Opened {
    if (this.opened === null) throw new FleetError('unavailable', 'the agent is not introduced yet');
    return this.opened;
  }

  private stopTimers(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    this.opened?.summary.stop();
  }

  /** Stops timers, waits for the round in flight, closes the volume and revokes the Vault token. */
  async stop(): Promise<void> {
    this.lifecycleState = 'stopped';
    this.stopTimers();
    await this.ticking?.catch(() => undefined);
    await this.stopWatch('shutdown');
    const opened = this.opened;
    this.opened = null;
    if (opened === null) return;
    await opened.outbox.close();
    await opened.state.close();
    await opened.approvals.close();
    await opened.audit.close();
    await opened.source.stop();
  }
}
