import * as z from 'zod';
import { normaliseAddress } from '@agent-fleet/kernel/email-address';
import type { InjectionSignal } from '../auto-reply/injection-signals.ts';
import type { AutoSendContext } from './auto-send-rules.ts';

/**
 * The facts about the message a send answers, given as JSON by a person checking a config (the policy
 * CLI): in the agent, code establishes them; here they are typed in, so they are validated strictly and
 * every mistake is named. Only what the gate reads: the sender and the verdict on it, the injection signals,
 * the thread and arrival (reply-loop limits) and, for a template reply, the model's choice and the facts its
 * slots are checked against. Pure.
 */

const SIGNALS = [
  'addresses_assistant',
  'rule_change',
  'recipient_change',
  'bank_details',
  'approval_claim',
  'lookalike_sender',
  'reply_to_elsewhere',
] as const satisfies readonly InjectionSignal[];

const isoTimestamp = z.iso.datetime({ offset: true });

const answeredMessageSchema = z
  .object({
    /** The From address of the message answered. */
    sender: z.string().max(1000).refine((raw) => normaliseAddress(raw) !== undefined, 'must be a plain email address (user@example.com)'),
    /** Whether the receiving provider's verdict authenticates the sender (SPF/DKIM/DMARC). */
    senderAuthenticated: z.boolean(),
    /** The injection signals the message showed; none when absent. */
    injectionSignals: z.array(z.enum(SIGNALS)).max(SIGNALS.length).optional(),
    /** Provider thread of the message. */
    thread: z.string().min(1).max(2000).optional(),
    /** When the message arrived, ISO 8601 with an offset. */
    receivedAt: isoTimestamp.optional(),
    /** For a template reply: the model's template choice and the trusted facts of its slots. */
    templateReply: z
      .object({
        choice: z.unknown(),
        originalSubject: z.string().max(10_000),
        nameSources: z.array(z.string().max(1000).nullable()).max(10).optional(),
        freeSlots: z.array(z.object({ start: isoTimestamp, end: isoTimestamp }).strict()).max(100).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** A line of the policy CLI: a proposed action, or one with the facts about the message it answers. */
const answeringLineSchema = z.object({ action: z.unknown(), answering: answeredMessageSchema }).strict();

export type AnsweringLine = { action: unknown; autoSend?: AutoSendContext } | { issues: string[] };

/**
 * Reads one input value: a proposed action as it is (`{"kind": …}`), or `{"action": {…}, "answering": {…}}`
 * with the facts about the message it answers. Issues (at most ten, each with its path) when the facts are
 * malformed; the action itself is validated by the gate.
 */
export function readAnsweringLine(value: unknown): AnsweringLine {
  const envelope = typeof value === 'object' && value !== null && !Array.isArray(value) && !('kind' in value) && ('action' in value || 'answering' in value);
  if (!envelope) return { action: value };
  const parsed = answeringLineSchema.safeParse(value);
  if (!parsed.success) return { issues: parsed.error.issues.slice(0, 10).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`) };
  const { action, answering } = parsed.data;
  const template = answering.templateReply;
  // The line pairs the facts with its action: they are of the message the action names as answered, if it names one.
  const answered = typeof action === 'object' && action !== null ? (action as { inReplyTo?: unknown }).inReplyTo : undefined;
  const autoSend: AutoSendContext = {
    inbound: {
      ...(typeof answered === 'string' ? { messageId: answered } : {}),
      senderAddress: answering.sender,
      senderAuthenticated: answering.senderAuthenticated,
      injectionSignals: answering.injectionSignals ?? [],
      ...(answering.thread === undefined ? {} : { thread: answering.thread }),
      ...(answering.receivedAt === undefined ? {} : { receivedAt: Date.parse(answering.receivedAt) }),
    },
    ...(template === undefined
      ? {}
      : {
          templateReply: {
            choice: template.choice,
            facts: { originalSubject: template.originalSubject, nameSources: template.nameSources ?? [], freeSlots: template.freeSlots ?? [] },
          },
        }),
  };
  return { action, autoSend };
}
