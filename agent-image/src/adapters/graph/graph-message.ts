import { domainToASCII } from 'node:url';
import * as z from 'zod';
import addressparser from 'nodemailer/lib/addressparser';
import { foldAddressCase } from '@agent-fleet/kernel/email-address';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { htmlFallbackText } from '../../domain/auto-reply/html-text.ts';
import { shownInbound } from '../../domain/auto-reply/inbound-text.ts';
import { autoReplyHeaders, SENT_MAIL_LABELS, type Draft, type MailAddress, type MailMessage } from '../../ports/mail-provider.ts';

/** The Graph message fields we read, validated: a provider answer is still untrusted input. */
const recipient = z.object({ emailAddress: z.object({ address: z.string().optional(), name: z.string().nullish() }) });
export const graphMessageSchema = z.object({
  id: z.string().min(1),
  conversationId: z.string().nullish(),
  internetMessageId: z.string().nullish(),
  subject: z.string().nullish(),
  body: z.object({ contentType: z.string(), content: z.string() }).nullish(),
  from: recipient.nullish(),
  toRecipients: z.array(recipient).nullish(),
  ccRecipients: z.array(recipient).nullish(),
  bccRecipients: z.array(recipient).nullish(),
  replyTo: z.array(recipient).nullish(),
  receivedDateTime: z.string().nullish(),
  sentDateTime: z.string().nullish(),
  categories: z.array(z.string()).nullish(),
  isRead: z.boolean().nullish(),
  /** The folder the message is in: only the mailbox's own sends are in Sent Items. */
  parentFolderId: z.string().nullish(),
  internetMessageHeaders: z.array(z.object({ name: z.string(), value: z.string() })).nullish(),
  singleValueExtendedProperties: z.array(z.object({ id: z.string(), value: z.string().nullish() })).nullish(),
});
export type GraphMessage = z.infer<typeof graphMessageSchema>;

/** The $select every read uses; internetMessageHeaders only come back when selected. */
export const MESSAGE_FIELDS = [
  'id',
  'conversationId',
  'internetMessageId',
  'subject',
  'body',
  'from',
  'toRecipients',
  'ccRecipients',
  'replyTo',
  'receivedDateTime',
  'sentDateTime',
  'categories',
  'isRead',
  'parentFolderId',
  'internetMessageHeaders',
].join(',');

/**
 * The label a message read from Graph carries when it is in the mailbox's Sent Items, where only the
 * mailbox's own sends are: the Graph counterpart of Gmail's `SENT`, a proof of own mail (OwnMailProof's
 * `sentLabel`). Categories come from anyone (Exchange turns a sender's `Keywords` header into categories),
 * so a category of this name is never passed on as a label.
 */
export const GRAPH_SENT_LABEL = SENT_MAIL_LABELS.outlook;

/** An RFC 2047 encoded word. */
const ENCODED_WORD = /=\?[^?\s]+\?[bq]\?[^?\s]*\?=/i;

function address(value: z.infer<typeof recipient> | null | undefined): MailAddress | null {
  const raw = value?.emailAddress.address;
  if (raw === undefined || raw === '') return null;
  const name = value?.emailAddress.name;
  return { address: foldAddressCase(raw), name: name === undefined || name === null || name === '' || name === raw ? null : name };
}

function addresses(values: z.infer<typeof recipient>[] | null | undefined): MailAddress[] {
  return (values ?? []).flatMap((value) => {
    const parsed = address(value);
    return parsed === null ? [] : [parsed];
  });
}

/**
 * The addresses of a header that are as written. An encoded word inside an address
 * (`=?utf-8?q?ceo?=@client.example`) is forbidden by RFC 2047 §5, and whether Exchange decodes it when it
 * fills `from` and the recipient lists is not documented: if it does, the agent would see an address (a
 * known contact's) that the sender's DMARC check and the client's mail app never saw. When the raw header
 * (internetMessageHeaders) holds an encoded word in an address, each address Graph gives that is not
 * among those written there is left out (a From then has no sender, and the message is not answered), as
 * the Gmail adapter does. Without the raw header (a draft, a message sent from the mailbox) Graph's
 * addresses stand.
 */
function asWritten(message: GraphMessage, header: string): (address: string) => boolean {
  const written: string[] = [];
  const collect = (entries: readonly addressparser.AddressOrGroup[]): void => {
    for (const entry of entries) {
      if ('group' in entry) collect(entry.group ?? []);
      else written.push(entry.address.toLowerCase());
    }
  };
  for (const text of headers(message, header)) collect(addressparser(text));
  if (!written.some((value) => ENCODED_WORD.test(value))) return () => true;
  const kept = new Set(written);
  return (value) => kept.has(value.toLowerCase());
}

/**
 * Whether Graph's `from` is the message's one author as the raw headers write it. Graph gives one `from`
 * whatever the header holds, but RFC 5322 lets a From list several authors, a mail app shows them all,
 * and the provider's DMARC check may pass any one of them: `From: ceo@client.example, eve@evil.example`
 * would read as the known contact while the client sees (and EOP may have authenticated) the other. As
 * the Gmail adapter does, a From header with more than one address or a group, a second From header, or
 * one whose address is not Graph's `from` is no sender (the message is not answered). Without a From
 * among the raw headers (a draft, a message sent from the mailbox, none given) Graph's `from` stands.
 */
function fromAsWritten(message: GraphMessage, from: MailAddress): boolean {
  const written = headers(message, 'from');
  if (written.length === 0) return true;
  if (written.length > 1) return false;
  const value = written[0] ?? '';
  // addressparser reads any white space in a quoted local part as one space; Graph gives an IDN domain in
  // Unicode where the header may carry its punycode (both are the same domain).
  const spaced = (address: string): string => asciiDomain(foldAddressCase(address).replace(/\s+/g, ' '));
  const soleAddress = (text: string): string | null => {
    const entries = addressparser(text);
    const sole = entries.length === 1 ? entries[0] : undefined;
    return sole === undefined || 'group' in sole ? null : spaced(sole.address);
  };
  const readings = [soleAddress(value), soleAddress(asUtf8(value))];
  return readings.every((address) => address !== null) && readings.includes(spaced(from.address));
}

/** The address with its domain in ASCII (punycode), as UTS #46 maps it; unchanged when it cannot be mapped. */
function asciiDomain(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return address;
  const ascii = domainToASCII(address.slice(at + 1));
  return ascii === '' ? address : `${address.slice(0, at)}@${ascii}`;
}

/** A header value given as its bytes, one character each (UTF-8 read as Latin-1), read as UTF-8; else as given. */
function asUtf8(value: string): string {
  return /^[\u0000-\u00ff]*$/.test(value) ? Buffer.from(value, 'latin1').toString('utf8') : value;
}

/** Every value of a header, in message order (top first), as Graph lists internetMessageHeaders. */
function headers(message: GraphMessage, name: string): string[] {
  return (message.internetMessageHeaders ?? []).filter((h) => h.name.toLowerCase() === name).map((h) => h.value.replace(/\r?\n[ \t]+/g, ' ').trim());
}

function header(message: GraphMessage, name: string): string | null {
  return headers(message, name)[0] ?? null;
}

function date(value: string | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? null : parsed;
}

function textOf(message: GraphMessage): string {
  const body = message.body;
  if (body === null || body === undefined) return '';
  if (body.contentType.toLowerCase() === 'text') return body.content;
  // Asked for text with the Prefer header; a server that ignored it still gets readable text.
  return htmlFallbackText(body.content);
}

/**
 * An inbound message (getMessage, getThread) as the agent and its reviewers read it (inbound-text.ts).
 * `sentItemsId`: the id of the mailbox's Sent Items folder; a message in it is labelled GRAPH_SENT_LABEL
 * (none is when it is not known).
 */
export function toMailMessage(message: GraphMessage, sentItemsId: string | null = null): MailMessage {
  const fields = fieldsOf(message);
  const kept = (entries: MailAddress[], header: string): MailAddress[] => {
    const written = asWritten(message, header);
    return entries.filter((entry) => written(entry.address));
  };
  const inSentItems = sentItemsId !== null && sentItemsId !== '' && message.parentFolderId === sentItemsId;
  return shownInbound({
    ...fields,
    from: fields.from !== null && fromAsWritten(message, fields.from) ? (kept([fields.from], 'from')[0] ?? null) : null,
    to: kept(fields.to, 'to'),
    cc: kept(fields.cc, 'cc'),
    replyTo: kept(fields.replyTo, 'reply-to'),
    labels: [...fields.labels.filter((label) => label.trim().toLowerCase() !== GRAPH_SENT_LABEL), ...(inSentItems ? [GRAPH_SENT_LABEL] : [])],
  });
}

/** The message's fields as Graph gives them: a draft is read as written. */
function fieldsOf(message: GraphMessage): MailMessage {
  const references = (header(message, 'references') ?? '').split(/\s+/).filter((r) => r !== '');
  return {
    id: message.id,
    threadId: message.conversationId ?? message.id,
    from: address(message.from),
    to: addresses(message.toRecipients),
    cc: addresses(message.ccRecipients),
    replyTo: addresses(message.replyTo),
    subject: message.subject ?? '',
    date: date(message.sentDateTime),
    messageId: message.internetMessageId ?? null,
    inReplyTo: header(message, 'in-reply-to'),
    references,
    listId: header(message, 'list-id'),
    autoSubmitted: header(message, 'auto-submitted'),
    precedence: header(message, 'precedence'),
    autoReplyHeaders: autoReplyHeaders((name) => header(message, name)),
    idempotencyKey: header(message, 'x-agent-fleet-idempotency-key'),
    authenticationResults: headers(message, 'authentication-results'),
    textBody: textOf(message),
    receivedAt: date(message.receivedDateTime) ?? new Date(0),
    labels: message.categories ?? [],
  };
}

/**
 * PidTagNativeBody (MS-OXPROPS 0x1016): how Exchange stores a body, 1 plain text, 2 RTF, 3 HTML. Graph
 * renders every body as HTML unless asked for text, so only this tells a text body from an HTML one.
 */
export const NATIVE_BODY_PROPERTY = 'Integer 0x1016';

/** How the message's body is stored, from the expanded native body property; unknown when absent. */
export function nativeBodyOf(message: GraphMessage): 'text' | 'rtf' | 'html' | 'unknown' {
  const value = (message.singleValueExtendedProperties ?? []).find((property) => property.id.toLowerCase() === NATIVE_BODY_PROPERTY.toLowerCase())?.value;
  return value === '1' ? 'text' : value === '2' ? 'rtf' : value === '3' ? 'html' : 'unknown';
}

/**
 * A draft read with its text body; `html` is its body as HTML when it is not stored as text (null when
 * it is), `attachments` the size of its attachments collection.
 */
export function toDraft(message: GraphMessage, extra: { html: string | null; attachments: number }): Draft {
  const mail = fieldsOf(message);
  return {
    id: message.id,
    messageId: message.id,
    threadId: mail.threadId,
    to: mail.to.map((a) => a.address),
    cc: mail.cc.map((a) => a.address),
    bcc: addresses(message.bccRecipients).map((a) => a.address),
    subject: mail.subject,
    body: mail.textBody,
    html: extra.html,
    attachments: extra.attachments,
    idempotencyKey: mail.idempotencyKey,
    autoSubmitted: mail.autoSubmitted,
    autoResponseSuppress: header(message, 'x-auto-response-suppress'),
  };
}

/**
 * How many attachments a collection page lists; a next page makes it one more (a lower bound, which is
 * all a caller that wants none needs). Any other shape is an integrity error.
 */
export function attachmentCount(page: unknown): number {
  const list = (page as { value?: unknown } | null)?.value;
  if (!Array.isArray(list)) throw new FleetError('integrity', 'graph answered an attachment list in an unexpected shape');
  if ((page as { '@odata.nextLink'?: unknown })['@odata.nextLink'] !== undefined) return list.length + 1;
  return list.length;
}

/** Every address a message went to (To, Cc, Bcc), lower-cased. */
export function sentTo(message: GraphMessage): string[] {
  return [...addresses(message.toRecipients), ...addresses(message.ccRecipients), ...addresses(message.bccRecipients)].map((entry) => entry.address);
}

export function recipients(addressList: string[]): { emailAddress: { address: string } }[] {
  return addressList.map((value) => ({ emailAddress: { address: value } }));
}
