import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import addressparser from 'nodemailer/lib/addressparser';
import { foldAddressCase } from '@agent-fleet/kernel/email-address';
import { htmlFallbackText } from '../../domain/auto-reply/html-text.ts';
import { shownInbound } from '../../domain/auto-reply/inbound-text.ts';
import { MESSAGE_PARSE, shownAttachmentText, withHtmlText, type MimeParser } from './gmail-body-text.ts';
import { autoReplyHeaders, type MailAddress, type MailMessage } from '../../ports/mail-provider.ts';

export interface GmailEnvelope {
  id: string;
  threadId: string;
  internalDate: string | null;
  labelIds: string[];
}

/** An RFC 2047 encoded word. */
const ENCODED_WORD = /=\?[^?\s]+\?[bq]\?[^?\s]*\?=/i;

/**
 * The addresses of a header that are as written. mailparser decodes an encoded word inside an address
 * (`=?utf-8?q?ceo?=@client.example` becomes ceo@client.example), which RFC 2047 §5 forbids: the sender's
 * provider, its DMARC check and the client's mail app see another address than the agent would, one
 * the sender may own while the decoded one is a known contact's. When a header's addresses hold an
 * encoded word, each decoded address that is not among them as written is left out (a From then has no
 * sender, and the message is not answered).
 */
function asWritten(mail: ParsedMail, header: string): (address: string) => boolean {
  const written: string[] = [];
  const collect = (entries: readonly addressparser.AddressOrGroup[]): void => {
    for (const entry of entries) {
      if ('group' in entry) collect(entry.group ?? []);
      else written.push(entry.address.toLowerCase());
    }
  };
  for (const text of headerTexts(mail, header)) collect(addressparser(text));
  if (!written.some((address) => ENCODED_WORD.test(address))) return () => true;
  const kept = new Set(written);
  return (address) => kept.has(address.toLowerCase());
}

function addresses(value: AddressObject | AddressObject[] | undefined, written: (address: string) => boolean = () => true): MailAddress[] {
  if (value === undefined) return [];
  const objects = Array.isArray(value) ? value : [value];
  return objects.flatMap((object) =>
    object.value.flatMap((entry) =>
      entry.address === undefined || entry.address === '' || !written(entry.address)
        ? []
        : [{ address: foldAddressCase(entry.address), name: entry.name === '' ? null : entry.name }],
    ),
  );
}

/**
 * The message's sender: the one address of its one From header. RFC 5322 lets a From list several
 * authors (with a Sender), but a mail app shows them all, the provider's DMARC check may pass any one of
 * them, and a first-address rule would let `From: me@own-domain.example, ceo@client.example` read as one
 * while the client sees the other. A From with more than one address, a group, or a second From header
 * is no sender: the message is not answered and earns no contact's trust.
 */
function soleSender(mail: ParsedMail): MailAddress | null {
  if (headerTexts(mail, 'from').length !== 1) return null;
  const entries = mail.from?.value ?? [];
  if (entries.length !== 1 || entries[0]?.group !== undefined) return null;
  return addresses(mail.from, asWritten(mail, 'from'))[0] ?? null;
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

export { MAX_HTML_TO_CONVERT } from './gmail-body-text.ts';

/** How deep a message whose body is another message is read (each level is one more parse of its bytes). */
const MAX_INNER_MESSAGE_DEPTH = 2;

/**
 * A message as read: parsed once (gmail-body-text.ts converts its HTML, bounded), with the bodies
 * mailparser leaves as attachments though a mail app shows them (text/enriched, a message/rfc822 body)
 * added to its text.
 */
export async function parseRaw(raw: Buffer, parse: MimeParser = simpleParser, depth = 0): Promise<ParsedMail> {
  const mail = await withHtmlText(await parse(raw, MESSAGE_PARSE), parse);
  const innerText = async (inner: Buffer): Promise<string> =>
    depth >= MAX_INNER_MESSAGE_DEPTH ? '[It is itself another message, nested too deep to be read.]' : bodyText(await parseRaw(inner, parse, depth + 1));
  const shown = await shownAttachmentText(mail, innerText);
  if (shown.length === 0) return mail;
  return { ...mail, text: [mail.text ?? '', ...shown].filter((text) => text.trim() !== '').join('\n\n') };
}

/**
 * The text body. An HTML part mailparser could not convert (too long, nested deeper than it parses)
 * would leave it empty while a mail app still shows the message: that part's text is then read with the
 * markup removed, and said to be so. So is HTML mailparser did not convert at all: one inside a
 * multipart with no text part (multipart/mixed or /related, an invoice with its PDF), or beside a text
 * alternative left blank, where a mail app shows the HTML and the agent would read an empty message.
 */
function bodyText(mail: ParsedMail): string {
  const text = mail.text ?? '';
  const html = typeof mail.html === 'string' ? mail.html : '';
  const unconverted = mail.textConversionError !== undefined || text.trim() === '';
  if (!unconverted || html === '') return text;
  const htmlText = htmlFallbackText(html);
  if (htmlText === '') return text;
  const fallback = `[The HTML of this message could not be converted to text: its text with the markup removed follows.]\n${htmlText}`;
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
    from: soleSender(mail),
    to: addresses(mail.to, asWritten(mail, 'to')),
    cc: addresses(mail.cc, asWritten(mail, 'cc')),
    replyTo: addresses(mail.replyTo, asWritten(mail, 'reply-to')),
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
