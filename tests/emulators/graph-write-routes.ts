import { json, randomId, type EmulatorResponse } from './http-emulator.ts';
import { applyProperties, graphError, notFound, renderGraphMessage } from './graph-emulator-support.ts';
import type { StoredMessage } from './graph-message-types.ts';
import type { GraphSentRecord } from './graph-emulator.ts';
import { newRestId, type GraphMessageStore } from './graph-message-store.ts';

/** Graph's message writes: create, createReply, update, delete, send and move, with their rules. */
export class GraphWriteRoutes {
  readonly #messages: GraphMessageStore;
  readonly #mailbox: string;
  readonly #sent: GraphSentRecord[];
  readonly #event: (messageId: string, type: 'created' | 'updated' | 'deleted') => void;

  constructor(options: {
    messages: GraphMessageStore;
    mailbox: string;
    sent: GraphSentRecord[];
    event: (messageId: string, type: 'created' | 'updated' | 'deleted') => void;
  }) {
    this.#messages = options.messages;
    this.#mailbox = options.mailbox;
    this.#sent = options.sent;
    this.#event = options.event;
  }

  create(body: Record<string, unknown> | null, prefer: string): EmulatorResponse {
    if (body === null) return graphError(400, 'RequestBodyRead', 'Invalid JSON in the request body.');
    const message: StoredMessage = {
      id: `AAMk${randomId()}`,
      restId: newRestId(),
      conversationId: `AAQk${randomId()}`,
      internetMessageId: `<${randomId('draft-')}@${this.#mailbox.split('@')[1] ?? 'example'}>`,
      subject: '',
      text: '',
      from: { emailAddress: { address: this.#mailbox } },
      toRecipients: [],
      ccRecipients: [],
      bccRecipients: [],
      replyTo: [],
      receivedDateTime: new Date().toISOString(),
      sentDateTime: null,
      isDraft: true,
      isRead: true,
      categories: [],
      folder: 'drafts',
      internetMessageHeaders: [],
      inReplyTo: null,
      attachments: [],
    };
    const error = applyProperties(message, body, true);
    if (error !== null) return error;
    this.#messages.set(message.id, message);
    return json(201, renderGraphMessage(message, new URLSearchParams(), prefer));
  }
  createReply(id: string, body: Record<string, unknown> | null, prefer: string): EmulatorResponse {
    const original = this.#messages.get(id);
    if (original === undefined) return notFound();
    const draft: StoredMessage = {
      id: `AAMk${randomId()}`,
      restId: newRestId(),
      conversationId: original.conversationId,
      internetMessageId: `<${randomId('reply-')}@${this.#mailbox.split('@')[1] ?? 'example'}>`,
      subject: `RE: ${original.subject}`,
      text: '',
      from: { emailAddress: { address: this.#mailbox } },
      // Like Outlook, a reply goes to the Reply-To addresses when the original has them.
      toRecipients: original.replyTo.length > 0 ? [...original.replyTo] : original.from === null ? [] : [original.from],
      ccRecipients: [],
      bccRecipients: [],
      replyTo: [],
      receivedDateTime: new Date().toISOString(),
      sentDateTime: null,
      isDraft: true,
      isRead: true,
      categories: [],
      folder: 'drafts',
      internetMessageHeaders: [],
      inReplyTo: original.internetMessageId,
      attachments: [],
    };
    const payload = body ?? {};
    for (const key of Object.keys(payload)) {
      if (key !== 'message' && key !== 'comment') return graphError(400, 'RequestBodyRead', `The parameter '${key}' in the request payload is not a valid parameter.`);
    }
    if (typeof payload['comment'] === 'string') draft.text = payload['comment'];
    const message = payload['message'];
    if (message !== undefined) {
      if (typeof message !== 'object' || message === null) return graphError(400, 'RequestBodyRead', 'message must be an object.');
      const error = applyProperties(draft, message as Record<string, unknown>, true);
      if (error !== null) return error;
    }
    this.#messages.set(draft.id, draft);
    return json(201, renderGraphMessage(draft, new URLSearchParams(), prefer));
  }
  patch(id: string, body: Record<string, unknown> | null, query: URLSearchParams, prefer: string): EmulatorResponse {
    const message = this.#messages.get(id);
    if (message === undefined) return notFound();
    if (body === null) return graphError(400, 'RequestBodyRead', 'Invalid JSON in the request body.');
    const editsContent = ['subject', 'body', 'toRecipients', 'ccRecipients', 'bccRecipients'].some((k) => k in body);
    if (editsContent && !message.isDraft) {
      return graphError(400, 'ErrorInvalidPropertyUpdateSentMessage', 'Update operation is invalid for property of a sent message.');
    }
    const error = applyProperties(message, body, false);
    if (error !== null) return error;
    if (message.folder === 'inbox') this.#event(message.id, 'updated');
    return json(200, renderGraphMessage(message, query, prefer));
  }
  delete(id: string): EmulatorResponse {
    const message = this.#messages.get(id);
    if (message === undefined) return notFound();
    if (message.folder === 'inbox') this.#event(message.id, 'deleted');
    this.#messages.delete(message.id);
    return { status: 204 };
  }
  send(id: string): EmulatorResponse {
    const message = this.#messages.get(id);
    if (message === undefined) return notFound();
    if (!message.isDraft) return graphError(400, 'ErrorInvalidOperation', 'Only draft messages can be sent.');
    if (message.toRecipients.length + message.ccRecipients.length + message.bccRecipients.length === 0) {
      return graphError(400, 'ErrorInvalidRecipients', 'At least one recipient is not valid., Recipient is missing.');
    }
    message.isDraft = false;
    message.folder = 'sentitems';
    message.sentDateTime = new Date().toISOString();
    message.receivedDateTime = message.sentDateTime;
    this.#sent.push({
      id: message.id,
      conversationId: message.conversationId,
      subject: message.subject,
      text: message.text,
      html: message.html ?? null,
      to: message.toRecipients.map((r) => r.emailAddress.address),
      cc: message.ccRecipients.map((r) => r.emailAddress.address),
      bcc: message.bccRecipients.map((r) => r.emailAddress.address),
      attachments: message.attachments.map(({ name, contentType, size, isInline }) => ({ name, contentType, size, isInline })),
      inReplyTo: message.inReplyTo,
      internetMessageHeaders: [...message.internetMessageHeaders],
    });
    return { status: 202 };
  }
  move(id: string, body: Record<string, unknown> | null, prefer: string): EmulatorResponse {
    const message = this.#messages.get(id);
    if (message === undefined) return notFound();
    const destination = body?.['destinationId'];
    if (typeof destination !== 'string' || !['inbox', 'archive', 'drafts', 'sentitems'].includes(destination.toLowerCase())) {
      return graphError(400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
    }
    moveMessage(message, destination.toLowerCase() as StoredMessage['folder'], this.#event);
    return json(201, renderGraphMessage(message, new URLSearchParams(), prefer));
  }
}

/**
 * Moves a message as Exchange does, whoever moves it (a Graph request, the user in Outlook): its REST id
 * changes, its immutable id stays; the inbox's delta sees it leave or arrive.
 */
export function moveMessage(message: StoredMessage, folder: StoredMessage['folder'], event: (messageId: string, type: 'created' | 'updated' | 'deleted') => void): void {
  if (message.folder === folder) return;
  if (message.folder === 'inbox') event(message.id, 'deleted');
  message.folder = folder;
  message.restId = newRestId();
  if (message.folder === 'inbox') event(message.id, 'created');
}
