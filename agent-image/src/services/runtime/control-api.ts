import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import type { ApprovalStatus } from '../../domain/approval.ts';
import type { AuditCheckpoint } from '../../domain/audit-record.ts';
import type { ChainVerification } from '../../domain/audit-chain.ts';
import type { AuditExportFormat } from '@agent-fleet/kernel/audit-export-format';
import type { AuditRange } from '../audit-log/audit-log.ts';
import type { MailNotification } from '../mail-watch/mail-notification.ts';
import type { ReviewResolutionInput, ReviewResolutionResult } from '../mail-loop/review-queue.ts';
import type { PauseReason, ReviewQueueSource } from './agent-state-store.ts';
import type { StoredApproval } from './approval-store.ts';
import type { ClientViewsSource } from './client-views.ts';
import type { DashboardsAccess } from '../daily-summary/dashboards.ts';
import type { SettingsAccess } from '../settings/settings-desk.ts';

export type { ClientViews } from './client-views.ts';

/**
 * What the control API (http/control-server.ts) needs of the agent, one small interface per concern.
 * The AgentRuntime implements them all; each route depends only on its own.
 */

/**
 * Lifecycle: awaiting_introduction (serves /healthz only) → starting (introduction redeemed, opening the
 * volume) → ready (audit chain verified; working, or idle when no provider is connected) | failed (the
 * audit chain is broken or the volume cannot be opened: nothing runs) → stopped.
 */
export type RuntimeLifecycle = 'awaiting_introduction' | 'starting' | 'ready' | 'failed' | 'stopped';

export interface IntroduceInput {
  wrappingToken: string;
  vaultAddr?: string;
  creationPath: string;
}

/** `via`: the channel the admin decided through (recorded in the audit); default orchestrator-api. */
export type DecisionInput = (
  | { decision: 'approve'; by: string }
  | { decision: 'edit'; by: string; arguments: unknown }
  | { decision: 'reject'; by: string; reason?: string }
) & { via?: 'orchestrator-api' | 'portal' };

/** A push notification as the control API received it (untrusted). */
export interface MailNotificationInput {
  body: unknown;
  /** The `token` query parameter of the push URL (Gmail Pub/Sub push). */
  token: string | null;
}

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

/** The open routes: health, readiness and the Vault introduction. */
export interface IntroductionDesk {
  readonly clientId: string;
  /** The client config this process started with. */
  startedConfig(): ClientConfig;
  readiness(): { ready: true } | { ready: false; reason: string };
  /** Redeems an introduction. Errors: forbidden (wrong creation path), conflict (stopping), invalid_input. */
  introduce(input: IntroduceInput): Promise<void>;
}

export interface ControlAuth {
  /**
   * Checks a bearer token against the control token's SHA-256 from the secret store. Before
   * introduction: FleetError('unavailable'). Wrong or missing: FleetError('unauthorized').
   */
  authenticate(bearer: string | null): Promise<void>;
}

export interface KillControl {
  /** Engages the kill switch: latched at once, audited, persisted in the volume; all work stops. */
  killAgent(reason: string, by: string): Promise<void>;
  /** Undoes a kill: audited, flag removed from the volume, work resumes with the current secrets. */
  revive(reason: string, by: string): Promise<void>;
  /** Clears a pause (not a kill: FleetError 'conflict'): audited; catches up on the work that waited. */
  resume(by: string): Promise<void>;
}

export interface ApprovalDesk {
  /** Approvals as of now (a pending one past its expiry is reported expired), newest first. */
  listApprovals(status?: ApprovalStatus): StoredApproval[];
  /**
   * Decides an approval (only ever called from the authenticated control API). Errors: not_found,
   * conflict (already decided or expired), invalid_input (reject without reason, bad edited arguments).
   */
  decide(id: string, input: DecisionInput): Promise<StoredApproval>;
}

export interface AuditAccess {
  /** The audit chain's head (null while the log is empty). */
  auditHead(): AuditCheckpoint | null;
  /** Verifies the chain, from a checkpoint the orchestrator kept when given one. */
  verifyAudit(checkpoint: AuditCheckpoint | null): Promise<ChainVerification>;
  /** Verifies only that the chain still extends `anchor` (an earlier checkpoint): before a checkpoint moves. */
  verifyAuditExtension(anchor: AuditCheckpoint): Promise<ChainVerification>;
  /** Writes the records in `range` to `sink` as JSON lines or CSV; resolves with how many. */
  exportAudit(format: AuditExportFormat, sink: NodeJS.WritableStream, range: AuditRange): Promise<number>;
}

export interface StatusSource {
  /** What the agent is doing now (no email content). */
  status(): RuntimeStatus;
}

export interface MailNotificationSink {
  /** Whether the route should answer Graph's validation handshake (push configured for Outlook). */
  acceptsGraphValidation(): boolean;
  /**
   * Takes a push notification: authenticated by the secret only the provider knows, then trusted only
   * as "something changed". Errors: not_found (push off), unavailable (no watch yet), unauthorized /
   * forbidden, invalid_input.
   */
  receiveMailNotification(input: MailNotificationInput): Promise<MailNotification>;
  /**
   * Checks a push's URL `token` (Gmail) before its body is read, so a caller without it costs no parsing
   * and learns nothing from the body's refusal; constant-time. Nothing to check for Graph, whose secret
   * (clientState) is in the body. Errors: not_found (push off), unavailable (no watch yet), unauthorized
   * (no token), forbidden (wrong token). receiveMailNotification authenticates again with the body.
   */
  checkPushToken(token: string | null): void;
}

export interface ReviewResolver {
  /**
   * A human's resolution of a parked message: `handled` or `retry` (once), audited. Idempotent. Errors:
   * not_found (no such message), conflict (not waiting for review, or a second retry), unavailable.
   */
  resolveReview(input: ReviewResolutionInput): Promise<ReviewResolutionResult>;
}

/** Everything the control API serves. */
export type ControlApi = IntroductionDesk & ControlAuth & KillControl & ApprovalDesk & AuditAccess & StatusSource & MailNotificationSink & ClientViewsSource & ReviewQueueSource & ReviewResolver & SettingsAccess & DashboardsAccess;
