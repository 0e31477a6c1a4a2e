import { join } from 'node:path';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AnchorDocument } from '@agent-fleet/kernel/journal-anchor';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { ApprovalStatus } from '../../domain/approval.ts';
import { killSwitch } from '../../domain/audit-events.ts';
import { AUDIT_VERDICT_FILE, AuditVerdictMemo } from '../../observability/audit-verdict-memo.ts';
import type { AuditCheckpoint } from '../../domain/audit-record.ts';
import type { ChainVerification } from '../../domain/audit-chain.ts';
import { LiveSettings } from '../settings/settings-source.ts';
import type { SecretSource } from '../../ports/secret-source.ts';
import type { AuditExportFormat } from '@agent-fleet/kernel/audit-export-format';
import type { AuditRange } from '../audit-log/audit-log.ts';
import type { DailySummary } from '../daily-summary/daily-summary.ts';
import type { MailNotification } from '../mail-watch/mail-notification.ts';
import { PushSync } from '../mail-watch/push-sync.ts';
import { resolveReview, reviewQueueReading } from '../mail-loop/review-queue.ts';
import type { LoopReport } from '../mail-loop/mail-loop.ts';
import type { StoredApproval } from './approval-store.ts';
import type { ClientViews, ControlApi, DecisionInput, IntroduceInput, MailNotificationInput, RuntimeLifecycle, RuntimeStatus } from './control-api.ts';
import { closeVolume } from './close-volume.ts';
import { ControlTokenAuth } from './control-auth.ts';
import { Introductions } from './introductions.ts';
import { KillSwitch } from './kill-switch.ts';
import { openVolume, type OpenedAgent } from './open-volume.ts';
import type { AgentRuntimeOptions } from './runtime-options.ts';
import { runtimePaths } from './runtime-paths.ts';
import { runtimeStatus } from './runtime-status.ts';
import { ACCEPT_VOLUME_COMMAND } from './volume-journals.ts';
import { runWorkRound } from './work-round.ts';
import { WorkSchedule } from './work-schedule.ts';

export type { AgentRuntimeOptions } from './runtime-options.ts';

/** How long a stop waits for an introduction whose token is still starting (main.ts exits 5 s after a signal). */
const STOP_WAITS_FOR_INTRODUCTION_MS = 3000;

/**
 * The agent inside a client's container, as a lifecycle (see RuntimeLifecycle): redeems its Vault
 * introduction, opens its encrypted volume (open-volume.ts), connects the mailbox and model from its
 * secrets, and runs rounds of work on timers until killed or stopped. The control API reaches the parts
 * (approval desk, pause control, push sync, control-token auth, audit log) through it.
 */
export class AgentRuntime implements ControlApi {
  private readonly options: AgentRuntimeOptions;
  private readonly now: () => Date;
  private readonly logger: Logger;
  private readonly kill: KillSwitch;
  private readonly settings: LiveSettings;
  private readonly paths: ReturnType<typeof runtimePaths>;
  private readonly auth: ControlTokenAuth;
  private readonly push: PushSync;
  private readonly schedule: WorkSchedule;
  private lifecycleState: RuntimeLifecycle = 'awaiting_introduction';
  private failure: string | null = null;
  private opened: OpenedAgent | null = null;
  /** The first introduction's open while it runs: a stop waits for it, so nothing it opens outlives the stop. */
  private opening: Promise<void> | null = null;
  /** The anchored heads the last refused open was checked against: put back if the next open fails on a reset. */
  private refusedAnchor: AnchorDocument | null = null;
  private vaultRevoked = false;
  private readonly introductions: Introductions;
  private lastSync: Date | null = null;
  readonly reviewQueue: ControlApi['reviewQueue'] = () => this.agent.state.inReview();
  readonly resolveReview: ControlApi['resolveReview'] = (input) => resolveReview({ audit: this.agent.audit, state: this.agent.state, now: this.now }, input);
  readonly clientViews = (): ClientViews => this.agent.views;
  readonly settingsAccess: ControlApi['settingsAccess'] = () => this.agent.settings;
  readonly dailySeries: ControlApi['dailySeries'] = (days) => this.agent.dashboards.dailySeries(days);
  readonly graduation: ControlApi['graduation'] = () => this.agent.dashboards.graduation();

  constructor(options: AgentRuntimeOptions) {
    parseClientId(options.config.client);
    this.options = options;
    this.now = options.now ?? (() => new Date());
    this.logger = options.logger.child({ component: 'agent-runtime' });
    this.paths = runtimePaths(options.dataDir, { placedFilesDir: options.placedFilesDir, vaultSinkFile: options.vaultSinkFile });
    this.kill = new KillSwitch(this.paths.killFlag, this.paths.placedKillFlag === null ? [] : [this.paths.placedKillFlag]);
    this.settings = new LiveSettings(options.config, (error) => this.logger.error('a follower of the settings failed; the version stays applied', { error }));
    this.introductions = new Introductions({
      ...options,
      paths: this.paths,
      awaiting: () => this.lifecycleState === 'awaiting_introduction',
      stopping: () => this.lifecycleState === 'stopped',
      adopt: (source) => this.adopt(source),
      onRevoked: async (reason) => {
        this.vaultRevoked = true;
        await this.opened?.pauses.onVaultRevoked(reason);
      },
      logger: this.logger,
    });
    this.auth = new ControlTokenAuth({ source: () => this.opened?.secrets.current ?? null, revoked: () => this.vaultRevoked, logger: this.logger });
    this.schedule = new WorkSchedule({
      ...options,
      logger: this.logger,
      round: () => this.workRound(),
      sweep: () => this.sweepExpiredApprovals(),
      checkWatch: () => this.push.ensure(),
    });
    this.push = new PushSync({
      ...options,
      logger: this.logger,
      now: this.now,
      sync: () => this.schedule.afterCurrent(),
      stopped: () => this.lifecycleState === 'stopped',
    });
    this.options.metrics.readPushWatchFrom(() => this.push.status);
    this.options.metrics.readJournalAnchorFrom(() => this.opened?.anchors.failingFrom ?? null);
    this.options.metrics.readReviewQueueFrom(() => (this.opened === null ? null : reviewQueueReading(this.opened.state)));
    this.options.metrics.setKilled(this.kill.killed);
    this.options.metrics.rememberAuditVerdicts(
      new AuditVerdictMemo(join(options.dataDir, AUDIT_VERDICT_FILE), (error) => this.logger.warn('the last audit chain verdict could not be kept or read', { error })),
    );
  }

  get lifecycle(): RuntimeLifecycle {
    return this.lifecycleState;
  }

  get clientId(): string {
    return this.options.config.client;
  }

  /** The client config this process started with (the orchestrator's, opened at start; live changes are settings versions). */
  startedConfig(): ClientConfig {
    return this.options.config;
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
    return this.introductions.introduce(input);
  }

  /**
   * Kubernetes with Vault Agent: the token is in the sink file, so the agent introduces itself as soon as
   * the file is there (checked every 2 s until then). A later wrapped introduction still works (rotation).
   */
  introduceFromSinkWhenPresent(retryMs = 2000): void {
    this.introductions.fromSinkWhenPresent(retryMs);
  }

  /** Takes a started secret source: the first one opens the volume; a later one replaces the previous (rotation). */
  private async adopt(source: SecretSource): Promise<void> {
    if (this.stopping) {
      // A stop came while the source was started: it must not open the volume the stop is closing.
      await this.release(source);
      throw new FleetError('conflict', 'the agent is stopping');
    }
    if (this.opened !== null) {
      const previous = this.opened.secrets.current;
      this.opened.secrets.current = source;
      this.vaultRevoked = false;
      await previous.stop();
      // A rotation also mints a new control token: its hash is read with the new Vault token.
      await this.auth.refresh();
      this.logger.info('vault token rotated');
      // The rotation revoked the old token before handing over this one: a pause that revocation raised
      // is over (the connectors store through the new token), and the next round catches up.
      await this.opened.pauses.onVaultRestored();
      return;
    }
    this.lifecycleState = 'starting';
    const opening = this.openOrRelease(source);
    this.opening = opening.catch(() => undefined);
    try {
      await opening;
    } finally {
      this.opening = null;
    }
  }

  private async openOrRelease(source: SecretSource): Promise<void> {
    let opened: boolean;
    try {
      opened = await this.open(source);
    } catch (error) {
      if (this.stopping) {
        this.logger.info('the open of the volume ended with the stop', { error });
      } else {
        const broken = error instanceof FleetError && error.code === 'integrity';
        // A journal that does not decrypt or hash at open is as broken as one that fails verification.
        if (broken) this.options.metrics.setAuditChainValid(false);
        this.lifecycleState = 'failed';
        this.failure = broken ? 'audit_chain_broken' : 'open_failed';
        this.logger.error('the agent could not open its volume', { error });
      }
      await this.release(source);
      throw error;
    }
    if (!opened) await this.release(source);
  }

  /** Set once stop() began: an open still running closes what it opened instead of starting the work. */
  private get stopping(): boolean {
    return this.lifecycleState === 'stopped';
  }

  /**
   * Stops a secret source no volume was opened with: its Vault token revoked and its renewal timers
   * cleared (the next introduction brings its own; the refused one must not live on unused).
   */
  private async release(source: SecretSource): Promise<void> {
    await source.stop().catch((error: unknown) => this.logger.error('stopping the secret source of a failed open failed', { error }));
  }

  /** Opens the volume and starts the work; false when the volume was refused (the agent stays failed). */
  private async open(source: SecretSource): Promise<boolean> {
    const outcome = await openVolume({
      ...this.options,
      source,
      paths: this.paths,
      settings: this.settings,
      kill: this.kill,
      logger: this.logger,
      now: this.now,
      onConnected: (mailbox) => this.push.start(mailbox),
      refusedAnchor: this.refusedAnchor,
    });
    if (!outcome.ok) {
      // A refusal on a reset (its heads put back by openVolume) keeps the heads held before.
      if (outcome.anchor?.kind === 'heads') this.refusedAnchor = outcome.anchor;
      if (this.stopping) return false;
      this.lifecycleState = 'failed';
      this.failure = outcome.rolledBack ? 'journal_rolled_back' : 'audit_chain_broken';
      this.logger.error(
        outcome.rolledBack
          ? `the volume no longer holds the journal heads recorded in Vault; the agent will not act (once the loss is understood: ${ACCEPT_VOLUME_COMMAND})`
          : 'audit chain verification failed; the agent will not act',
        { break: outcome.break },
      );
      return false;
    }
    const agent = outcome.agent;
    this.refusedAnchor = null;
    if (this.stopping) {
      await closeVolume(agent);
      throw new FleetError('conflict', 'the agent stopped while it was opening its volume');
    }
    this.opened = agent;
    try {
      await this.auth.refresh();
      if (!this.kill.killed) await agent.connection.connect();
      if (this.stopping) throw new FleetError('conflict', 'the agent stopped while it was starting');
    } catch (error) {
      // Closed again (its source with it): a volume left open would take the next introduction for a
      // rotation, and the agent would stay failed with its journals open until the container restarts.
      this.opened = null;
      await closeVolume(agent).catch((closeError: unknown) => this.logger.error('closing the volume after a failed start failed', { error: closeError }));
      throw error;
    }
    this.lifecycleState = 'ready';
    this.schedule.start(agent.summary);
    this.logger.info('agent ready', { connection: agent.connection.connectors?.providerKind ?? 'not connected' });
    return true;
  }

  /** Clears a pause (not a kill): audited; re-reads the secrets after an auth pause, then catches up. */
  async resume(by: string, why = 'resumed'): Promise<void> {
    const agent = this.agent;
    const lifted = await agent.pauses.resume(by, why);
    if (lifted === null) return;
    if (lifted.reason === 'auth') await agent.connection.connect();
    else if (agent.connection.receipts !== null) await agent.outbox.recover(agent.connection.receipts);
  }

  async revive(reason: string, by: string): Promise<void> {
    const agent = this.agent;
    if (!this.kill.killed) return;
    // A kill landing while the revive holds what the last one stopped is not released by this revive.
    const seen = this.kill.generation;
    await agent.audit.append(killSwitch('revive', { by, reason }));
    // While the switch is still engaged, so nothing it stopped can go out before it is held; and with no
    // approval decided between the holds and the release (it would run after the revive, never asked again).
    await agent.desk.withoutDecisions(async () => {
      await agent.pipeline.holdStoppedByKill(by);
      await this.kill.release(seen);
    });
    this.options.metrics.setKilled(false);
    await agent.connection.connect();
    if (this.kill.killed) {
      // A kill that came in while the revive connected stands: no work is started again, the watch the
      // connection may have begun is stopped, and the revive is not reported as done.
      void this.push.stop('kill');
      throw new FleetError('conflict', 'the agent was killed again while it was being revived; it stays killed');
    }
    this.schedule.stop();
    this.schedule.start(agent.summary);
    this.logger.warn('kill switch released', { by });
  }

  async killAgent(reason: string, by: string): Promise<void> {
    this.kill.latch();
    this.options.metrics.setKilled(true);
    this.schedule.stop();
    // Both durable (each its own fsync), neither needs the other: at once, so the answer comes sooner.
    await Promise.all([this.opened?.audit.append(killSwitch('kill', { by, reason })), this.kill.engage({ reason, by, at: this.now() })]);
    this.logger.warn('kill switch engaged', { by });
    // Not awaited: unwatching is a provider round trip the kill's answer must not wait for (the notification
    // route closes as it begins; a notification meanwhile finds the latch). The orchestrator's SIGKILL may cut
    // it short: a watch left behind only notifies a stopped agent until it expires, and revive renews it.
    void this.push.stop('kill');
  }

  /** One round of work (see runWorkRound); concurrent calls share one round. */
  tick(): Promise<void> {
    return this.schedule.tick();
  }

  /** A round's mail-pass report, for the schedule to bring the next round forward while a backlog waits. */
  private async workRound(): Promise<LoopReport | null> {
    if (this.kill.killed) {
      this.options.metrics.setKilled(true);
      return null;
    }
    const agent = this.opened;
    if (agent === null || this.lifecycleState !== 'ready') return null;
    const outcome = await runWorkRound(agent, (by, why) => this.resume(by, why));
    if (outcome.synced) {
      this.lastSync = this.now();
      agent.pauses.synced();
    }
    return outcome.pass;
  }

  authenticate(bearer: string | null): Promise<void> {
    return this.auth.authenticate(bearer);
  }

  acceptsGraphValidation(): boolean {
    return this.push.acceptsGraphValidation();
  }

  receiveMailNotification(input: MailNotificationInput): Promise<MailNotification> {
    return this.push.receiveMailNotification(input);
  }

  checkPushToken(token: string | null): void {
    this.push.checkPushToken(token);
  }

  listApprovals(status?: ApprovalStatus): StoredApproval[] {
    return this.agent.desk.listApprovals(status);
  }

  async decide(id: string, input: DecisionInput): Promise<StoredApproval> {
    return this.agent.desk.decide(id, input);
  }

  /** Marks pending approvals past their expiry as expired (see RuntimeApprovalDesk); 0 before introduction. */
  async sweepExpiredApprovals(): Promise<number> {
    return (await this.opened?.desk.sweepExpired()) ?? 0;
  }

  auditHead(): AuditCheckpoint | null {
    return this.agent.audit.head();
  }

  async verifyAudit(checkpoint: AuditCheckpoint | null): Promise<ChainVerification> {
    const result = await this.agent.audit.verify({ checkpoint });
    this.options.metrics.setAuditChainValid(result.ok);
    return result;
  }

  async verifyAuditExtension(anchor: AuditCheckpoint): Promise<ChainVerification> {
    const result = await this.agent.audit.verifyExtension(anchor);
    if (!result.ok) this.options.metrics.setAuditChainValid(false);
    return result;
  }

  exportAudit(format: AuditExportFormat, sink: NodeJS.WritableStream, range: AuditRange): Promise<number> {
    return this.agent.audit.exportTo(format, sink, range);
  }

  status(): RuntimeStatus {
    return runtimeStatus({
      client: this.clientId,
      lifecycle: this.lifecycleState,
      killed: this.kill.killed,
      dryRun: this.settings.current().config.dryRun,
      agent: this.opened,
      vaultRevoked: this.vaultRevoked,
      lastSync: this.lastSync,
      push: this.push.status,
      now: this.now(),
    });
  }

  /** The daily summary service (to send one now, or read its report). Throws before introduction. */
  get summary(): DailySummary {
    return this.agent.summary;
  }

  /** The opened volume's parts; FleetError('unavailable') before the introduction opened it. */
  private get agent(): OpenedAgent {
    if (this.opened === null) throw new FleetError('unavailable', 'the agent is not introduced yet');
    return this.opened;
  }

  /**
   * Stops timers, waits for the round in flight, closes the volume and revokes the Vault token. An
   * introduction whose token is still starting is waited for at most `introductionWaitMs` (default
   * 3000, within the 5 s main.ts gives a stop): once started, the token is revoked, not left to expire.
   */
  async stop(limits: { introductionWaitMs?: number } = {}): Promise<void> {
    this.lifecycleState = 'stopped';
    this.schedule.stop();
    await this.schedule.settled();
    await this.push.stop('shutdown');
    const settled = await this.introductions.settled(limits.introductionWaitMs ?? STOP_WAITS_FOR_INTRODUCTION_MS);
    // Past the bound, an open already under way is still waited for below (it releases its own token).
    if (!settled && this.opening === null) {
      this.logger.warn('the stop did not wait for an introduction still starting: its Vault token may outlive the agent until it expires');
    }
    // An open in flight sees the stop and closes what it opened itself (its source with it).
    await this.opening;
    const agent = this.opened;
    this.opened = null;
    if (agent !== null) await closeVolume(agent);
  }
}
