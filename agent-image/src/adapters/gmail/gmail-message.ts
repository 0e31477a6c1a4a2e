import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { foldAddressCase } from '@agent-fleet/kernel/email-address';
import { htmlFallbackText } from '../../domain/auto-reply/html-text.ts';
import { shownInbound } from '../../domain/auto-reply/inbound-text.ts';
import { autoReplyHeaders, type MailAddress, type MailMessage } from '../../ports/mail-provider.ts';

export interface GmailEnvelope {
  id: string;
  threadId: string;
  internalDate: string | null;
  labelIds: string[];
}

function addresses(value: AddressObject | AddressObject[] | undefined): MailAddress[] {
  if (value === undefined) return [];
  const objects = Array.isArray(value) ? value : [value];
  return objects.flatMap((object) =>
    object.value.flatMap((entry) =>
      entry.address === undefined || entry.address === ''
        ? []
        : [{ address: foldAddressCase(entry.address), name: entry.name === '' ? null : entry.name }],
    ),
  );
}

/** Every address a message went to (To, Cc and Bcc, which the sender's own copy keeps), lower-cased. */
export function recipientsOf(mail: ParsedMail): string[] {
  return [...addresses(mail.to), ...addresses(mail.cc), ...addresses(mail.bcc)].map((entry) => entry.address);
}

/** Every raw value of a header, top first, unfolded (mailparser restructures some, e.g. List-Id). */
function headerTexts(mail: ParsedMail, name: string): string[] {
  return mail.headerLines
    .filter((entry) => entry.key === name)
    .map((entry) => entry.line.slice(entry.line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim());
}

function headerText(mail: ParsedMail, name: string): string | null {
  return headerTexts(mail, name)[0] ?? null;
}

/**
 * What a draft carries beside To, Cc, subject and text: the Bcc a draft's raw keeps, the HTML part,
 * every attachment mailparser finds (inline images and attached messages included), and the
 * automatic-send marks (auto-submitted.ts) as written.
 */
export function draftExtras(mail: ParsedMail): { bcc: string[]; html: string | null; attachments: number; autoSubmitted: string | null; autoResponseSuppress: string | null } {
  return {
    bcc: addresses(mail.bcc).map((entry) => entry.address),
    html: mail.html === false ? null : (mail.html ?? null),
    attachments: mail.attachments.length,
    autoSubmitted: headerText(mail, 'auto-submitted'),
    autoResponseSuppress: headerText(mail, 'x-auto-response-suppress'),
  };
}

export async function parseRaw(raw: Buffer): Promise<ParsedMail> {
  return simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true });
}

/**
 * The text body. An HTML part mailparser could not convert (nested deeper than it parses) would leave
 * it empty while a mail app still shows the message: that part's text is then read with the markup
 * removed, and said to be so.
 */
function bodyText(mail: ParsedMail): string {
  const text = mail.text ?? '';
  if (mail.textConversionError === undefined || mail.html === false || mail.html === undefined) return text;
  const fallback = `[The HTML of this message could not be converted to text: its text with the markup removed follows.]\n${htmlFallbackText(mail.html)}`;
  return text.trim() === '' ? fallback : `${text}\n\n${fallback}`;
}

/** An inbound message as the agent and its reviewers read it: `toMailMessage`, its text as shown (inbound-text.ts). */
export function toInboundMessage(mail: ParsedMail, envelope: GmailEnvelope): MailMessage {
  return shownInbound(toMailMessage(mail, envelope));
}

/** Our message type from the raw RFC 822 bytes (mailparser decodes charsets and encoded words). */
export function toMailMessage(mail: ParsedMail, envelope: GmailEnvelope): MailMessage {
  const references = mail.references === undefined ? [] : Array.isArray(mail.references) ? mail.references : [mail.references];
  const internalDate = envelope.internalDate === null ? NaN : Number(envelope.internalDate);
  return {
    id: envelope.id,
    threadId: envelope.threadId,
    from: addresses(mail.from)[0] ?? null,
    to: addresses(mail.to),
    cc: addresses(mail.cc),
    replyTo: addresses(mail.replyTo),
    subject: mail.subject ?? '',
    date: mail.date ?? null,
    messageId: mail.messageId ?? null,
    inReplyTo: mail.inReplyTo ?? null,
    references,
    listId: headerText(mail, 'list-id'),
    autoSubmitted: headerText(mail, 'auto-submitted'),
    precedence: headerText(mail, 'precedence'),
    autoReplyHeaders: autoReplyHeaders((name) => headerText(mail, name)),
    idempotencyKey: headerText(mail, 'x-agent-fleet-idempotency-key'),
    authenticationResults: headerTexts(mail, 'authentication-results'),
    textBody: bodyText(mail),
    receivedAt: Number.isFinite(internalDate) ? new Date(internalDate) : (mail.date ?? new Date(0)),
    labels: envelope.labelIds,
  };
}
