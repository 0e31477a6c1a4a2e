import * as z from 'zod';
import { EMAIL_TYPES } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { templateReplyChoiceSchema } from '../domain/auto-reply/template-choice.ts';

/**
 * The model as the agent sees it. It only proposes (a classification, a draft); the policy gate decides.
 * Every output is validated with the schemas below; anything else is a ModelOutputError that the caller
 * routes to the human review queue.
 */

/** The email given to the model. All of it is untrusted data. */
export interface EmailForModel {
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  date: string | null;
  body: string;
  /**
   * History quoted inside the body (lines after "On … wrote:", "> …"), split off so the model sees it is
   * earlier text, possibly written by other senders. As untrusted as the body.
   */
  quoted?: string;
}

export const classificationSchema = z
  .object({
    type: z.enum(EMAIL_TYPES),
    confidence: z.number().min(0).max(1),
    reasons: z.array(z.string().min(1).max(500)).min(1).max(10),
  })
  .strict();
export type Classification = z.infer<typeof classificationSchema>;

/**
 * The drafter's answer: a template reply (the model chooses the type, the template and the slot values,
 * nothing else; code renders and validates it) or a free-form reply (a body), which always needs approval.
 * The model never gives a subject: a reply's is the message's (or a rendered template's). One it writes
 * anyway, out of habit, is dropped unread, so neither its length nor its text can send the message to
 * review or reach the draft; any other extra field is malformed.
 */
export const draftReplySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('template'), choice: templateReplyChoiceSchema }).strict(),
  z
    .object({
      kind: z.literal('free_form'),
      body: z.string().min(1).max(100_000),
      subject: z.unknown().optional(),
    })
    .strict()
    .transform(({ kind, body }) => ({ kind, body })),
]);
export type DraftReply = z.output<typeof draftReplySchema>;

/** A template the drafter may choose, as the client's config defines it (trusted). */
export interface OfferedTemplate {
  id: string;
  type: string;
  body: string;
}

/** What the drafter may know beyond the email: earlier messages of the thread, facts from memory. */
export interface DraftContext {
  /** Name the reply is signed with. */
  senderName: string;
  /** Earlier messages between the client and this sender, oldest first (untrusted, delimited like the email). */
  thread: EmailForModel[];
  /** Trusted notes from the client's config or its own calendar (times only). */
  notes: string;
  /**
   * Facts about the correspondent from the client's records (CRM: name, role, company): useful, but records
   * are often made from inbound mail, so others may have written them. Shown as data, fenced like the email,
   * never among the trusted notes. '' or absent: none.
   */
  records?: string;
  /** The client's reply templates of its auto-send types (trusted); empty: free form only. */
  templates?: OfferedTemplate[];
  /** The names a template may greet the correspondent with (from the contact record and the From header). */
  nameCandidates?: string[];
  /** Start times (ISO 8601) of free slots of the client's own calendar a template may propose. */
  freeSlotStarts?: string[];
}

export interface TokenUsage {
  model: string;
  inputTokens: number;
  outputTokens: number;
}

/**
 * The most one request can cost, known before it is sent: its model, an upper bound of its input tokens
 * and its output cap. Shaped like TokenUsage, so it is priced the same way.
 */
export type CallCeiling = TokenUsage;

/**
 * Told, by the adapter, the ceiling of each request just before it is sent (every HTTP request, retries
 * included), so a caller can hold it against a budget. It refuses a request by throwing: the adapter then
 * sends nothing and the error goes back to the caller of the LlmClient method.
 */
export interface CallCeilingGate {
  /** Synchronous, just before the request goes: throws to refuse it. */
  beforeRequest(ceiling: CallCeiling): void;
}

/** Per-call options of the LlmClient methods. */
export interface LlmCallOptions {
  /** Told each request's ceiling before it is sent; absent: nothing is told. */
  readonly gate?: CallCeilingGate;
}

export interface LlmResult<T> {
  value: T;
  usage: TokenUsage;
}

export interface LlmClient {
  /** Classifies one email. Malformed model output → ModelOutputError. */
  classify(email: EmailForModel, options?: LlmCallOptions): Promise<LlmResult<Classification>>;
  /**
   * Drafts a reply in the client's style: a template choice or a free-form reply. Malformed model output
   * → ModelOutputError.
   */
  draftReply(email: EmailForModel, styleNotes: string, context: DraftContext, options?: LlmCallOptions): Promise<LlmResult<DraftReply>>;
}

/** The model answered, but not in the agreed shape: send the email to human review, do not retry. */
export class ModelOutputError extends FleetError {
  readonly route = 'human-review' as const;
  /** Tokens were spent even though the answer is unusable; count them. */
  readonly usage: TokenUsage;
  readonly issues: string[];

  constructor(message: string, usage: TokenUsage, issues: string[], options: { cause?: unknown } = {}) {
    super('invalid_input', message, { retryable: false, cause: options.cause });
    this.name = 'ModelOutputError';
    this.usage = usage;
    this.issues = issues;
  }
}
