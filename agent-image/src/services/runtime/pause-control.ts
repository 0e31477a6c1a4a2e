import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { SerialQueue } from '@agent-fleet/kernel/serial-queue';
import { authFailure, paused, resumed } from '../../domain/audit-events.ts';
import { recipientsInWindows } from '../../domain/policy/rate-window.ts';
import type { AgentMetrics } from '../../observability/agent-metrics.ts';
import type { ProviderAuthError } from '../../ports/mail-provider.ts';
import type { AuditLog } from '../audit-log/audit-log.ts';
import type { SendPause } from '../outbox/send-pause.ts';
import type { AgentStateStore, PauseReason, PauseState } from './agent-state-store.ts';
import type { KillSwitch } from './kill-switch.ts';
import { pauseNotice, type PauseCause, type PauseNotice } from './pause-notices.ts';

export interface PauseControlOptions {
  config: ClientConfig;
  /** Holds the one pause flag, durably. */
  state: AgentStateStore;
  audit: AuditLog;
  metrics: AgentMetrics;
  kill: KillSwitch;
  logger: Logger;
  now: () => Date;
  /** Mails an alert to the client's admins (through the outbox: once per `dedupeKey`). */
  alert: (dedupeKey: string, notice: PauseNotice) => Promise<unknown>;
  /** The connected provider's kind ('gmail', 'outlook'), null while none is connected. */
  providerKind: () => string | null;
}

const AUTH_FAILURES_BEFORE_PAUSE = 3;
/** The detail of the pause a revoked Vault token raises: only a new token lifts it (onVaultRestored). */
const VAULT_REVOKED_DETAIL = 'secret store revoked the agent token';
const DETAIL_LIMIT = 300;

/** Why sending is paused for refused credentials, from the state store's pause; null otherwise. */
export function authPauseOf(pause: PauseState | null): string | null {
  return pause?.reason === 'auth' ? (pause.detail ?? pause.reason) : null;
}

/**
 * The agent's pause: a rate limit pauses sending, refused credentials pause all work. One flag, kept in
 * the state store; every pause and resume is audited and gauged, and each pause alerts the admins once.
 */
export class PauseControl {
  private readonly options: PauseControlOptions;
  private consecutiveAuthFailures = 0;
  /**
   * Each read-audit-write of the flag, one at a time: a resume that read a rate-limit pause must not,
   * after its audit append, clear the auth pause raised meanwhile (nor a late rate-limit pause replace it).
   */
  private readonly flag = new SerialQueue();

  constructor(options: PauseControlOptions) {
    this.options = options;
  }

  get current(): PauseState | null {
    return this.options.state.pause;
  }

  /**
   * Pauses sending (rate limit) or all work (auth): persisted, audited, gauged, admins alerted once.
   * `refusedBy` says what the alert tells the admins: the mailbox or the model refused the credentials,
   * or the grant opens another mailbox than the config names (`other-mailbox`).
   */
  async pause(reason: PauseReason, detail: string, refusedBy: PauseCause = 'mailbox'): Promise<void> {
    const { logger, config } = this.options;
    const since = await this.flag.run(() => this.raise(reason, detail));
    if (since === null) return;
    const notice = pauseNotice(reason, { client: config.client, detail, rateLimits: config.rateLimits, refusedBy });
    await this.options.alert(`pause:${reason}:${since}`, notice).catch((error: unknown) => {
      logger.warn('pause alert not sent now; it waits in the outbox', { error });
    });
  }

  /** Sets the flag unless this pause or an auth pause is already up; returns its `since`, or null. */
  private async raise(reason: PauseReason, detail: string): Promise<string | null> {
    const { state, audit, metrics, logger } = this.options;
    const current = state.pause;
    if (current !== null && (current.reason === reason || current.reason === 'auth')) return null;
    const since = this.options.now().toISOString();
    await audit.append(paused(reason === 'auth' ? 'agent' : 'sending', { reason, detail }));
    await state.setPause({ reason, since, detail: detail.slice(0, DETAIL_LIMIT) });
    metrics.setPaused(true);
    logger.warn('agent paused', { reason });
    return since;
  }

  /**
   * Clears the pause (never a kill: FleetError 'conflict'), audited. Returns the pause it lifted, or
   * null when there was none; the caller catches up on the work that waited.
   */
  resume(by: string, why = 'resumed'): Promise<PauseState | null> {
    return this.flag.run(() => this.lift(by, why));
  }

  private async lift(by: string, why: string): Promise<PauseState | null> {
    const { state, audit, metrics, kill } = this.options;
    if (kill.killed) throw new FleetError('conflict', 'the agent is killed; a kill is not resumed');
    const pause = state.pause;
    if (pause === null) return null;
    await audit.append(resumed(pause.reason === 'auth' ? 'agent' : 'sending', by, { reason: pause.reason, detail: why }));
    await state.setPause(null);
    metrics.setPaused(false);
    this.consecutiveAuthFailures = 0;
    return pause;
  }

  /** True when the rate windows have room again (a rate-limit pause may be lifted). */
  rateWindowHasRoom(): boolean {
    const { state, config } = this.options;
    const usage = recipientsInWindows(state.policy.sendHistory, this.options.now().getTime());
    return usage.lastHour < config.rateLimits.perHour && usage.lastDay < config.rateLimits.perDay;
  }

  /** A sync round went through: a run of refused credentials is over. */
  synced(): void {
    this.consecutiveAuthFailures = 0;
  }

  /**
   * The mailbox or model refused our credentials: audited; a revoked grant or a run of refusals pauses. A
   * grant that opens another mailbox than the config's pauses at once, its reason kept as the detail (the
   * mailbox refused nothing: no auth failure is counted, the pause gauge shows it).
   */
  async onProviderAuthFailure(error: ProviderAuthError, where: string): Promise<void> {
    const { audit, metrics, config } = this.options;
    if (error.kind === 'wrong_account') {
      await audit.append(authFailure(this.options.providerKind() ?? config.provider, { kind: error.kind, where }));
      await this.pause('auth', error.message, 'other-mailbox');
      return;
    }
    // Revoked consent pages at once; an expired access token or a missing scope is a passing failure.
    metrics.authFailure(error.kind === 'revoked' ? 'revoked' : 'transient');
    this.consecutiveAuthFailures++;
    const refusedBy = error.service === 'model' ? 'model' : (this.options.providerKind() ?? 'provider');
    await audit.append(authFailure(refusedBy, { kind: error.kind, where, consecutive: this.consecutiveAuthFailures }));
    // A revoked grant is final; a single 401 is often a token that died early, so only a run of them pauses.
    if (error.kind !== 'invalid_token' || this.consecutiveAuthFailures >= AUTH_FAILURES_BEFORE_PAUSE) {
      // The model's refusal says which (a key rejected, billing, a retired model); it carries no secret.
      await this.pause('auth', error.service === 'model' ? `${error.message} during ${where}` : `${error.kind} during ${where}`, error.service);
    }
  }

  /** The secret store revoked our token: audited and paused, but no alert is mailed. */
  async onVaultRevoked(reason: string): Promise<void> {
    const { state, audit, metrics } = this.options;
    metrics.authFailure('secret_store');
    await audit.append(authFailure('secret-store', { source: 'vault', reason: reason.slice(0, DETAIL_LIMIT) }));
    // A revoked Vault token is how the orchestrator's kill arrives: stop, but do not mail anyone.
    await this.flag.run(async () => {
      if (state.pause?.reason === 'auth') return;
      const detail = VAULT_REVOKED_DETAIL;
      await audit.append(paused('agent', { reason: 'auth', detail }));
      await state.setPause({ reason: 'auth', since: this.options.now().toISOString(), detail });
    });
    metrics.setPaused(true);
  }

  /**
   * The agent adopted a new Vault token (a rotation revokes the old one first, and the agent may have
   * noticed in between): the pause that revocation raised is over. Any other pause stays (refused mailbox
   * credentials, a rate limit), and a kill is never lifted. Returns whether a pause was lifted.
   */
  onVaultRestored(): Promise<boolean> {
    const { state, kill } = this.options;
    return this.flag.run(async () => {
      if (kill.killed || state.pause?.reason !== 'auth' || state.pause.detail !== VAULT_REVOKED_DETAIL) return false;
      await this.lift('system', 'a new secret store token was adopted');
      return true;
    });
  }

  /** The flag as the outbox sees it: paused while credentials are refused; a refused send pauses the agent. */
  sendPause(): SendPause {
    const { state, metrics, logger } = this.options;
    return {
      authPause: () => authPauseOf(state.pause),
      raise: async (reason) => {
        metrics.authFailure();
        await this.pause('auth', `send refused: ${reason}`).catch((error: unknown) => logger.error('pause failed', { error }));
      },
      lift: async (by) => {
        await this.resume(by);
      },
    };
  }
}
