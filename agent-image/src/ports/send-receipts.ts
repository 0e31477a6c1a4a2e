/**
 * The provider side of exactly-once sending: send a message that carries an idempotency key, and find out
 * later whether a message with a given key was sent. Mail adapters (Gmail, Graph) implement it; the
 * outbox uses it to reconcile intents left pending by a crash before sending anything new.
 */

export interface OutboundMessage {
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  /** Plain-text body. */
  text: string;
  html: string | null;
  /** Message-ID of the message replied to, when replying. */
  inReplyTo: string | null;
  /** Provider thread id to keep the reply in its conversation, when known. */
  threadId: string | null;
  /** Extra headers; always includes IDEMPOTENCY_HEADER when handed to a provider. */
  headers: Record<string, string>;
}

export interface SendReceipt {
  /** The provider's id of the sent message. */
  providerMessageId: string;
  /** When the provider accepted it (UTC ISO-8601). */
  sentAt: string;
}

export interface SendReceipts {
  /**
   * Looks in the mailbox's sent messages for one carrying `key` in IDEMPOTENCY_HEADER (or the Message-ID
   * from `idempotentMessageId(key)`). Returns its receipt, or null when no such message was sent.
   * Throws a FleetError the outbox classifies (transient, auth, data, logic) when it cannot tell.
   */
  findSentByIdempotencyKey(key: string): Promise<SendReceipt | null>;

  /**
   * Sends `message`, whose headers carry IDEMPOTENCY_HEADER. Throws a FleetError on failure; a transient
   * failure may still have sent the message, which is why the outbox looks it up before any retry.
   */
  send(message: OutboundMessage): Promise<SendReceipt>;
}

/**
 * A Message-ID derived from the idempotency key, for providers that can search sent mail by Message-ID
 * (Gmail `rfc822msgid:`) but not by arbitrary headers.
 */
export function idempotentMessageId(key: string, domain = 'agent-fleet.invalid'): string {
  return `<${key}@${domain}>`;
}
