import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { MailProvider, MailWatch } from '../../ports/mail-provider.ts';
import { mailWatch, type AuditEvent } from '../../domain/audit-events.ts';
import type { GraphLifecycleEvent } from './mail-notification.ts';
import type { PushSettings } from './push-settings.ts';
import { isExpired, isRenewalDue, watchRetryDelayMs } from './renewal-schedule.ts';

/** Where the push secret (and the current watch, to renew or stop it after a restart) is kept: Vault. */
export interface PushSecretStore {
  load(): Promise<string | null>;
  save(value: string): Promise<void>;
}

export interface MailWatchKeeperOptions {
  provider: MailProvider;
  settings: PushSettings;
  store: PushSecretStore;
  audit: (event: AuditEvent) => Promise<unknown>;
  logger: Logger;
  now: () => Date;
  /** Backoff of failed watch calls, ms. Default 30 s doubling to one hour. */
  backoff?: { baseMs: number; maxMs: number };
}

const watchSchema = z
  .object({ id: z.string().min(1).max(200), kind: z.enum(['gmail', 'outlook']), createdAt: z.string().max(64), expiresAt: z.string().max(64) })
  .strict();
const pushSecretSchema = z.object({ token: z.string().regex(/^[A-Za-z0-9_-]{32,128}$/), watch: watchSchema.nullable().default(null) }).strict();
type PushSecret = z.infer<typeof pushSecretSchema>;

type WatchAction = 'mail_watch' | 'mail_watch_renew' | 'mail_unwatch';

/**
 * A renewal the provider asked for is skipped when the watch was made or renewed this recently (that
 * call already reauthorised it): a replayed or repeated lifecycle event costs no provider call.
 */
export const FORCED_RENEWAL_MIN_INTERVAL_MS = 10 * 60_000;

/**
 * Keeps one push watch alive for the mailbox: creates it, renews it early, re-creates it when the
 * provider dropped it, stops it on kill and shutdown. Every call is audited; a failure is logged once,
 * retried with backoff, and never stops polling. Serialised: one provider call at a time.
 */
export class MailWatchKeeper {
  private readonly options: MailWatchKeeperOptions;
  private readonly logger: Logger;
  private secret: PushSecret | null = null;
  private failures = 0;
  private nextAttempt = 0;
  private chain: Promise<void> = Promise.resolve();
  private queuedEnsure: Promise<void> | null = null;
  private stopped = false;
  /**
   * Renew at the next chance, whatever the schedule says. Set at first: a watch read from storage may
   * be gone at the provider (a kill's unwatch whose record never reached Vault, a restore) and would
   * otherwise be trusted, push silently dead, until its renewal time days later.
   */
  private renewalForced = true;
  /** When this keeper last made or renewed the watch, epoch ms. */
  private lastSuccessAt = Number.NEGATIVE_INFINITY;

  constructor(options: MailWatchKeeperOptions) {
    this.options = options;
    this.logger = options.logger.child({ component: 'mail-watch', provider: options.settings.kind });
  }

  /** The secret notifications must present (clientState / push token); null before the first load. */
  get token(): string | null {
    return this.secret?.token ?? null;
  }

  get current(): MailWatch | null {
    return this.secret?.watch ?? null;
  }

  /**
   * Creates or renews the watch when due or asked for (respecting the backoff after failures). Calls
   * while one is waiting to run share it. Never throws.
   */
  ensure(): Promise<void> {
    this.queuedEnsure ??= this.serialised(async () => {
      this.queuedEnsure = null;
      if (this.options.now().getTime() < this.nextAttempt) return;
      const secret = await this.loadSecret();
      const watch = secret.watch;
      if (watch === null || watch.kind !== this.options.settings.kind || isExpired(watch, this.options.now())) await this.create();
      else if (this.renewalForced || isRenewalDue(watch, this.options.now(), this.options.settings.policy)) await this.renew(watch);
      this.renewalForced = false;
    });
    return this.queuedEnsure;
  }

  /**
   * A Graph lifecycle event about a watch (authenticated, but possibly replayed): one about a watch other
   * than the current one changes nothing; `subscriptionRemoved` makes a new watch and
   * `reauthorizationRequired` renews, each through `ensure`, so the backoff holds and a failure is retried
   * instead of leaving push dead until the old watch's renewal time. `missed` needs only a sync.
   */
  lifecycle(event: GraphLifecycleEvent, watchId: string): Promise<void> {
    const watch = this.secret?.watch ?? null;
    if (watch === null || watch.id !== watchId || event === 'missed') return Promise.resolve();
    if (event === 'subscriptionRemoved') {
      this.secret = this.secret === null ? null : { ...this.secret, watch: null };
    } else if (this.options.now().getTime() - this.lastSuccessAt >= FORCED_RENEWAL_MIN_INTERVAL_MS) {
      this.renewalForced = true;
    }
    return this.ensure();
  }

  /** Stops the watch (kill, shutdown); later calls do nothing. Never throws. */
  stop(reason: string): Promise<void> {
    return this.serialised(async () => {
      this.stopped = true;
      const secret = this.secret ?? (await this.loadSecret());
      const watch = secret.watch;
      if (watch === null) return;
      await this.audited('mail_unwatch', watch.id, { reason }, async () => {
        await this.options.provider.unwatch(watch);
        await this.saveSecret({ ...secret, watch: null });
        return watch;
      });
    }, true);
  }

  /** Hands over to a successor (a reconnect): no more calls, the watch stays. Resolves when idle. */
  retire(): Promise<void> {
    this.stopped = true;
    return this.chain;
  }

  private serialised(work: () => Promise<void>, evenWhenStopped = false): Promise<void> {
    const run = this.chain.then(async () => {
      if (this.stopped && !evenWhenStopped) return;
      try {
        await work();
      } catch (error) {
        this.failed(error);
      }
    });
    this.chain = run;
    return run;
  }

  private async create(): Promise<void> {
    const secret = await this.loadSecret();
    const target = this.options.settings.target(secret.token);
    await this.audited('mail_watch', this.options.settings.kind, {}, async () => {
      const watch = await this.options.provider.watch(target);
      await this.saveSecret({ ...secret, watch });
      return watch;
    });
  }

  private async renew(watch: MailWatch): Promise<void> {
    const secret = await this.loadSecret();
    const target = this.options.settings.target(secret.token);
    try {
      await this.audited('mail_watch_renew', watch.id, {}, async () => {
        const renewed = await this.options.provider.renewWatch(watch, target);
        await this.saveSecret({ ...secret, watch: renewed });
        return renewed;
      });
    } catch (error) {
      if (!(error instanceof FleetError && error.code === 'not_found')) throw error;
      this.logger.info('the provider no longer knows the watch; creating a new one');
      await this.create();
    }
  }

  private async audited(action: WatchAction, target: string, parameters: Record<string, string>, call: () => Promise<MailWatch>): Promise<void> {
    let watch: MailWatch;
    try {
      watch = await call();
    } catch (error) {
      const code = error instanceof FleetError ? error.code : 'internal';
      await this.options.audit(mailWatch(action, target, { ...parameters, provider: this.options.settings.kind, error: code }, 'failure'));
      throw error;
    }
    await this.options.audit(mailWatch(action, watch.id, { ...parameters, provider: watch.kind, expires_at: watch.expiresAt }, 'success'));
    if (action !== 'mail_unwatch') this.lastSuccessAt = this.options.now().getTime();
    this.failures = 0;
    this.nextAttempt = 0;
    this.logger.info(action === 'mail_unwatch' ? 'push watch stopped' : 'push watch active', { op: action, expiresAt: watch.expiresAt });
  }

  private failed(error: unknown): void {
    this.failures++;
    const delay = watchRetryDelayMs(this.failures, this.options.backoff ?? { baseMs: 30_000, maxMs: 3_600_000 });
    this.nextAttempt = this.options.now().getTime() + delay;
    this.logger.warn('push watch call failed; polling continues, retrying later', { error, retryInMs: delay });
  }

  private async loadSecret(): Promise<PushSecret> {
    if (this.secret !== null) return this.secret;
    const raw = await this.options.store.load();
    let parsed: PushSecret | null = null;
    if (raw !== null) {
      try {
        const result = pushSecretSchema.safeParse(JSON.parse(raw));
        if (result.success) parsed = result.data;
      } catch {
        parsed = null;
      }
      if (parsed === null) this.logger.warn('stored push secret is unreadable; generating a new one');
    }
    if (parsed === null) {
      parsed = { token: randomBytes(32).toString('base64url'), watch: null };
      await this.options.store.save(JSON.stringify(parsed));
    }
    this.secret = parsed;
    return parsed;
  }

  private async saveSecret(secret: PushSecret): Promise<void> {
    this.secret = secret;
    await this.options.store.save(JSON.stringify(secret));
  }
}
