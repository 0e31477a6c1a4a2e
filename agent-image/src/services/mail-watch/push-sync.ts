import { PUSH_WATCH_SECRET } from '@agent-fleet/kernel/fleet-owned-secrets';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { AuditEvent } from '../../domain/audit-events.ts';
import type { MailProvider } from '../../ports/mail-provider.ts';
import type { SecretSource } from '../../ports/secret-source.ts';
import type { MailNotificationInput, MailNotificationSink } from '../runtime/control-api.ts';
import { authenticateGmailPushToken, isAboutMailbox, parseGraphNotification, readGmailPush, type MailNotification } from './mail-notification.ts';
import { MailWatchKeeper } from './mail-watch-keeper.ts';
import { pushSettingsFor } from './push-settings.ts';
import type { PushTokenVerifier } from '../../ports/push-token-verifier.ts';

export interface PushSyncOptions {
  config: ClientConfig;
  logger: Logger;
  now: () => Date;
  /** Runs one sync round after the round in flight. */
  sync: () => Promise<void>;
  /** True once the agent is stopping: no more syncs are scheduled. */
  stopped: () => boolean;
  /** Delay that coalesces a burst of notifications into one sync, ms. Default 250. */
  notificationDebounceMs?: number | undefined;
  /** Backoff of failed watch calls, ms. Default 30 s doubling to one hour. */
  watchBackoff?: { baseMs: number; maxMs: number } | undefined;
  /**
   * Gmail: the OIDC identity this client's Pub/Sub push subscription signs as, and Google's keys. When
   * set, a push needs a valid Google-signed token as well as the URL token. Default: the URL token only.
   */
  gmailPushVerifier?: PushTokenVerifier | undefined;
}

/**
 * A push as the route received it. `authorization` is the request's Authorization header (the OIDC token
 * of a Gmail push); optional until the control API's MailNotificationInput carries it.
 */
export type PushNotificationInput = MailNotificationInput & { authorization?: string | null };

/** The connected mailbox a watch is kept on, and where its secret and audit records go. */
export interface WatchedMailbox {
  provider: MailProvider;
  providerKind: 'gmail' | 'outlook';
  /** The secret source in use (a rotation replaces it). */
  source: () => SecretSource;
  audit: (event: AuditEvent) => Promise<unknown>;
}

const STOP_TIMEOUT_MS = 5000;
/** Least time between two warnings of one kind about refused or ignored pushes (anyone can send them). */
const WARNING_INTERVAL_MS = 60_000;

/**
 * Push on top of polling, when the config asks for it: keeps the provider's watch (in the background,
 * never blocking), authenticates the notifications it sends and turns them into debounced syncs.
 */
export class PushSync implements MailNotificationSink {
  private readonly options: PushSyncOptions;
  private keeper: MailWatchKeeper | null = null;
  /** The keeper last stopped: its unwatch may still be running when a revive starts the next one. */
  private stopping: MailWatchKeeper | null = null;
  private pendingSync: NodeJS.Timeout | null = null;
  private lastForeignMailboxWarning = Number.NEGATIVE_INFINITY;
  private lastKeysWarning = Number.NEGATIVE_INFINITY;

  constructor(options: PushSyncOptions) {
    this.options = options;
  }

  /** Push on, and the current watch's expiry (null while none is active). */
  get status(): { enabled: boolean; expiresAt: string | null } {
    return { enabled: this.keeper !== null, expiresAt: this.keeper?.current?.expiresAt ?? null };
  }

  /** Starts keeping a watch on a (newly) connected mailbox; nothing when push is off for it. */
  start(mailbox: WatchedMailbox): void {
    const settings = pushSettingsFor(this.options.config, mailbox.providerKind);
    if (settings === null) return;
    if (settings.kind === 'gmail' && this.options.gmailPushVerifier === undefined && this.keeper === null && this.stopping === null) {
      this.options.logger.warn('Gmail pushes are authenticated by the push URL token only (no OIDC identity configured)');
    }
    const previous = this.keeper ?? this.stopping;
    const keeper = new MailWatchKeeper({
      provider: mailbox.provider,
      settings,
      store: {
        load: async () => (await mailbox.source().readSecretData(PUSH_WATCH_SECRET))?.['value'] ?? null,
        save: (value) => mailbox.source().writeSecret(PUSH_WATCH_SECRET, value),
      },
      audit: mailbox.audit,
      logger: this.options.logger,
      now: this.options.now,
      ...(this.options.watchBackoff === undefined ? {} : { backoff: this.options.watchBackoff }),
    });
    this.keeper = keeper;
    // A reconnect (resume, revive) brings a new provider; the stored watch is renewed, not duplicated. It
    // is read only once the previous keeper is idle: an unwatch still running would delete the watch the
    // new keeper had just read and renewed, leaving it to trust a dead watch.
    void (previous === null ? Promise.resolve() : previous.retire()).then(() => keeper.ensure());
  }

  /** Creates or renews the watch when due (the periodic check). Never throws. */
  ensure(): Promise<void> {
    return this.keeper?.ensure() ?? Promise.resolve();
  }

  /** Stops the watch (kill, shutdown), bounded in time: polling never depended on it. */
  async stop(reason: string): Promise<void> {
    const keeper = this.keeper;
    this.keeper = null;
    if (this.pendingSync !== null) clearTimeout(this.pendingSync);
    this.pendingSync = null;
    if (keeper === null) return;
    this.stopping = keeper;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([keeper.stop(reason), new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS)))]);
    clearTimeout(timer);
  }

  acceptsGraphValidation(): boolean {
    return this.options.config.provider === 'outlook' && this.options.config.push?.notificationUrl !== undefined;
  }

  checkPushToken(token: string | null): void {
    const keeper = this.keeper;
    if (keeper === null) throw new FleetError('not_found', 'push notifications are not enabled for this agent');
    if (this.options.config.provider !== 'gmail') return;
    const expected = keeper.token;
    if (expected === null) throw new FleetError('unavailable', 'no push watch yet');
    authenticateGmailPushToken(token, expected);
  }

  async receiveMailNotification(input: PushNotificationInput): Promise<MailNotification> {
    const keeper = this.keeper;
    if (keeper === null) throw new FleetError('not_found', 'push notifications are not enabled for this agent');
    const token = keeper.token;
    if (token === null) throw new FleetError('unavailable', 'no push watch yet');
    if (this.options.config.provider === 'gmail') return this.receiveGmailPush(input, token);
    const notification = parseGraphNotification(input.body, token);
    if (notification.kind === 'outlook') {
      for (const { event, subscriptionId } of notification.lifecycle) {
        this.options.logger.info('graph lifecycle event', { event });
        void keeper.lifecycle(event, subscriptionId);
      }
    }
    this.requestSync();
    return notification;
  }

  /**
   * A Pub/Sub push: the URL token first (no await, no body read), then Google's signature when configured,
   * then the mailbox. A push about another mailbox (a topic or subscription shared by mistake) is
   * acknowledged, so Pub/Sub does not redeliver it for days, and syncs nothing.
   */
  private async receiveGmailPush(input: PushNotificationInput, token: string): Promise<MailNotification> {
    authenticateGmailPushToken(input.token, token);
    const verifier = this.options.gmailPushVerifier;
    if (verifier !== undefined) await this.verifyOidc(input.authorization, verifier);
    const push = readGmailPush(input.body);
    if (!isAboutMailbox(push, this.options.config.mailbox)) {
      this.warnForeignMailbox();
    } else {
      this.requestSync();
    }
    return { kind: 'gmail', historyId: push.historyId };
  }

  /** Google's keys out of reach refuse pushes as `unavailable` (Pub/Sub redelivers): warned, at most once a minute. */
  private async verifyOidc(authorization: string | null | undefined, verifier: PushTokenVerifier): Promise<void> {
    try {
      await verifier.verify(authorization);
    } catch (error) {
      if (error instanceof FleetError && (error.code === 'unauthorized' || error.code === 'forbidden')) throw error;
      const now = this.options.now().getTime();
      if (now - this.lastKeysWarning >= WARNING_INTERVAL_MS) {
        this.lastKeysWarning = now;
        this.options.logger.warn("Gmail pushes refused: Google's signing keys are out of reach; polling continues", { error });
      }
      throw new FleetError('unavailable', 'cannot verify the push now', { cause: error });
    }
  }

  private warnForeignMailbox(): void {
    const now = this.options.now().getTime();
    if (now - this.lastForeignMailboxWarning < WARNING_INTERVAL_MS) return;
    this.lastForeignMailboxWarning = now;
    const reason = this.options.config.mailbox === undefined ? 'the config names no mailbox' : 'it is about another mailbox';
    this.options.logger.warn(`authenticated Gmail push ignored: ${reason}; check the Pub/Sub topic and subscription`);
  }

  /** A debounced sync: a burst of notifications costs one round, run after the round in flight. */
  private requestSync(): void {
    if (this.pendingSync !== null || this.options.stopped()) return;
    this.pendingSync = setTimeout(() => {
      this.pendingSync = null;
      this.options.sync().catch((error: unknown) => this.options.logger.error('sync after a push notification failed', { error }));
    }, this.options.notificationDebounceMs ?? 250);
    this.pendingSync.unref();
  }
}
