import { createHash } from 'node:crypto';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { crmLookup, crmPaused, crmResumed } from '../../domain/audit-events-crm.ts';
import { parseProposedAction } from '../../domain/policy/proposed-action.ts';
import type { CrmPerson, CrmProvider } from '../../ports/crm-provider.ts';
import { ProviderAuthError, ProviderThrottledError } from '../../ports/mail-provider.ts';
import type { SecretSource } from '../../ports/secret-source.ts';
import { AdminNotifier } from '../runtime/admin-notifier.ts';
import type { CrmConnector } from '../runtime/connectors.ts';
import type { RuntimeContext } from '../runtime/runtime-context.ts';

export interface CrmWorkOptions {
  context: RuntimeContext;
  connector: CrmConnector;
  /** The secret source in use: while CRM work is paused, a newly stored CRM secret lifts the pause. */
  source: () => SecretSource;
}

/** The CRM pause as the audit log holds it (the last `pause`/`resume` with target `crm`). */
export interface CrmPauseState {
  since: string;
  reason: string;
  /** Fingerprint of the stored secret that was refused. */
  credential: string | null;
}

/** Refused credentials in a row (an expired session rather than a revocation) before CRM work pauses. */
const INVALID_TOKEN_RUN = 3;
/** Default back-off after a 429 without Retry-After, ms. */
const THROTTLE_DEFAULT_MS = 30_000;
/** How long a lookup is reused (the drafter's, then the note's after the send), ms. */
const LOOKUP_TTL_MS = 15 * 60_000;

/**
 * The agent's CRM work beside its mail work: lookups for the drafter and, through CrmNotes, the notes
 * after sends. Every call passes the kill switch and the gate, is audited, and never lets a CRM failure
 * reach the mail loop: a revoked credential pauses CRM work only (audited, the admins alerted once) and
 * a newly stored CRM secret lifts the pause; a 429 backs CRM work off for its Retry-After.
 */
export class CrmWork {
  readonly name: string;
  private readonly options: CrmWorkOptions;
  private readonly context: RuntimeContext;
  private provider: CrmProvider;
  private pause: CrmPauseState | null = null;
  private backoffUntil = 0;
  private invalidTokenRun = 0;
  private readonly lookups = new Map<string, { person: CrmPerson | null; at: number }>();

  constructor(options: CrmWorkOptions) {
    this.options = options;
    this.context = options.context;
    this.name = options.connector.name;
    this.provider = options.connector.provider;
  }

  /** True while CRM work is paused (refused credentials) or backing off (throttled). */
  get idle(): boolean {
    return this.pause !== null || this.context.now().getTime() < this.backoffUntil;
  }

  get paused(): CrmPauseState | null {
    return this.pause;
  }

  /** Takes the pause the audit log holds (a restart keeps CRM work paused until a new secret is stored). */
  restorePause(pause: CrmPauseState | null): void {
    this.pause = pause;
  }

  /** Whether the gate lets the agent do this CRM action now (permission, kill, dry run). */
  allowed(input: Record<string, unknown>): { ok: boolean; reasons: readonly string[]; dryRun: boolean } {
    const parsed = parseProposedAction(input);
    if (!parsed.ok) return { ok: false, reasons: ['unparseable'], dryRun: false };
    const decision = this.context.gate.evaluateParsed(parsed.action, this.context.policyState(), this.context.now());
    this.context.metrics.policyDecision(decision.decision, decision.reasons[0] ?? 'none');
    return { ok: decision.decision === 'allow', reasons: decision.reasons, dryRun: decision.reasons.includes('dry_run') };
  }

  /**
   * The correspondent's record (name, role, company only), or null: not found, CRM work paused or backing
   * off, `crm.read` not allowed, or the call failed. Audited (`crm_read`).
   */
  async lookUp(address: string): Promise<CrmPerson | null> {
    if (this.context.config.permissions['crm.read'] !== true) return null;
    const found = await this.resolve(address, () => this.allowed({ kind: 'crm.read', query: 'find person by email' }).ok);
    return found.status === 'found' ? found.person : null;
  }

  /**
   * The record of an address: `found`, `none` (the CRM has nobody with it), or `unavailable` (CRM work
   * idle, not allowed, or the call failed: ask again later). A lookup is audited and kept for a while.
   * `allowed` is the caller's gate check, asked only when the CRM is really called.
   */
  async resolve(address: string, allowed: () => boolean = () => true): Promise<{ status: 'found'; person: CrmPerson } | { status: 'none' } | { status: 'unavailable' }> {
    const key = address.trim().toLowerCase();
    const now = this.context.now().getTime();
    const cached = this.lookups.get(key);
    if (cached !== undefined && now - cached.at < LOOKUP_TTL_MS) return cached.person === null ? { status: 'none' } : { status: 'found', person: cached.person };
    if (this.idle || !allowed()) return { status: 'unavailable' };
    const found = await this.attempt('lookup', (provider) => provider.findPersonByEmail(key));
    const person = found.ok ? found.value : null;
    await this.context.audit.append(crmLookup({ provider: this.name, address: key, found: person, result: found.ok ? 'success' : 'failure' }));
    if (!found.ok) return { status: 'unavailable' };
    this.lookups.set(key, { person, at: now });
    return person === null ? { status: 'none' } : { status: 'found', person };
  }

  /**
   * Runs one CRM call (after the kill switch: FleetError `killed`, thrown). A failure comes back as a
   * value, after it was weighed: a refused credential pauses CRM work, a 429 backs it off.
   */
  async attempt<T>(what: string, run: (provider: CrmProvider) => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
    this.context.kill.assertAlive(`crm ${what}`);
    try {
      const value = await run(this.provider);
      this.invalidTokenRun = 0;
      return { ok: true, value };
    } catch (error) {
      await this.failed(what, error);
      return { ok: false, error };
    }
  }

  /** What a failed call means for CRM work; rethrows only the kill switch. */
  async failed(what: string, error: unknown): Promise<void> {
    if (error instanceof FleetError && error.code === 'killed') throw error;
    if (error instanceof ProviderThrottledError) {
      this.backoffUntil = this.context.now().getTime() + (error.retryAfterMs ?? THROTTLE_DEFAULT_MS);
      this.context.logger.warn('crm throttled; backing off', { op: `crm.${what}`, retryAfterMs: error.retryAfterMs });
      return;
    }
    if (error instanceof ProviderAuthError) {
      this.invalidTokenRun++;
      if (error.kind !== 'invalid_token' || this.invalidTokenRun >= INVALID_TOKEN_RUN) await this.pauseFor(error);
      return;
    }
    this.context.logger.warn('crm call failed', { op: `crm.${what}`, error });
  }

  /**
   * Each round: while paused, reads the CRM secret again; a newly stored one (a reconnect) builds a new
   * provider and lifts the pause, audited.
   */
  async resumeIfReconnected(): Promise<boolean> {
    const pause = this.pause;
    if (pause === null) return false;
    const raw = await this.storedSecret();
    // Without the refused secret's fingerprint a new one cannot be told apart: an operator resumes by reconnecting.
    if (raw === null || pause.credential === null || fingerprint(raw) === pause.credential) return false;
    try {
      this.provider = this.options.connector.rebuild(raw);
    } catch (error) {
      this.context.logger.error('the newly stored CRM secret is unusable; CRM work stays paused', { error });
      return false;
    }
    this.pause = null;
    this.invalidTokenRun = 0;
    this.lookups.clear();
    await this.context.audit.append(crmResumed({ provider: this.name, by: 'system' }));
    this.context.logger.info('crm work resumed with a newly stored secret', { provider: this.name });
    return true;
  }

  private async pauseFor(error: ProviderAuthError): Promise<void> {
    if (this.pause !== null) return;
    const since = this.context.now().toISOString();
    const raw = await this.storedSecret().catch(() => null);
    const credential = raw === null ? null : fingerprint(raw);
    this.pause = { since, reason: error.kind, credential };
    await this.context.audit.append(
      crmPaused({ provider: this.name, reason: error.kind, detail: error.message, ...(credential === null ? {} : { credential }) }),
    );
    this.context.logger.warn('crm work paused: the CRM refused the credentials; mail work goes on', { provider: this.name, kind: error.kind });
    const { client } = this.context.config;
    const subject = `Your AI assistant lost access to the CRM (${this.name}); CRM updates are paused`;
    const text =
      `The CRM refused the assistant's credentials (${error.kind}). Email work goes on; CRM lookups and notes are paused ` +
      `until an operator reconnects the CRM: fleet connect ${client} --provider ${this.name}\n`;
    await new AdminNotifier(this.context)
      .notify('alert', `crm-pause:${this.name}:${since}`, subject, text)
      .catch((failure: unknown) => this.context.logger.warn('crm pause alert not sent now; it waits in the outbox', { error: failure }));
  }

  private async storedSecret(): Promise<string | null> {
    const fields = await this.options.source().readSecretData(this.options.connector.secret);
    return fields?.['value'] ?? null;
  }
}

/** A short fingerprint of a stored secret: tells a new one from the refused one without keeping either. */
export function fingerprint(raw: string): string {
  return `sha256:${createHash('sha256').update(raw).digest('hex').slice(0, 24)}`;
}
