import { z } from 'zod';
import { EMAIL_TYPES } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

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
}

export const classificationSchema = z
  .object({
    type: z.enum(EMAIL_TYPES),
    confidence: z.number().min(0).max(1),
    reasons: z.array(z.string().min(1).max(500)).min(1).max(10),
  })
  .strict();
export type Classification = z.infer<typeof classificationSchema>;

export const draftReplySchema = z
  .object({
    subject: z.string().min(1).max(998),
    body: z.string().min(1).max(100_000),
  })
  .strict();
export type DraftReply = z.infer<typeof draftReplySchema>;

/** What the drafter may know beyond the email: earlier messages of the thread, facts from memory. */
export interface DraftContext {
  /** Name the reply is signed with. */
  senderName: string;
  /** Earlier messages of the thread, oldest first (untrusted, delimited like the email). */
  thread: EmailForModel[];
  /** Trusted notes from the client's config or memory. */
  notes: string;
}

export interface TokenUsage {
  model: string;
  inputTokens: number;
  outputTokens: number;
}

export interface LlmResult<T> {
  value: T;
  usage: TokenUsage;
}

export interface LlmClient {
  /** Classifies one email. Malformed model output → ModelOutputError. */
  classify(email: EmailForModel): Promise<LlmResult<Classification>>;
  /** Drafts a reply in the client's style. Malformed model output → ModelOutputError. */
  draftReply(email: EmailForModel, styleNotes: string, context: DraftContext): Promise<LlmResult<DraftReply>>;
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
