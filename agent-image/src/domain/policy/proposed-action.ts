import * as z from 'zod';
import { EMAIL_TYPES } from '@agent-fleet/kernel/client-config';
import { normaliseAddress } from '@agent-fleet/kernel/email-address';
import { proposedEventIssues } from '../scheduling/event-proposal.ts';

/**
 * What the model may propose. Every action is checked against this schema before any rule runs; an
 * unknown kind, an unknown field or a value of the wrong shape makes the whole action unparseable, and
 * the gate denies it (fail closed). Schemas are strict so that an extra field cannot smuggle in a
 * recipient the rules never looked at.
 */

const MAX_RECIPIENTS = 10_000;
const MAX_TEXT = 10 * 1024 * 1024;
const MAX_SHORT_TEXT = 10_000;

const address = z.string().max(1000).transform((raw, context) => {
  const normalised = normaliseAddress(raw);
  if (normalised === undefined) {
    context.addIssue({ code: 'custom', message: 'must be a plain email address (user@example.com)' });
    return z.NEVER;
  }
  return normalised;
});

/** A list of addresses; a single address given where a list is expected is accepted as a list of one. */
const addressList = z.preprocess(
  (value) => (typeof value === 'string' ? [value] : value),
  z
    .array(address)
    .max(MAX_RECIPIENTS)
    .transform((list) => [...new Set(list)]),
);

/** Optional list that may be null or absent (agents often send `null` for "none"). */
const optionalAddressList = z
  .union([addressList, z.null()])
  .optional()
  .transform((list) => list ?? []);

const isoTimestamp = z.iso.datetime({ offset: true });
const shortText = z.string().max(MAX_SHORT_TEXT);
const identifier = z.string().min(1).max(1000);
const identifierList = z.preprocess(
  (value) => (typeof value === 'string' ? [value] : value),
  z.array(identifier).min(1).max(MAX_RECIPIENTS),
);

const attachment = z
  .object({
    /** Name shown to the recipient. */
    name: shortText.optional(),
    /** Reference to a file in the client's drive, or a mail attachment id. */
    fileId: identifier.optional(),
    /** Size in bytes, when known. */
    size: z.number().int().min(0).optional(),
  })
  .strict();

/** Fields shared by draft and send. */
const messageFields = {
  to: addressList,
  cc: optionalAddressList,
  bcc: optionalAddressList,
  subject: z.string().max(MAX_SHORT_TEXT),
  body: z.string().max(MAX_TEXT),
  attachments: z
    .union([z.array(attachment).max(100), z.null()])
    .optional()
    .transform((list) => list ?? []),
  /** The model's classification of the message; absent means unclassified, which never auto-sends. */
  emailType: z.enum(EMAIL_TYPES).optional(),
  /** Links the message contains (the body is scanned as well). */
  links: z.array(z.string().max(8192)).max(1000).optional().transform((list) => list ?? []),
  /** Provider id of the message being replied to. */
  inReplyTo: identifier.optional(),
};

const readFields = {
  /** Free-text description of what is read (query, ids); informational only. */
  query: shortText.optional(),
  /** Timestamp of the oldest item read, for the old-data-read metric. */
  oldestDataAt: isoTimestamp.optional(),
};

export const proposedActionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('mail.read'), ...readFields }).strict(),
  z.object({ kind: z.literal('calendar.read'), ...readFields }).strict(),
  z.object({ kind: z.literal('files.read'), ...readFields }).strict(),
  z.object({ kind: z.literal('crm.read'), ...readFields }).strict(),
  z.object({ kind: z.literal('mail.draft'), ...messageFields }).strict(),
  z
    .object({ kind: z.literal('mail.send'), ...messageFields, draftId: identifier.optional() })
    .strict()
    .refine((send) => send.to.length + send.cc.length + send.bcc.length > 0, {
      message: 'a send needs at least one recipient',
      path: ['to'],
    }),
  z
    .object({
      kind: z.literal('mail.label'),
      messageIds: identifierList,
      add: z.array(shortText).max(100).optional().transform((list) => list ?? []),
      remove: z.array(shortText).max(100).optional().transform((list) => list ?? []),
    })
    .strict(),
  z.object({ kind: z.literal('mail.delete'), messageIds: identifierList }).strict(),
  z.object({ kind: z.literal('mail.move'), messageIds: identifierList, destination: shortText }).strict(),
  z
    .object({
      kind: z.literal('calendar.write'),
      /** create a new event, update one (time, text, added participants) or cancel it. */
      operation: z.enum(['create', 'update', 'cancel']),
      eventId: identifier.optional(),
      title: shortText.optional(),
      description: z.string().max(MAX_TEXT).nullish(),
      location: shortText.nullish(),
      start: shortText.optional(),
      end: shortText.nullish(),
      /** Participants invited by this write; each is an outbound recipient. */
      participants: optionalAddressList,
    })
    .strict()
    // Refused here, before any approval is asked, what the calendar could never be given.
    .superRefine((write, context) => {
      for (const issue of proposedEventIssues(write)) context.addIssue({ code: 'custom', message: issue.message, path: issue.path === '(root)' ? [] : [issue.path] });
    }),
  z
    .object({
      kind: z.literal('files.share'),
      fileId: identifier,
      /** People the file is shared with; each is an outbound recipient. */
      recipients: optionalAddressList,
      permission: z.enum(['read', 'comment', 'write']),
      /** Anyone with the link can open the file. */
      public: z.boolean().optional().transform((value) => value ?? false),
    })
    .strict(),
  z
    .object({
      kind: z.literal('files.write'),
      operation: z.enum(['create', 'append', 'overwrite']),
      fileId: identifier.optional(),
      filename: shortText.optional(),
      content: z.string().max(MAX_TEXT).optional(),
    })
    .strict(),
  z.object({ kind: z.literal('files.delete'), fileId: identifier }).strict(),
  z
    .object({
      kind: z.literal('crm.write'),
      operation: z.enum(['create', 'update', 'delete']),
      recordType: shortText,
      recordId: identifier.optional(),
      fields: z.record(z.string().max(200), z.unknown()).optional(),
    })
    .strict(),
]);

export type ProposedActionInput = z.input<typeof proposedActionSchema>;
export type ProposedAction = z.output<typeof proposedActionSchema>;
export type ActionKind = ProposedAction['kind'];
export type MessageAction = Extract<ProposedAction, { kind: 'mail.draft' | 'mail.send' }>;

export const ACTION_KINDS: readonly ActionKind[] = proposedActionSchema.options.map((option) => option.shape.kind.value);

export type ActionParseResult = { ok: true; action: ProposedAction } | { ok: false; issues: string[] };

/** Validates untrusted input (the model's proposal, a CLI line); never throws. */
export function parseProposedAction(input: unknown): ActionParseResult {
  let result: ReturnType<typeof proposedActionSchema.safeParse>;
  try {
    result = proposedActionSchema.safeParse(input);
  } catch {
    // safeParse reports bad values, but an accessor or a proxy that throws while read escapes it.
    return { ok: false, issues: ['(root): the input could not be read'] };
  }
  if (result.success) return { ok: true, action: result.data };
  return {
    ok: false,
    issues: result.error.issues.slice(0, 10).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
  };
}

/** Everyone outside the mailbox this action reaches: recipients, invited participants, share targets. */
export function outboundRecipients(action: ProposedAction): readonly string[] {
  switch (action.kind) {
    case 'mail.send':
      return action.cc.length === 0 && action.bcc.length === 0
        ? action.to
        : [...new Set([...action.to, ...action.cc, ...action.bcc])];
    case 'calendar.write':
      return action.operation === 'cancel' ? [] : action.participants;
    case 'files.share':
      return action.recipients;
    default:
      return [];
  }
}

/**
 * True for actions that reach someone outside the mailbox (and so count against the send limits). An
 * update of an event does even when it invites no one: the provider sends every attendee a notice of it
 * (sendUpdates=all), with the text the update wrote, though the gate cannot see who they are.
 */
export function isOutbound(action: ProposedAction): boolean {
  return (
    action.kind === 'mail.send' ||
    (action.kind === 'files.share' && action.public) ||
    (action.kind === 'calendar.write' && action.operation === 'update') ||
    outboundRecipients(action).length > 0
  );
}

/** True for actions that only read. */
export function isRead(action: ProposedAction): boolean {
  return action.kind === 'mail.read' || action.kind === 'calendar.read' || action.kind === 'files.read' || action.kind === 'crm.read';
}
