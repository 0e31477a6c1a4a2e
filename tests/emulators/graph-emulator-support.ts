import { json, type EmulatorResponse } from './http-emulator.ts';
import type { GraphHeader, Recipient, StoredMessage } from './graph-message-types.ts';
import { renderedId } from './graph-message-store.ts';

/** What the Graph emulator's parts share: errors, payload rules, tokens in links, and rendering. */

/**
 * PidTagNativeBody, the one property that tells how a body is stored (1 text, 3 HTML): Graph serves every
 * body as HTML unless asked for text. Readable through `$expand=singleValueExtendedProperties(...)`.
 */
export const NATIVE_BODY_PROPERTY = 'Integer 0x1016';

/**
 * The ids of the mailbox's well-known folders. Graph's `parentFolderId` is the folder's opaque id, never
 * its well-known name: a reader learns which folder that is from `GET /me/mailFolders/{well-known name}`.
 */
export const FOLDER_IDS: Readonly<Record<StoredMessage['folder'], string>> = {
  inbox: 'AQMkADAwATM0MDAAFolderInbox0001AAAA',
  drafts: 'AQMkADAwATM0MDAAFolderDrafts002AAAA',
  sentitems: 'AQMkADAwATM0MDAAFolderSentItems3AAAA',
  archive: 'AQMkADAwATM0MDAAFolderArchive04AAAA',
};

/** A message as Graph renders it: `$select`, the body-content-type preference and the one `$expand` we serve. */
export function renderGraphMessage(message: StoredMessage, query: URLSearchParams, prefer: string): Record<string, unknown> {
  const asText = /outlook\.body-content-type="?text"?/.test(prefer);
  const full: Record<string, unknown> = {
    id: renderedId(message, prefer),
    conversationId: message.conversationId,
    internetMessageId: message.internetMessageId,
    subject: message.subject,
    body: asText
      ? { contentType: 'text', content: message.text }
      : { contentType: 'html', content: message.html ?? `<html><body><p>${escapeHtml(message.text)}</p></body></html>` },
    bodyPreview: message.text.slice(0, 255),
    from: message.from,
    sender: message.from,
    toRecipients: message.toRecipients,
    ccRecipients: message.ccRecipients,
    bccRecipients: message.bccRecipients,
    // Inline attachments (images in the HTML body) do not count.
    hasAttachments: message.attachments.some((attachment) => !attachment.isInline),
    replyTo: message.replyTo,
    receivedDateTime: message.receivedDateTime,
    sentDateTime: message.sentDateTime,
    isDraft: message.isDraft,
    isRead: message.isRead,
    categories: message.categories,
    parentFolderId: FOLDER_IDS[message.folder],
  };
  const expanded = expandedProperties(message, query.get('$expand'));
  const select = query.get('$select');
  if (select === null) return { ...full, ...expanded };
  const fields = select.split(',').map((f) => f.trim());
  const selected: Record<string, unknown> = { id: full['id'] };
  for (const field of fields) {
    if (field === 'internetMessageHeaders') selected[field] = message.internetMessageHeaders;
    else if (Object.hasOwn(full, field)) selected[field] = full[field];
    // Graph refuses a property the type does not have (the whole request fails); one it has but the
    // emulator does not render is refused too, rather than silently left out.
    else throw new UnsupportedQuery(`Could not find a property named '${field}' on type 'microsoft.graph.message'.`);
  }
  return { ...selected, ...expanded };
}

/**
 * `$expand=singleValueExtendedProperties($filter=id eq '...')` for the native body property: Graph lists
 * the property when the item has it, and leaves the collection out when none matches. Other expansions
 * are not emulated (their answer would be silently wrong), so they throw.
 */
function expandedProperties(message: StoredMessage, expand: string | null): Record<string, unknown> {
  if (expand === null) return {};
  const match = /^singleValueExtendedProperties\(\$filter=id eq '([^']+)'\)$/.exec(expand.trim());
  if (match === null) throw new UnsupportedQuery(`$expand=${expand} is not emulated`);
  if ((match[1] ?? '').toLowerCase() !== NATIVE_BODY_PROPERTY.toLowerCase()) return {};
  return { singleValueExtendedProperties: [{ id: NATIVE_BODY_PROPERTY, value: message.html === null || message.html === undefined ? '1' : '3' }] };
}

/** A query option the emulator does not serve; the emulator answers 400 rather than guess. */
export class UnsupportedQuery extends Error {}

/** Applies a message payload the way Graph does; unknown or read-only properties are refused. */
export function applyProperties(message: StoredMessage, body: Record<string, unknown>, creating: boolean): EmulatorResponse | null {
  for (const [key, value] of Object.entries(body)) {
    switch (key) {
      case 'subject':
        if (typeof value !== 'string') return invalidProperty(key);
        message.subject = value;
        break;
      case 'body': {
        const content = (value as { content?: unknown; contentType?: unknown } | null)?.content;
        const type = String((value as { contentType?: unknown } | null)?.contentType ?? '').toLowerCase();
        if (typeof content !== 'string' || (type !== 'text' && type !== 'html')) return invalidProperty(key);
        message.text = type === 'html' ? content.replace(/<[^>]*>/g, '') : content;
        message.html = type === 'html' ? content : null;
        break;
      }
      case 'toRecipients':
      case 'ccRecipients':
      case 'bccRecipients':
      case 'replyTo': {
        if (!Array.isArray(value) || !value.every(isRecipient)) return invalidProperty(key);
        message[key] = value.map((r) => ({ emailAddress: { address: r.emailAddress.address } }));
        break;
      }
      case 'categories':
        if (!Array.isArray(value) || !value.every((c) => typeof c === 'string')) return invalidProperty(key);
        message.categories = [...value];
        break;
      case 'isRead':
        if (typeof value !== 'boolean') return invalidProperty(key);
        message.isRead = value;
        break;
      case 'internetMessageHeaders': {
        if (!creating) return graphError(400, 'ErrorInvalidProperty', 'internetMessageHeaders can only be set when the message is created.');
        if (!Array.isArray(value) || !value.every((h) => typeof h?.name === 'string' && typeof h?.value === 'string')) return invalidProperty(key);
        for (const header of value as GraphHeader[]) {
          if (!/^x-/i.test(header.name)) {
            return graphError(400, 'InvalidInternetMessageHeader', `The internet message header name '${header.name}' should start with 'x-' or 'X-'.`);
          }
        }
        message.internetMessageHeaders = [...(value as GraphHeader[])];
        break;
      }
      default:
        return graphError(400, 'RequestBodyRead', `The property '${key}' does not exist on type 'microsoft.graph.message'.`);
    }
  }
  return null;
}

export function isRecipient(value: unknown): value is Recipient {
  const address = (value as Recipient | null)?.emailAddress?.address;
  return typeof address === 'string' && /^[^\s@]+@[^\s@]+$/.test(address);
}

export function invalidProperty(key: string): EmulatorResponse {
  return graphError(400, 'ErrorInvalidProperty', `Invalid value for property '${key}'.`);
}

export function graphError(status: number, code: string, message: string): EmulatorResponse {
  return json(status, {
    error: { code, message, innerError: { date: new Date().toISOString(), 'request-id': crypto.randomUUID(), 'client-request-id': crypto.randomUUID() } },
  });
}

export function notFound(): EmulatorResponse {
  return graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
}

export function syncStateGone(): EmulatorResponse {
  return graphError(410, 'SyncStateNotFound', 'The sync state generation is not found. Resync is required.');
}

export function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeToken(token: string): unknown {
  return JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
}

export function parseJson(body: string): Record<string, unknown> | null {
  if (body === '') return null;
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('\n', '<br>');
}
