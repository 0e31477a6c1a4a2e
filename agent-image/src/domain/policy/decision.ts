/**
 * A policy decision is data, never an exception. `reasons` are stable machine-readable codes (metrics
 * labels, audit records, the approval screen); `details` are human-readable and may name fields but never
 * carry message content.
 */

export type Decision = 'allow' | 'needs_approval' | 'deny';

export type ReasonCode =
  // deny: stop here
  | 'unparseable'
  | 'killed'
  | 'permission_denied'
  | 'dry_run'
  | 'paused'
  | 'rate_limit_hour'
  | 'rate_limit_day'
  // needs approval: every one that applies is listed, in rule order
  | 'blocked_recipient'
  | 'onboarding'
  | 'new_contact'
  | 'type_requires_approval'
  | 'type_not_auto_send'
  | 'unclassified'
  | 'free_text'
  | 'sender_unauthenticated'
  | 'recipient_not_sender'
  | 'injection_signal'
  | 'auto_reply_loop'
  | 'bulk'
  | 'url_shortener'
  | 'public_share'
  | 'deletion'
  | 'move'
  /** Proposed, approved or waiting to send when the kill switch was pulled: the revive holds it for a human. */
  | 'held_by_kill_switch'
  // allow
  | 'read'
  | 'permitted'
  | 'auto_send'
  | 'approved';

export type PolicyFacts = {
  /** Outbound recipients of the action (after de-duplication). */
  recipients: number;
  /** Of those, how many are not known contacts. */
  newContacts: number;
  /** Recipient domains no known contact belongs to. */
  newDomains: number;
  /** Age of the oldest data read, in seconds, when the read reported it. */
  dataAgeSeconds?: number;
  /** For a send of an auto-send type: whether it is a validated template reply. */
  templateReply?: boolean;
  /** For a reply: whether the sender of the message answered is authenticated. */
  senderAuthenticated?: boolean;
  /** For a reply: how many injection signals the message answered showed. */
  injectionSignals?: number;
};

export type SendWindow = {
  /** Recipients the action counts against the send limits (at least one). */
  counted: number;
  /** Recipients the rolling hour had room for before the action. */
  roomHour: number;
  /** Recipients the rolling day had room for before the action. */
  roomDay: number;
  /** The limits the room was left by: recipients per rolling hour and per rolling day. */
  perHour: number;
  perDay: number;
};

export type PolicyDecision = {
  decision: Decision;
  reasons: ReasonCode[];
  details?: string[];
  /**
   * Set on `deny` for `paused` and rate limits: the action must stay queued and be evaluated again after
   * `fleet resume` or when the window has room. Nothing is dropped.
   */
  retryable?: true;
  /** Set when this decision hit a rate limit: the caller pauses sending and alerts the client admins. */
  pauseSending?: true;
  /**
   * Set on a `dry_run` denial: what the gate would have decided with dry run off. Dry run records,
   * never executes, so the decision itself is always `deny`.
   */
  dryRun?: { decision: Decision; reasons: ReasonCode[] };
  /**
   * Set on an `allow` of an outbound action: the recipients it counts against the send limits and the room
   * the hourly and daily windows had before it. The gate checks the limits one action at a time; actions
   * that run together (bundle-decision.ts) are checked again on their sum.
   */
  sendWindow?: SendWindow;
  /** Counts for metrics; no addresses. Absent when the action was unparseable. */
  facts?: PolicyFacts;
  /** The settings version the decision was made under (stamped by the runtime, recorded in the audit). */
  settingsVersion?: number;
};
