import { autoSubmittedHeaders, type AutoSubmitted } from '../../domain/auto-reply/auto-submitted.ts';
import { IDEMPOTENCY_HEADER, assertIdempotencyKey } from '../../domain/idempotency-key.ts';
import { createHash } from 'node:crypto';
import { isEmailAddress } from '@agent-fleet/kernel/email-address';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import MailComposer from 'nodemailer/lib/mail-composer';

export interface OutgoingMime {
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  body: string;
  html?: string | undefined;
  /** Message-ID of the message answered, with angle brackets. */
  inReplyTo: string | null;
  references: string[];
  idempotencyKey: string;
  /** How the message is marked as automatic (auto-submitted.ts); absent or null: a human's, unmarked. */
  autoSubmitted?: AutoSubmitted | null | undefined;
}

/** Deterministic Message-ID for a key, so a sent message can be searched for with `rfc822msgid:`. */
export function messageIdFor(idempotencyKey: string, from: string): string {
  const domain = /@([A-Za-z0-9.-]+)$/.exec(from)?.[1] ?? 'agent-fleet.invalid';
  const digest = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32);
  return `<af-${digest}@${domain}>`;
}

/** RFC 822 message as Gmail's `raw` field wants it: base64url, built by nodemailer's MailComposer. */
export async function buildRawMessage(mime: OutgoingMime): Promise<string> {
  assertIdempotencyKey(mime.idempotencyKey);
  // MailComposer parses recipient strings: `a,b@x.com` or `"x" <y@evil.com>` would become recipients
  // nobody checked. Only plain addresses go in.
  if (![...mime.to, ...mime.cc].every(isEmailAddress)) throw new FleetError('invalid_input', 'recipients must be plain email addresses');
  const message = await new MailComposer({
    from: mime.from,
    to: mime.to,
    cc: mime.cc.length > 0 ? mime.cc : undefined,
    // Model-written text: a line break in a header would start a new header.
    subject: mime.subject.replace(/[\r\n]+/g, ' '),
    text: mime.body,
    ...(mime.html === undefined ? {} : { html: mime.html }),
    messageId: messageIdFor(mime.idempotencyKey, mime.from),
    inReplyTo: mime.inReplyTo ?? undefined,
    references: mime.references.length > 0 ? mime.references : undefined,
    headers: { ...autoSubmittedHeaders(mime.autoSubmitted ?? null), [IDEMPOTENCY_HEADER]: mime.idempotencyKey },
  })
    .compile()
    .build();
  return message.toString('base64url');
}
