import { Counter, Gauge, type Registry } from 'prom-client';
import { isWithinWorkingHours } from '../domain/policy/working-hours.ts';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * The agent's Prometheus metrics, on an injected registry. Every label is bounded and never carries an
 * address, subject or domain: the client is a default label of the registry, reasons are policy codes,
 * ages are buckets.
 */

export const POLICY_DECISIONS = ['allow', 'needs_approval', 'deny'] as const;
export type PolicyDecisionLabel = (typeof POLICY_DECISIONS)[number];

export const DATA_AGE_BUCKETS = ['<7d', '7-30d', '30-365d', '>365d'] as const;
export type DataAgeBucket = (typeof DATA_AGE_BUCKETS)[number];

export const LLM_TOKEN_KINDS = ['input', 'output', 'cache_read', 'cache_write'] as const;
export type LlmTokenKind = (typeof LLM_TOKEN_KINDS)[number];

const DAY_MS = 86_400_000;
const REASON_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
const MAX_REASONS = 64;
const VERSION_PATTERN = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/;

/** Age bucket of data read, from its age in milliseconds (negative ages, clock skew, count as fresh). */
export function dataAgeBucket(ageMs: number): DataAgeBucket {
  if (!(ageMs >= 7 * DAY_MS)) return '<7d';
  if (ageMs < 30 * DAY_MS) return '7-30d';
  if (ageMs < 365 * DAY_MS) return '30-365d';
  return '>365d';
}

export type WorkingHours = Pick<ClientConfig, 'timezone' | 'workingHours'>;

/** Whether `at` falls outside the client's working hours (start inclusive, end exclusive) in its time zone. */
export function isOffHours(at: Date, hours: WorkingHours): boolean {
  return !isWithinWorkingHours(at, hours.workingHours, hours.timezone);
}

/** Why a known contact's mail was not authenticated (the failing SenderAuthReason codes). */
export const SENDER_AUTH_FAILURES = ['no_trusted_header', 'dmarc_fail', 'dmarc_error', 'dmarc_other_domain', 'not_aligned'] as const;
export type SenderAuthFailure = (typeof SENDER_AUTH_FAILURES)[number];

/**
 * transient: a refused call that may pass again; revoked: the client's grant at its mail provider is gone
 * (ConsentRevoked pages); secret_store: the agent's Vault token was revoked, which is how a kill or a
 * rotation reaches it (the fleet's own doing: never read as the client withdrawing consent).
 */
export const AUTH_FAILURE_KINDS = ['transient', 'revoked', 'secret_store'] as const;
export type AuthFailureKind = (typeof AUTH_FAILURE_KINDS)[number];

/**
 * Which group of the control API refused a caller: the families its routes are mounted in, never the
 * path the caller sent. control: kill, revive, resume, status, admin notices; approvals: approvals and
 * the review queue; audit: the audit chain and records; settings: settings and the summary's data;
 * data_export: the complete export's parts and session close.
 */
export const CONTROL_ROUTE_FAMILIES = ['control', 'approvals', 'audit', 'settings', 'data_export'] as const;
export type ControlRouteFamily = (typeof CONTROL_ROUTE_FAMILIES)[number];

/** missing: no Authorization header; wrong: a credential that is not the control token (any scheme). */
export const CONTROL_AUTH_REFUSAL_REASONS = ['missing', 'wrong'] as const;
export type ControlAuthRefusalReason = (typeof CONTROL_AUTH_REFUSAL_REASONS)[number];

/** The daily summary's stages: reading the day's records, rendering the email, sending it. */
export const DAILY_SUMMARY_STAGES = ['read', 'render', 'send'] as const;
export type DailySummaryStage = (typeof DAILY_SUMMARY_STAGES)[number];

export interface AgentMetricsOptions {
  /** Client id; set as the registry's default `client` label. */
  client: string;
  /** Agent version, exported in `fleet_agent_info`. */
  version: string;
  /** When the process started, exported in `agent_start_time_seconds`; defaults to now. */
  startedAt?: Date;
}

export class AgentMetrics {
  private readonly emailsReadTotal: Counter;
  private readonly draftsCreatedTotal: Counter;
  private readonly emailsSentTotal: Counter;
  private readonly recipientsTotal: Counter;
  private readonly policyDecisionsTotal: Counter<'decision' | 'reason'>;
  private readonly rateLimitHitsTotal: Counter;
  private readonly newRecipientDomainsTotal: Counter;
  private readonly offHoursActionsTotal: Counter;
  private readonly dataReadsTotal: Counter<'age'>;
  private readonly authFailuresTotal: Counter<'kind'>;
  private readonly approvalsExpiredTotal: Counter;
  private readonly llmTokensTotal: Counter<'kind'>;
  private readonly llmCostUsdTotal: Counter;
  private readonly llmBudgetUsd: Gauge;
  private readonly llmBudgetExhausted: Gauge;
  private readonly knownSenderUnauthenticatedTotal: Counter<'reason'>;
  private readonly approvalsPending: Gauge;
  private readonly approvalsExpiringSoon: Gauge;
  private readonly rateLimitPerHour: Gauge;
  private readonly paused: Gauge;
  private readonly consentRevoked: Gauge;
  private readonly killed: Gauge;
  private readonly auditChainValid: Gauge;
  private readonly lastSyncTimestampSeconds: Gauge;
  private pushStatus: (() => { enabled: boolean; expiresAt: string | null }) | null = null;
  private readonly reviewOverflowTotal: Counter;
  private readonly controlAuthRefusalsTotal: Counter<'route' | 'reason'>;
  private readonly dailySummaryFailuresTotal: Counter<'stage'>;
  private reviewQueue: (() => ReviewQueueReading | null) | null = null;
  private journalAnchorFailingFrom: (() => Date | null) | null = null;
  private readonly seenReasons = new Set<string>();
  private auditVerdicts: AuditVerdictStore | null = null;
  /** The verdict last handed to `auditVerdicts` (or read from it); null: none. */
  private keptAuditVerdict: boolean | null = null;
  private auditVerifiedHere = false;

  /** Registers the agent's metrics on `registry` and sets its default `client` label. */
  constructor(registry: Registry, options: AgentMetricsOptions) {
    const client = parseClientId(options.client);
    if (!VERSION_PATTERN.test(options.version)) {
      throw new FleetError('invalid_input', 'agent version must be 1 to 64 of letters, digits, ".", "+", "_" or "-"');
    }
    const startedAt = options.startedAt ?? new Date();
    if (!Number.isFinite(startedAt.getTime())) throw new FleetError('invalid_input', 'agent start time must be a valid date');
    registry.setDefaultLabels({ client });
    const registers = [registry];
    const counter = <T extends string>(name: string, help: string, labelNames: readonly T[] = []) =>
      new Counter<T>({ name, help, labelNames, registers });
    const gauge = (name: string, help: string) => new Gauge({ name, help, registers });

    this.emailsReadTotal = counter('agent_emails_read_total', 'Emails read from the mailbox.');
    this.draftsCreatedTotal = counter('agent_drafts_created_total', 'Drafts created.');
    this.emailsSentTotal = counter('agent_emails_sent_total', 'Emails sent.');
    this.recipientsTotal = counter('agent_recipients_total', 'Recipients of sent emails, invitations and shares.');
    this.policyDecisionsTotal = counter('agent_policy_decisions_total', 'Policy gate decisions by outcome and first reason.', [
      'decision',
      'reason',
    ]);
    this.rateLimitHitsTotal = counter('agent_rate_limit_hits_total', 'Actions stopped by the hourly or daily send limit.');
    this.newRecipientDomainsTotal = counter('agent_new_recipient_domains_total', 'Sends to domains never written to before.');
    this.offHoursActionsTotal = counter('agent_offhours_actions_total', "Actions outside the client's working hours.");
    this.dataReadsTotal = counter('agent_data_reads_total', 'Data read, by age bucket of the data.', ['age']);
    this.authFailuresTotal = counter('agent_auth_failures_total', 'Failed authentications against providers, by kind.', ['kind']);
    this.approvalsExpiredTotal = counter('agent_approvals_expired_total', 'Approval requests that expired undecided.');
    this.llmTokensTotal = counter('agent_llm_tokens_total', 'Model tokens used, by kind.', ['kind']);
    this.llmCostUsdTotal = counter('agent_llm_cost_usd_total', 'Model spend in US dollars, at list prices.');
    this.llmBudgetUsd = gauge('agent_llm_budget_usd', "The client's daily model budget in US dollars.");
    // Unknown until the first model call reads the settings.
    this.llmBudgetUsd.set(Number.NaN);
    this.llmBudgetExhausted = gauge('agent_llm_budget_exhausted', "1 while the day's model budget is spent and model work waits for the next day, 0 otherwise.");
    this.llmBudgetExhausted.set(0);
    this.knownSenderUnauthenticatedTotal = counter(
      'agent_known_sender_unauthenticated_total',
      "Mail from a known contact's address that the provider did not authenticate (SPF/DKIM/DMARC), by reason.",
      ['reason'],
    );
    this.approvalsPending = gauge('agent_approvals_pending', 'Approval requests waiting for a human.');
    this.approvalsExpiringSoon = gauge('agent_approvals_expiring_soon', 'Pending approvals that expire within the next 12 hours.');
    this.rateLimitPerHour = gauge('agent_rate_limit_per_hour', "The client's configured hourly recipient limit.");
    // Unknown until the config is read: a 0 would make every recipient "at least 80% of the limit" for
    // MassSending while a restarted agent waits for its introduction.
    this.rateLimitPerHour.set(Number.NaN);
    this.paused = gauge('agent_paused', '1 while sending is paused (rate limit or authentication failure).');
    // ConsentRevoked pages on this, not on the revoked counter's last hour: the client's mailbox stays cut
    // off until a new consent and a resume, however long that takes.
    this.consentRevoked = gauge(
      'agent_consent_revoked',
      "1 from a revoked mailbox grant until the agent is resumed (the client's new consent), 0 otherwise.",
    );
    this.consentRevoked.set(0);
    this.killed = gauge('agent_killed', '1 once the kill switch is engaged.');
    this.auditChainValid = gauge('agent_audit_chain_valid', '1 when the last audit chain verification passed, 0 when it failed.');
    // Unknown until the first verification: NaN compares false, so a starting agent never pages as broken.
    this.auditChainValid.set(Number.NaN);
    this.lastSyncTimestampSeconds = gauge('agent_last_sync_timestamp_seconds', 'Unix time of the last successful mailbox sync.');
    // SyncStalled measures an agent that has not synced since it started from this, not from the epoch
    // (the last-sync gauge is 0 until the first sync after every start).
    gauge('agent_start_time_seconds', 'Unix time the agent process started.').set(startedAt.getTime() / 1000);
    // Read at each scrape, so the expiry is never stale: NaN while push is off (nothing to alert on), 0
    // while it is on with no live watch (a failed create), else the watch's expiry.
    const pushWatch: Gauge = new Gauge({
      name: 'agent_push_watch_expiry_timestamp_seconds',
      help: 'Unix time the push watch on the mailbox expires; 0 while push is on with no watch, NaN while push is off.',
      registers,
      collect: () => pushWatch.set(pushWatchExpiry(this.pushStatus?.() ?? null)),
    });
    // Read at each scrape from the state store: NaN until a volume is open (unknown, not empty), so a
    // backlog alert neither fires nor resolves on a restarting agent.
    const reviewQueueLength: Gauge = new Gauge({
      name: 'agent_review_queue_length',
      help: 'Messages parked for a human (the review queue); NaN while the agent has no volume open.',
      registers,
      collect: () => reviewQueueLength.set(this.reviewQueue?.()?.length ?? Number.NaN),
    });
    const reviewQueueOldest: Gauge = new Gauge({
      name: 'agent_review_queue_oldest_timestamp_seconds',
      help: 'Unix time the oldest message in the review queue was parked; NaN while the queue is empty or unknown.',
      registers,
      collect: () => reviewQueueOldest.set(oldestSeconds(this.reviewQueue?.() ?? null)),
    });
    const journalAnchorFailing: Gauge = new Gauge({
      name: 'agent_journal_anchor_failing_seconds',
      help: "Seconds the journals' heads have failed to be recorded in Vault (0 while recorded; a rollback in that time would go unnoticed).",
      registers,
      collect: () => {
        const since = this.journalAnchorFailingFrom?.() ?? null;
        journalAnchorFailing.set(since === null ? 0 : Math.max(0, (Date.now() - since.getTime()) / 1000));
      },
    });
    this.reviewOverflowTotal = counter(
      'agent_review_overflow_total',
      'Messages taken out of the full review queue unseen (oldest first; each has a review_resolved audit record).',
    );
    this.controlAuthRefusalsTotal = counter(
      'agent_control_auth_refusals_total',
      'Control API requests refused for a missing or wrong control token, by route family and reason.',
      ['route', 'reason'],
    );
    // Not agent_daily_summary_...: promtool check metrics refuses a name holding a metric type ('summary').
    this.dailySummaryFailuresTotal = counter('agent_daily_digest_failures_total', 'Daily summary emails that failed, by the stage that failed.', ['stage']);
    const info = new Gauge<'version'>({
      name: 'fleet_agent_info',
      help: 'Agent build information; always 1.',
      labelNames: ['version'],
      registers,
    });
    info.set({ version: options.version }, 1);

    // Export every bounded series from the start, so rate() and absent() work before the first event.
    for (const age of DATA_AGE_BUCKETS) this.dataReadsTotal.inc({ age }, 0);
    for (const kind of LLM_TOKEN_KINDS) this.llmTokensTotal.inc({ kind }, 0);
    for (const kind of AUTH_FAILURE_KINDS) this.authFailuresTotal.inc({ kind }, 0);
    for (const reason of SENDER_AUTH_FAILURES) this.knownSenderUnauthenticatedTotal.inc({ reason }, 0);
    for (const route of CONTROL_ROUTE_FAMILIES) {
      for (const reason of CONTROL_AUTH_REFUSAL_REASONS) this.controlAuthRefusalsTotal.inc({ route, reason }, 0);
    }
    for (const stage of DAILY_SUMMARY_STAGES) this.dailySummaryFailuresTotal.inc({ stage }, 0);
  }

  emailsRead(count = 1): void {
    this.emailsReadTotal.inc(count);
  }

  /** One read of data `ageMs` old (e.g. now minus the email's date). */
  dataRead(ageMs: number): void {
    this.dataReadsTotal.inc({ age: dataAgeBucket(ageMs) });
  }

  draftCreated(): void {
    this.draftsCreatedTotal.inc();
  }

  /** One email sent to `recipients` recipients, `newDomains` of whose domains were never written to before. */
  emailSent(recipients: number, newDomains = 0): void {
    this.emailsSentTotal.inc();
    this.recipientsTotal.inc(Math.max(0, recipients));
    if (newDomains > 0) this.newRecipientDomainsTotal.inc(newDomains);
  }

  /** Outbound to participants that is not an email (calendar invitation, file share). */
  recipientsReached(recipients: number, newDomains = 0): void {
    this.recipientsTotal.inc(Math.max(0, recipients));
    if (newDomains > 0) this.newRecipientDomainsTotal.inc(newDomains);
  }

  /**
   * A policy decision. `reason` must be a policy reason code (lowercase snake case); anything else, or
   * codes beyond the first 64 distinct ones, is counted as 'other' so labels stay bounded.
   */
  policyDecision(decision: PolicyDecisionLabel, reason: string): void {
    if (!(POLICY_DECISIONS as readonly string[]).includes(decision)) throw new FleetError('invalid_input', `unknown policy decision "${decision}"`);
    this.policyDecisionsTotal.inc({ decision, reason: this.boundedReason(reason) });
  }

  rateLimitHit(): void {
    this.rateLimitHitsTotal.inc();
  }

  /** Counts an action taken at `at` when it falls outside the client's working hours. Returns whether it did. */
  action(at: Date, hours: WorkingHours): boolean {
    const offHours = isOffHours(at, hours);
    if (offHours) this.offHoursActionsTotal.inc();
    return offHours;
  }

  /**
   * 'revoked' for consent revoked or `invalid_grant`: counted, and agent_consent_revoked holds 1 until the
   * agent is resumed (setPaused(false)); 'transient' for a passing 401. An unknown kind counts as transient.
   */
  authFailure(kind: AuthFailureKind = 'transient'): void {
    const label = (AUTH_FAILURE_KINDS as readonly string[]).includes(kind) ? kind : 'transient';
    this.authFailuresTotal.inc({ kind: label });
    if (label === 'revoked') this.consentRevoked.set(1);
  }

  /**
   * Mail claiming a known contact's address that the provider did not authenticate: a forged sender, or a
   * contact's broken mail setup. A reason outside SENDER_AUTH_FAILURES counts as `not_aligned`.
   */
  knownSenderUnauthenticated(reason: string): void {
    const label = (SENDER_AUTH_FAILURES as readonly string[]).includes(reason) ? reason : 'not_aligned';
    this.knownSenderUnauthenticatedTotal.inc({ reason: label });
  }

  /**
   * One control API request refused for its credential (not one refused because the agent is not
   * introduced yet). Values outside the label sets throw: they are ours, never the caller's text.
   */
  controlAuthRefused(route: ControlRouteFamily, reason: ControlAuthRefusalReason): void {
    if (!(CONTROL_ROUTE_FAMILIES as readonly string[]).includes(route)) throw new FleetError('invalid_input', `unknown control route family "${route}"`);
    if (!(CONTROL_AUTH_REFUSAL_REASONS as readonly string[]).includes(reason)) throw new FleetError('invalid_input', `unknown refusal reason "${reason}"`);
    this.controlAuthRefusalsTotal.inc({ route, reason });
  }

  /** One daily summary that failed at `stage` (count it once, where the failure is handled). */
  dailySummaryFailed(stage: DailySummaryStage): void {
    if (!(DAILY_SUMMARY_STAGES as readonly string[]).includes(stage)) throw new FleetError('invalid_input', `unknown daily summary stage "${stage}"`);
    this.dailySummaryFailuresTotal.inc({ stage });
  }

  setApprovalsExpiringSoon(count: number): void {
    this.approvalsExpiringSoon.set(Math.max(0, count));
  }

  setRateLimitPerHour(limit: number): void {
    this.rateLimitPerHour.set(Number.isFinite(limit) ? Math.max(0, limit) : Number.NaN);
  }

  approvalExpired(): void {
    this.approvalsExpiredTotal.inc();
  }

  llmTokens(kind: LlmTokenKind, count: number): void {
    if (!(LLM_TOKEN_KINDS as readonly string[]).includes(kind)) throw new FleetError('invalid_input', `unknown token kind "${kind}"`);
    if (count > 0) this.llmTokensTotal.inc({ kind }, count);
  }

  /** Spend of one model call, USD. */
  llmCost(usd: number): void {
    if (Number.isFinite(usd) && usd > 0) this.llmCostUsdTotal.inc(usd);
  }

  /** The daily model budget in force (USD) and whether today's is spent. */
  setLlmBudget(limitUsd: number, exhausted: boolean): void {
    this.llmBudgetUsd.set(Number.isFinite(limitUsd) ? Math.max(0, limitUsd) : Number.NaN);
    this.llmBudgetExhausted.set(exhausted ? 1 : 0);
  }

  setApprovalsPending(count: number): void {
    this.approvalsPending.set(Math.max(0, count));
  }

  /**
   * The pause flag. A resume (false) ends a revoked consent too: the agent works only with a grant that
   * the provider accepts, and refusing it again counts anew. `consentRevoked` restores that state with a
   * pause read back from the volume after a restart (the counter behind it starts again at 0).
   */
  setPaused(paused: boolean, cause: { consentRevoked?: boolean } = {}): void {
    this.paused.set(paused ? 1 : 0);
    if (!paused) this.consentRevoked.set(0);
    else if (cause.consentRevoked !== undefined) this.consentRevoked.set(cause.consentRevoked ? 1 : 0);
  }

  /** Where the push watch gauge reads the watch from (the runtime's push sync). */
  readPushWatchFrom(status: () => { enabled: boolean; expiresAt: string | null }): void {
    this.pushStatus = status;
  }

  /** Where the journal anchor gauge reads since when recording the journals' heads in Vault fails (null: it does not). */
  readJournalAnchorFrom(failingFrom: () => Date | null): void {
    this.journalAnchorFailingFrom = failingFrom;
  }

  /** Where the review queue gauges read the queue from (the opened volume's state store). */
  readReviewQueueFrom(read: () => ReviewQueueReading | null): void {
    this.reviewQueue = read;
  }

  /** One message taken out of the full review queue without a human. */
  reviewOverflowed(): void {
    this.reviewOverflowTotal.inc();
  }

  setKilled(killed: boolean): void {
    this.killed.set(killed ? 1 : 0);
  }

  /** The outcome of an audit chain verification (at open, or asked for by the orchestrator); kept in `rememberAuditVerdicts`' store. */
  setAuditChainValid(valid: boolean): void {
    this.auditChainValid.set(valid ? 1 : 0);
    this.auditVerifiedHere = true;
    if (this.auditVerdicts !== null && this.keptAuditVerdict !== valid) {
      this.keptAuditVerdict = valid;
      this.auditVerdicts.write(valid);
    }
  }

  /**
   * Where verdicts are kept across restarts. Until this process verifies the chain itself, the gauge
   * exports the verdict kept last instead of NaN, so a broken chain keeps AuditChainBroken firing
   * through a restart (the introduction that lets the agent verify again may take a while).
   */
  rememberAuditVerdicts(store: AuditVerdictStore): void {
    this.auditVerdicts = store;
    this.keptAuditVerdict = store.read();
    if (!this.auditVerifiedHere && this.keptAuditVerdict !== null) this.auditChainValid.set(this.keptAuditVerdict ? 1 : 0);
  }

  setLastSync(at: Date): void {
    this.lastSyncTimestampSeconds.set(at.getTime() / 1000);
  }

  private boundedReason(reason: string): string {
    if (!REASON_PATTERN.test(reason)) return 'other';
    if (this.seenReasons.has(reason)) return reason;
    if (this.seenReasons.size >= MAX_REASONS) return 'other';
    this.seenReasons.add(reason);
    return reason;
  }
}

/** Where the last audit chain verdict is kept across restarts (audit-verdict-memo.ts). */
export interface AuditVerdictStore {
  /** The verdict kept last, or null when none is. */
  read(): boolean | null;
  write(valid: boolean): void;
}

/** The review queue as its gauges read it: its length, and when its oldest entry was parked (ISO 8601). */
export interface ReviewQueueReading {
  length: number;
  oldestSince: string | null;
}

function oldestSeconds(reading: ReviewQueueReading | null): number {
  const at = reading === null || reading.oldestSince === null ? Number.NaN : Date.parse(reading.oldestSince);
  return Number.isFinite(at) ? at / 1000 : Number.NaN;
}

function pushWatchExpiry(status: { enabled: boolean; expiresAt: string | null } | null): number {
  if (status === null || !status.enabled) return Number.NaN;
  const expiresAt = status.expiresAt === null ? Number.NaN : Date.parse(status.expiresAt);
  return Number.isFinite(expiresAt) ? expiresAt / 1000 : 0;
}
