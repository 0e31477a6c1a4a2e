import { canonicalJson } from '@agent-fleet/kernel/canonical-json';
import { type AnchorDocument, type AnchoredHeads } from '@agent-fleet/kernel/journal-anchor';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { ChainBreak } from '../../domain/audit-chain.ts';
import { graduationRows } from '../../domain/graduation.ts';
import type { AgentMetrics } from '../../observability/agent-metrics.ts';
import type { SecretSource } from '../../ports/secret-source.ts';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { AuditLog } from '../audit-log/audit-log.ts';
import { KeyRing } from '../audit-log/key-ring.ts';
import { approvalDecisionsByType, dailySeries, type DashboardsAccess } from '../daily-summary/dashboards.ts';
import { DailySummary } from '../daily-summary/daily-summary.ts';
import type { RetryOptions } from '../mail-loop/provider-retry.ts';
import type { WatchedMailbox } from '../mail-watch/push-sync.ts';
import type { BackoffPolicy } from '../outbox/backoff.ts';
import { Outbox } from '../outbox/outbox.ts';
import { ModelBudget } from '../mail-loop/model-budget.ts';
import { AdminNotifier } from './admin-notifier.ts';
import { AgentStateStore } from './agent-state-store.ts';
import { RuntimeClientViews, type ClientViews } from './client-views.ts';
import { ApprovalStore } from './approval-store.ts';
import { RuntimeApprovalDesk } from './approval-desk.ts';
import type { ConnectorFactory } from './connectors.ts';
import type { KillSwitch } from './kill-switch.ts';
import { JournalAnchorKeeper } from './journal-anchor-keeper.ts';
import { SecretSourceAnchorStore } from './journal-anchor-store.ts';
import { MailboxConnection } from './mailbox-connection.ts';
import { PauseControl } from './pause-control.ts';
import type { RuntimeContext } from './runtime-context.ts';
import type { runtimePaths } from './runtime-paths.ts';
import { SendPipeline } from './send-pipeline.ts';
import { SettingsDesk } from '../settings/settings-desk.ts';
import { SettingsHistory } from '../settings/settings-history.ts';
import type { LiveSettings } from '../settings/settings-source.ts';
import { AUDIT_JOURNAL, checkJournalsHoldAnchors, fileJournal, ROLLBACK_ADVICE, volumeJournals, type VolumeJournal } from './volume-journals.ts';

export interface OpenVolumeInput {
  /** The introduced secret source: its data key opens the volume. */
  source: SecretSource;
  /** The config file read at start: the first settings version, or a new one when ops changed it. */
  config: ClientConfig;
  paths: ReturnType<typeof runtimePaths>;
  /** The settings in force, applied live as versions are made. */
  settings: LiveSettings;
  kill: KillSwitch;
  metrics: AgentMetrics;
  logger: Logger;
  now: () => Date;
  connectors: ConnectorFactory;
  sendBackoff?: Partial<BackoffPolicy> | undefined;
  concurrency?: number | undefined;
  retry?: Partial<RetryOptions> | undefined;
  /** Told of each mailbox connection (push watches follow it). */
  onConnected: (mailbox: WatchedMailbox) => void;
  /** The client portal's origin (AGENT_PORTAL_URL): summaries link each pending approval to its page. */
  portalUrl?: string | undefined;
  /** How often moved journal heads are recorded in Vault, ms (journal-anchor-keeper.ts). Default 5000. */
  anchorIntervalMs?: number | undefined;
  /** Tries of a Vault call at open, and the wait before the second (growing linearly). Default 4 and 1000 ms. */
  anchorRetry?: { attempts: number; delayMs: number } | undefined;
  /**
   * The heads a refused open of this process read (OpenOutcome's `anchor`). When this open finds them
   * replaced by a reset (`fleet audit accept-volume`) and fails before it records its own heads, they are
   * put back: the acceptance is undone, not left half done with the heads it would have checked lost.
   */
  refusedAnchor?: AnchorDocument | null | undefined;
}

/** Everything that exists only once the introduction's data key opened the volume. */
export interface OpenedAgent {
  /** The secret source in use; a rotation replaces `current`. */
  readonly secrets: { current: SecretSource };
  readonly audit: AuditLog;
  /** Records the journals' heads outside the volume (journal-anchor-keeper.ts); flushed at close. */
  readonly anchors: JournalAnchorKeeper;
  readonly state: AgentStateStore;
  readonly approvals: ApprovalStore;
  readonly outbox: Outbox;
  readonly pipeline: SendPipeline;
  readonly summary: DailySummary;
  readonly pauses: PauseControl;
  readonly desk: RuntimeApprovalDesk;
  readonly connection: MailboxConnection;
  /** What the client's admins see and receive through the portal (client-views.ts). */
  readonly views: ClientViews;
  /** The client's settings as versions (settings-desk.ts). */
  readonly settings: SettingsDesk;
  /** The per-day series and graduation the portal shows. */
  readonly dashboards: DashboardsAccess;
  /** Set when a new settings version changes what the connectors are built from: the next round reconnects. */
  readonly reconnect: { pending: boolean };
}

/**
 * A refused volume: its audit chain broken by itself or an anchor that cannot be read (`rolledBack`
 * false), or a volume that verifies by itself but no longer reaches the heads anchored in Vault
 * (`rolledBack` true: cut back, or an older copy put in its place).
 */
export type OpenOutcome =
  | { ok: true; agent: OpenedAgent }
  | {
      ok: false;
      break: ChainBreak;
      rolledBack: boolean;
      /** The anchor the refused volume was checked against (null: none, or one that could not be read). */
      anchor: AnchorDocument | null;
    };

/**
 * Opens the client's volume with the introduction's data key: the audit log (its chain verified first,
 * and, with every other journal, against the heads recorded in Vault: a broken chain or a rolled-back
 * journal opens nothing else), the state and approval stores, the outbox, and the services built
 * on them. Publishes the pause, rate-limit and approval gauges. Connects nothing yet.
 *
 * All or nothing: a refusal, or a failure at any step, closes what the steps before it opened (the secret
 * source stays the caller's to stop). Only a returned agent is left open, for closeVolume.
 */
export async function openVolume(input: OpenVolumeInput): Promise<OpenOutcome> {
  const undoable: UndoableSteps = [];
  let outcome: OpenOutcome;
  try {
    outcome = await openParts(input, undoable);
  } catch (error) {
    await undoSteps(undoable, input.logger);
    throw error;
  }
  if (!outcome.ok) await undoSteps(undoable, input.logger);
  return outcome;
}

/** What an open in progress has done so far that a failure undoes (a store to close, an anchor to put back), in order. */
type UndoableSteps = Array<{ name: string; undo: () => Promise<void> }>;

/** Undoes a failed open's steps, the last first; the open's own error is the one thrown, so these are logged. */
async function undoSteps(undoable: UndoableSteps, logger: Logger): Promise<void> {
  for (const step of undoable.splice(0).reverse()) {
    try {
      await step.undo();
    } catch (error) {
      logger.error('undoing a step of a failed open of the volume failed', { step: step.name, error });
    }
  }
}

/** Puts back the heads a reset replaced, after an open that used the reset failed before recording its own. */
async function putBackAnchor(store: SecretSourceAnchorStore, document: AnchorDocument, logger: Logger): Promise<void> {
  await store.put(document);
  logger.warn('the journal anchor reset was undone: the open that found it failed before recording the volume\'s heads, so the heads anchored before are back', {
    at: document.at,
  });
}

async function openParts(input: OpenVolumeInput, undoable: UndoableSteps): Promise<OpenOutcome> {
  const { config, paths, settings, kill, metrics, logger, now } = input;
  const live = () => settings.current().config;
  const keys = KeyRing.single(input.source.dataKey());
  const secrets = { current: input.source };
  const anchorStore = new SecretSourceAnchorStore(() => secrets.current);
  let anchor: AnchorDocument | null;
  try {
    anchor = await withVaultRetries('read the journal heads recorded in Vault', () => anchorStore.read(), input.anchorRetry);
  } catch (error) {
    if (!(error instanceof FleetError && error.code === 'integrity')) throw error;
    // An anchor that cannot be read is not taken for none (that would accept any volume).
    metrics.setAuditChainValid(false);
    return { ok: false, break: { kind: 'malformed', seq: 0, message: error.message }, rolledBack: false, anchor: null };
  }
  const refused = input.refusedAnchor;
  const undoReset = anchor?.kind === 'reset' && refused?.kind === 'heads' ? { name: 'journal anchor reset', undo: () => putBackAnchor(anchorStore, refused, logger) } : null;
  if (undoReset !== null) undoable.push(undoReset);
  if (anchor?.kind === 'reset') logger.warn('the journal anchor was reset (a restore): the volume is taken as it is and its heads recorded', { reason: anchor.reason, at: anchor.at });
  const heads = anchor?.kind === 'heads' ? anchor.heads : {};
  const audit = await AuditLog.open({ directory: paths.audit, keys, now, logger });
  undoable.push({ name: 'audit log', undo: () => audit.close() });
  const journals = volumeJournals(paths);
  const held = await holdsAnchoredHeads(audit, journals, keys, heads);
  metrics.setAuditChainValid(held.ok);
  if (!held.ok) return { ...held, anchor };
  // Recorded before the stores open, so a compaction at open starts from an anchored head; and a reset
  // is replaced by these heads before anything is acted on.
  const anchors = new JournalAnchorKeeper({
    store: anchorStore,
    journals: [{ name: AUDIT_JOURNAL, head: async () => audit.head() }, ...journals.map((journal) => fileJournal(journal, keys))],
    now,
    logger,
    ...(input.anchorIntervalMs === undefined ? {} : { intervalMs: input.anchorIntervalMs }),
  });
  await withVaultRetries('record the journal heads in Vault', () => anchors.flush(), input.anchorRetry);
  // The reset is used up: the volume's own heads replaced it, so a later failure has no reset to undo.
  if (undoReset !== null) undoable.splice(undoable.indexOf(undoReset), 1);
  const state = await AgentStateStore.open({ directory: paths.state, keys, now });
  undoable.push({ name: 'state store', undo: () => state.close() });
  const approvals = await ApprovalStore.open({ directory: paths.state, keys, now });
  undoable.push({ name: 'approval store', undo: () => approvals.close() });
  const history = await SettingsHistory.open({ directory: paths.state, keys, now });
  const settingsDesk = new SettingsDesk({ history, live: settings, audit, now, logger });
  undoable.push({ name: 'settings', undo: () => settingsDesk.close() });
  await settingsDesk.adoptFile(config);
  // A pause alerts the admins through the outbox, and the outbox raises the pause: bound once both exist.
  let notifier: AdminNotifier | null = null;
  let connection: MailboxConnection | null = null;
  const pauses = new PauseControl({
    get config() {
      return live();
    },
    state,
    audit,
    metrics,
    kill,
    logger,
    now,
    alert: (key, notice) => notifier?.notify('alert', key, notice.subject, notice.text) ?? Promise.resolve('skipped'),
    providerKind: () => connection?.connectors?.providerKind ?? null,
  });
  const sendPause = pauses.sendPause();
  const outbox = await Outbox.open({
    directory: paths.outbox,
    keys,
    audit,
    // Turning `mail.send` off takes effect at once: sends already past the gate wait in the outbox, unsent.
    pause: { ...sendPause, authPause: () => sendPause.authPause() ?? (live().permissions['mail.send'] === true ? null : 'mail.send is not granted') },
    now,
    logger,
    ...(input.sendBackoff === undefined ? {} : { backoff: input.sendBackoff }),
  });
  undoable.push({ name: 'outbox', undo: () => outbox.close() });
  const modelBudget = new ModelBudget({
    get config() {
      return live();
    },
    audit,
    metrics,
    logger,
    now,
    alert: (key, notice) => notifier?.notify('alert', key, notice.subject, notice.text) ?? Promise.resolve('skipped'),
  });
  const context: RuntimeContext = {
    settings,
    get config() {
      return live();
    },
    get gate() {
      return settings.current().gate;
    },
    state,
    approvals,
    audit,
    outbox,
    metrics,
    kill,
    modelBudget,
    logger,
    now,
    policyState: () => ({ ...state.policy, killed: kill.killed }),
    receipts: () => connection?.receipts ?? null,
    pause: (reason, detail) => pauses.pause(reason, detail),
  };
  notifier = new AdminNotifier(context);
  const pipeline = new SendPipeline(context);
  connection = new MailboxConnection({
    get config() {
      return live();
    },
    factory: input.connectors,
    source: () => secrets.current,
    context,
    pipeline,
    outbox,
    approvals,
    state,
    kill,
    logger,
    now,
    ...(input.concurrency === undefined ? {} : { concurrency: input.concurrency }),
    ...(input.retry === undefined ? {} : { retry: input.retry }),
    onAuthFailure: (error, where) => pauses.onProviderAuthFailure(error, where),
    onConnected: (built) =>
      input.onConnected({ provider: built.provider, providerKind: built.providerKind, source: () => secrets.current, audit: (event) => audit.append(event) }),
  });
  const desk = new RuntimeApprovalDesk({ approvals, audit, metrics, state, kill, pipeline, outbox, settings, now });
  const summary = new DailySummary({
    get config() {
      return live();
    },
    ...{ audit, notifier, logger, now, portalUrl: input.portalUrl, metrics },
    pauseState: () => state.pause,
  });
  // A pause a revoked grant raised (`revoked during …`) still means revoked consent after a restart.
  metrics.setPaused(state.pause !== null, { consentRevoked: state.pause?.reason === 'auth' && state.pause.detail?.startsWith('revoked ') === true });
  metrics.setRateLimitPerHour(live().rateLimits.perHour);
  desk.publishGauges();
  const views = new RuntimeClientViews({ desk, connection, state, audit, notifier }, live, { now, logger, portalUrl: input.portalUrl });
  const reconnect = { pending: false };
  settingsDesk.follow((next, previous) => {
    metrics.setRateLimitPerHour(next.config.rateLimits.perHour);
    if (changedAny(next.config, previous.config, ['dailySummary', 'timezone', 'onboarding'])) summary.reschedule();
    if (changedAny(next.config, previous.config, ['provider', 'mailbox', 'model', 'permissions'])) reconnect.pending = true;
  });
  const dashboards: DashboardsAccess = {
    dailySeries: (days) => dailySeries(audit, { timezone: live().timezone, now: now(), days }),
    graduation: async () => graduationRows(await approvalDecisionsByType(audit), live()),
  };
  anchors.start();
  return {
    ok: true,
    agent: { secrets, audit, anchors, state, approvals, outbox, pipeline, summary, pauses, desk, connection, views, settings: settingsDesk, dashboards, reconnect },
  };
}

/**
 * The audit chain verifies whole and reaches the head anchored outside the volume, and every other
 * journal holds its anchored head. Anything else stops the agent: a rollback hides acknowledged records.
 */
async function holdsAnchoredHeads(
  audit: AuditLog,
  journals: readonly VolumeJournal[],
  keys: KeyRing,
  heads: AnchoredHeads,
): Promise<{ ok: true } | { ok: false; break: ChainBreak; rolledBack: boolean }> {
  const anchor = heads[AUDIT_JOURNAL] ?? null;
  const verification = await audit.verify({ checkpoint: anchor });
  if (!verification.ok) {
    const { break: broken } = verification;
    // The chain is compared with the anchor only once it verified by itself: these two kinds mean a chain
    // whole in itself that no longer reaches its anchored head.
    const rolledBack = anchor !== null && (broken.kind === 'truncated' || broken.kind === 'rewritten');
    return {
      ok: false,
      break: rolledBack ? { ...broken, message: `the audit log does not hold its head anchored in Vault (record ${anchor.seq}): ${broken.message}; ${ROLLBACK_ADVICE}` } : broken,
      rolledBack,
    };
  }
  const held = await checkJournalsHoldAnchors(journals, keys, heads);
  return held.ok ? held : { ...held, rolledBack: true };
}

/**
 * Runs a Vault call, again after a passing failure (Vault restarting, sealed, unreachable): at open the
 * agent has just used Vault, so a short outage is waited out; a longer one fails the open with the
 * reason (the agent does not start until Vault answers: it needs it anyway), and the next introduction
 * tries again. A revoked token or an unreadable anchor is not retried.
 */
async function withVaultRetries<T>(action: string, run: () => Promise<T>, retry: { attempts: number; delayMs: number } = { attempts: 4, delayMs: 1000 }): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const passing = error instanceof FleetError && error.retryable;
      if (!passing || attempt >= retry.attempts) {
        throw new FleetError(error instanceof FleetError ? error.code : 'unavailable', `could not ${action}; the agent will not act until it can: ${(error as Error).message}`, {
          cause: error,
          retryable: passing,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, retry.delayMs * attempt));
    }
  }
}

function changedAny(next: ClientConfig, previous: ClientConfig, fields: readonly (keyof ClientConfig)[]): boolean {
  return fields.some((field) => canonicalJson(JSON.parse(JSON.stringify(next[field] ?? null)) as unknown) !== canonicalJson(JSON.parse(JSON.stringify(previous[field] ?? null)) as unknown));
}
