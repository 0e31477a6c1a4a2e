import { FleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * The mailbox as the agent sees it: our own small types, grouped by use case, so that no googleapis or
 * Microsoft Graph type leaks into services. Adapters: GmailMailProvider, GraphMailProvider.
 */

/** Opaque sync position (a Gmail history id, a Graph delta link). Store it only after the ids are stored. */
export type MailCursor = string;

export interface MailChanges {
  /** New inbound message ids, each once, oldest first where the provider tells. */
  messageIds: string[];
  /** Where the next sync starts. Never behind the cursor passed in. */
  nextCursor: MailCursor;
  /**
   * True when the provider no longer had history for the cursor and `messageIds` is a full listing of
   * the inbox instead: the caller must skip ids it already processed (idempotency per message id).
   */
  fullResync: boolean;
}

export interface MailAddress {
  address: string;
  name: string | null;
}

/** One message with the headers the agent decides on. Every field is untrusted content. */
export interface MailMessage {
  /** Provider message id. */
  id: string;
  /** Provider thread / conversation id. */
  threadId: string;
  from: MailAddress | null;
  to: MailAddress[];
  cc: MailAddress[];
  /** Reply-To addresses. A reply never goes there on its own: only to the authenticated From address. */
  replyTo: MailAddress[];
  subject: string;
  /** The Date header, if it parsed. */
  date: Date | null;
  /** RFC 5322 Message-ID, with angle brackets. */
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  /** List-Id header: mailing-list mail is never auto-answered. */
  listId: string | null;
  /** Auto-Submitted header (RFC 3834); anything but "no" means machine-generated. */
  autoSubmitted: string | null;
  /** Precedence header (bulk, list, junk). */
  precedence: string | null;
  /** Our idempotency header, present on messages the agent sent. */
  idempotencyKey: string | null;
  /**
   * Every Authentication-Results header value, topmost first, unfolded. Senders can write this header
   * too: only the receiving provider's own one counts (see domain/sender-authentication).
   */
  authenticationResults: string[];
  /** Plain-text body (converted from HTML when the message has no text part). */
  textBody: string;
  /** When the provider received the message. */
  receivedAt: Date;
  /** Provider labels / categories. */
  labels: string[];
}

export interface DraftInput {
  to: string[];
  cc?: string[];
  subject: string;
  /** Plain-text body. */
  body: string;
  /** Optional HTML alternative of the same content (summaries); the plain text stays the reference. */
  html?: string;
  /** Provider id of the message this draft answers; the adapter threads the reply on it. */
  inReplyTo?: string;
  /** Provider thread id (Gmail); implied by `inReplyTo` on Graph. */
  threadId?: string;
  /** Carried in the `X-Agent-Fleet-Idempotency-Key` header so a send can be found after a crash. */
  idempotencyKey: string;
}

export type DraftUpdate = Partial<Pick<DraftInput, 'to' | 'cc' | 'subject' | 'body'>>;

export interface Draft {
  /** Draft id for update/get/delete/send. */
  id: string;
  /** Provider message id of the draft message. */
  messageId: string;
  threadId: string;
  to: string[];
  cc: string[];
  subject: string;
  body: string;
  idempotencyKey: string | null;
}

export interface SentMessage {
  /** Provider id of the sent message, when the provider reports it. */
  id: string | null;
  threadId: string | null;
  idempotencyKey: string | null;
}

export interface MailProvider {
  /** Incremental sync. `null` starts from now (no backlog). History expired → full inbox listing. */
  listChangesSince(cursor: MailCursor | null): Promise<MailChanges>;
  /** One message with its headers and text body. Unknown id → FleetError `not_found`. */
  getMessage(id: string): Promise<MailMessage>;
  /** Every message of a thread, oldest first. */
  getThread(threadId: string): Promise<MailMessage[]>;
  /** True when the mailbox has sent mail to this address before (a known contact). */
  hasPreviousCommunicationWith(address: string): Promise<boolean>;

  /** Creates a real draft in the mailbox; with `inReplyTo` it threads as a reply. */
  createDraft(input: DraftInput): Promise<Draft>;
  /** Edits a draft; its threading and idempotency key stay as they were. */
  updateDraft(draftId: string, update: DraftUpdate): Promise<Draft>;
  getDraft(draftId: string): Promise<Draft>;
  deleteDraft(draftId: string): Promise<void>;
  /** The ONLY send path. Never retried blindly: after a failure use `findSentByIdempotencyKey`. */
  sendDraft(draftId: string): Promise<SentMessage>;
  /** Finds a message already sent with this idempotency key (exactly-once recovery after a crash). */
  findSentByIdempotencyKey(key: string): Promise<SentMessage | null>;

  /** Adds a label (Gmail label / Outlook category), creating it when missing. */
  label(id: string, label: string): Promise<void>;
  /** Removes the message from the inbox without deleting it. */
  archive(id: string): Promise<void>;
  markRead(id: string): Promise<void>;

  /**
   * Starts push notifications for new inbox mail (Gmail `users.watch`, a Graph subscription). A
   * notification only means "sync now": polling stays the safety net. Graph validates the
   * notification URL before answering, so the endpoint must already serve.
   */
  watch(target: WatchTarget): Promise<MailWatch>;
  /** Extends a watch before it expires. A watch the provider no longer knows → FleetError `not_found`. */
  renewWatch(watch: MailWatch, target: WatchTarget): Promise<MailWatch>;
  /** Stops a watch; one the provider no longer knows counts as stopped. */
  unwatch(watch: MailWatch): Promise<void>;
}

/** Where the provider pushes change notifications. */
export type WatchTarget =
  | {
      kind: 'gmail';
      /** Cloud Pub/Sub topic, `projects/<project>/topics/<topic>`, publishable by Gmail's push account. */
      topicName: string;
    }
  | {
      kind: 'outlook';
      /** Public HTTPS endpoint Graph posts change notifications to (validated by Graph at creation). */
      notificationUrl: string;
      /** Endpoint for lifecycle events (reauthorizationRequired, subscriptionRemoved, missed). */
      lifecycleNotificationUrl: string;
      /** Secret echoed in every notification; how the endpoint tells Graph from a forger. */
      clientState: string;
      /** Requested lifetime, minutes. Below Graph's 10080-minute maximum for messages. */
      lifetimeMinutes: number;
    };

/** A running watch: enough to renew and stop it. Holds no secret (the clientState stays in the target). */
export interface MailWatch {
  /** Gmail: the history id the watch started at; Graph: the subscription id. */
  id: string;
  kind: 'gmail' | 'outlook';
  /** When this watch (or its last renewal) was made, ISO 8601. */
  createdAt: string;
  /** When the provider stops notifying unless renewed, ISO 8601. */
  expiresAt: string;
}

/** Graph's maximum subscription lifetime for Outlook messages, minutes. */
export const GRAPH_MESSAGE_SUBSCRIPTION_MAX_MINUTES = 10_080;

/** Why the provider refused our credentials. `revoked` pauses the agent; the others may not. */
export type AuthFailureKind = 'revoked' | 'invalid_token' | 'insufficient_scope';

/** The provider rejected our credentials for good: pause the agent, alert, count an auth failure. */
export class ProviderAuthError extends FleetError {
  readonly kind: AuthFailureKind;

  constructor(kind: AuthFailureKind, message: string, options: { cause?: unknown } = {}) {
    super('unauthorized', message, { retryable: false, cause: options.cause });
    this.name = 'ProviderAuthError';
    this.kind = kind;
  }
}

/** 429 or a transient 5xx: back off at least `retryAfterMs` (from Retry-After when sent) and retry. */
export class ProviderThrottledError extends FleetError {
  readonly retryAfterMs: number | null;
  readonly status: number;

  constructor(status: number, retryAfterMs: number | null, message: string, options: { cause?: unknown } = {}) {
    super(status === 429 ? 'busy' : 'unavailable', message, { retryable: true, cause: options.cause });
    this.name = 'ProviderThrottledError';
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Parses a Retry-After header (delta seconds or HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | null | undefined, now: Date = new Date()): number | null {
  if (value === null || value === undefined || value.trim() === '') return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now.getTime());
}

// A domain rule the adapters and services reach through the port they already import.
export { replySubject } from '../domain/reply-subject.ts';
