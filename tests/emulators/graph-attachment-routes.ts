import { json, randomId, type EmulatorResponse } from './http-emulator.ts';
import { graphError, notFound } from './graph-emulator-support.ts';
import type { StoredAttachment, StoredMessage } from './graph-message-types.ts';

/** What `POST .../attachments` takes in one request; bigger files need an upload session (not emulated). */
export const GRAPH_MAX_ATTACHMENT_BYTES = 3 * 1024 * 1024;

const FILE_ATTACHMENT = '#microsoft.graph.fileAttachment';
const FILE_PROPERTIES = new Set(['@odata.type', 'name', 'contentType', 'contentBytes', 'isInline', 'contentId', 'contentLocation', 'size', 'lastModifiedDateTime']);

/**
 * A message's attachments collection: add a file attachment (`POST /me/messages/{id}/attachments`, as
 * Outlook and any Graph client with Mail.ReadWrite can, under 3 MB), list and delete. Item and reference
 * attachments and upload sessions are not emulated and are refused as such.
 */
export class GraphAttachmentRoutes {
  readonly #messages: Map<string, StoredMessage>;

  constructor(messages: Map<string, StoredMessage>) {
    this.#messages = messages;
  }

  add(messageId: string, body: Record<string, unknown> | null): EmulatorResponse {
    const message = this.#messages.get(messageId);
    if (message === undefined) return notFound();
    if (body === null) return graphError(400, 'RequestBodyRead', 'Invalid JSON in the request body.');
    const type = body['@odata.type'];
    if (typeof type !== 'string') return graphError(400, 'ErrorInvalidRequest', 'Cannot create an instance of the abstract type microsoft.graph.attachment: @odata.type is required.');
    if (type.toLowerCase() !== FILE_ATTACHMENT.toLowerCase()) {
      if (/^#microsoft\.graph\.(item|reference)attachment$/i.test(type)) return graphError(400, 'BadRequest', `${type} is not emulated.`);
      return graphError(400, 'RequestBodyRead', `A type named '${type.replace(/^#/, '')}' could not be resolved by the model.`);
    }
    for (const key of Object.keys(body)) {
      if (!FILE_PROPERTIES.has(key)) return graphError(400, 'RequestBodyRead', `The property '${key}' does not exist on type 'microsoft.graph.fileAttachment'.`);
    }
    const { name, contentBytes, contentType, isInline, contentId } = body;
    if (typeof name !== 'string' || name.trim() === '') return graphError(400, 'ErrorInvalidProperty', "Invalid value for property 'name'.");
    // Edm.Binary: standard base64 with padding.
    if (typeof contentBytes !== 'string' || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(contentBytes)) {
      return graphError(400, 'RequestBodyRead', "Cannot convert the literal to the expected type 'Edm.Binary'.");
    }
    if (contentType !== undefined && contentType !== null && typeof contentType !== 'string') return graphError(400, 'ErrorInvalidProperty', "Invalid value for property 'contentType'.");
    if (isInline !== undefined && typeof isInline !== 'boolean') return graphError(400, 'ErrorInvalidProperty', "Invalid value for property 'isInline'.");
    if (contentId !== undefined && contentId !== null && typeof contentId !== 'string') return graphError(400, 'ErrorInvalidProperty', "Invalid value for property 'contentId'.");
    const bytes = Buffer.from(contentBytes, 'base64');
    if (bytes.length >= GRAPH_MAX_ATTACHMENT_BYTES) {
      return graphError(413, 'ErrorRequestEntityTooLarge', 'The attachment is 3 MB or more: use an upload session.');
    }
    const attachment: StoredAttachment = {
      id: `AAMkatt${randomId()}`,
      name,
      contentType: typeof contentType === 'string' ? contentType : 'application/octet-stream',
      size: bytes.length,
      isInline: isInline === true,
      contentId: typeof contentId === 'string' ? contentId : null,
      contentBytes,
      lastModifiedDateTime: new Date().toISOString(),
    };
    message.attachments.push(attachment);
    return json(201, render(attachment, null));
  }

  list(messageId: string, query: URLSearchParams): EmulatorResponse {
    const message = this.#messages.get(messageId);
    if (message === undefined) return notFound();
    return json(200, { value: message.attachments.map((attachment) => render(attachment, query.get('$select'))) });
  }

  delete(messageId: string, attachmentId: string): EmulatorResponse {
    const message = this.#messages.get(messageId);
    if (message === undefined) return notFound();
    const index = message.attachments.findIndex((attachment) => attachment.id === attachmentId);
    if (index < 0) return notFound();
    message.attachments.splice(index, 1);
    return { status: 204 };
  }
}

/** An attachment as Graph renders it; `$select` keeps the type annotation and the id, as Graph does. */
function render(attachment: StoredAttachment, select: string | null): Record<string, unknown> {
  const full: Record<string, unknown> = {
    '@odata.type': FILE_ATTACHMENT,
    id: attachment.id,
    lastModifiedDateTime: attachment.lastModifiedDateTime,
    name: attachment.name,
    contentType: attachment.contentType,
    size: attachment.size,
    isInline: attachment.isInline,
    contentId: attachment.contentId,
    contentLocation: null,
    contentBytes: attachment.contentBytes,
  };
  if (select === null) return full;
  const selected: Record<string, unknown> = { '@odata.type': FILE_ATTACHMENT, id: attachment.id };
  for (const field of select.split(',').map((f) => f.trim())) if (field in full) selected[field] = full[field];
  return selected;
}
