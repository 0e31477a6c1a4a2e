import { simpleParser, type AddressObject } from 'mailparser';
import addressparser from 'nodemailer/lib/addressparser';
import { looksLikeRfc822 } from './gmail-raw-import.ts';
import { randomId } from './http-emulator.ts';
import { newRestId } from './graph-message-store.ts';
import type { GraphHeader, Recipient, StoredMessage } from './graph-message-types.ts';

/**
 * Delivery of raw RFC 5322 bytes to the emulated Exchange Online inbox, as a message received over SMTP
 * would land: Graph then serves the parsed properties (from, toRecipients, ccRecipients, replyTo, …)
 * and every header, top first and unfolded, in `internetMessageHeaders`. Graph has no API for this
 * (its MIME upload creates drafts), so it is an emulator-only route. Exchange Online's default maximum
 * receive size (36 MB) applies; bytes that do not start with a header field are refused.
 */

export const GRAPH_MAX_RECEIVE_BYTES = 36 * 1024 * 1024;

/** Recipients of an address header value (`Name <a@b>, c@d`), groups flattened. */
export function addressList(value: string): Recipient[] {
  return addressparser(value, { flatten: true })
    .filter((entry) => entry.address !== '')
    .map((entry) => ({ emailAddress: { address: entry.address, ...(entry.name === '' ? {} : { name: entry.name }) } }));
}

function recipients(value: AddressObject | AddressObject[] | undefined): Recipient[] {
  if (value === undefined) return [];
  return [value].flat().flatMap((object) =>
    object.value.flatMap((entry) =>
      entry.address === undefined || entry.address === ''
        ? []
        : [{ emailAddress: { address: entry.address, ...(entry.name === '' ? {} : { name: entry.name }) } }],
    ),
  );
}

/** The comma-separated phrases of every `Keywords` header, each once, as categories. */
function keywordsOf(headers: GraphHeader[]): string[] {
  const phrases = headers.filter((header) => header.name.toLowerCase() === 'keywords').flatMap((header) => header.value.split(','));
  return [...new Set(phrases.map((phrase) => phrase.trim()).filter((phrase) => phrase !== ''))];
}

/** Why Exchange Online would refuse these bytes; null when it accepts them. */
export function mimeRefusal(raw: Buffer): string | null {
  if (raw.length > GRAPH_MAX_RECEIVE_BYTES) return '552 5.3.4 Message size exceeds fixed maximum message size';
  if (!looksLikeRfc822(raw)) return '550 5.6.0 Invalid message content: no header fields';
  return null;
}

/**
 * The stored inbox message for raw bytes. `conversationOf` names the conversation of a message the new
 * one references (In-Reply-To, References), or null for a new conversation.
 */
export async function storedFromMime(
  raw: Buffer,
  conversationOf: (referencedIds: string[]) => string | null,
): Promise<StoredMessage> {
  const refusal = mimeRefusal(raw);
  if (refusal !== null) throw new Error(refusal);
  const mail = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true });
  const headers: GraphHeader[] = mail.headerLines.map((line) => {
    const colon = line.line.indexOf(':');
    return { name: line.line.slice(0, colon), value: line.line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim() };
  });
  const references = [mail.inReplyTo ?? '', ...[mail.references ?? []].flat()].filter((id) => id !== '');
  const now = new Date().toISOString();
  const html = typeof mail.html === 'string' ? mail.html : null;
  return {
    id: `AAMk${randomId()}`,
    restId: newRestId(),
    conversationId: conversationOf(references) ?? `AAQk${randomId()}`,
    internetMessageId: mail.messageId ?? `<${randomId('mime-')}@emulator.invalid>`,
    subject: mail.subject ?? '',
    text: mail.text ?? (html === null ? '' : html.replace(/<[^>]*>/g, '')),
    html,
    from: recipients(mail.from)[0] ?? null,
    toRecipients: recipients(mail.to),
    ccRecipients: recipients(mail.cc),
    bccRecipients: recipients(mail.bcc),
    replyTo: recipients(mail.replyTo),
    receivedDateTime: now,
    sentDateTime: mail.date?.toISOString() ?? null,
    isDraft: false,
    isRead: false,
    // Exchange keeps a `Keywords` header as the item's categories (PidNameKeywords, MS-OXCMAIL): a sender names them.
    categories: keywordsOf(headers),
    folder: 'inbox',
    internetMessageHeaders: headers,
    inReplyTo: null,
    attachments: mail.attachments.map((attachment) => ({
      id: `AAMkatt${randomId()}`,
      name: attachment.filename ?? 'attachment',
      contentType: attachment.contentType,
      size: attachment.size,
      isInline: attachment.contentDisposition === 'inline',
      contentId: attachment.cid ?? null,
      contentBytes: attachment.content.toString('base64'),
      lastModifiedDateTime: now,
    })),
  };
}
