import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
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
        : [{ address: entry.address.toLowerCase(), name: entry.name === '' ? null : entry.name }],
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
 * What a draft carries beside To, Cc, subject and text: the Bcc a draft's raw keeps, the HTML part, and
 * every attachment mailparser finds (inline images and attached messages included).
 */
export function draftExtras(mail: ParsedMail): { bcc: string[]; html: string | null; attachments: number } {
  return {
    bcc: addresses(mail.bcc).map((entry) => entry.address),
    html: mail.html === false ? null : (mail.html ?? null),
    attachments: mail.attachments.length,
  };
}

export async function parseRaw(raw: Buffer): Promise<ParsedMail> {
  return simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true });
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
    textBody: mail.text ?? '',
    receivedAt: Number.isFinite(internalDate) ? new Date(internalDate) : (mail.date ?? new Date(0)),
    labels: envelope.labelIds,
  };
}
