import { simpleParser } from 'mailparser';
import { decodeBase64UrlStrict, json, randomId, type EmulatorResponse } from './http-emulator.ts';
import { addressesOf, gmailError, parseJson, renderMessage } from './gmail-emulator-support.ts';
import type { GmailMailbox } from './gmail-mailbox.ts';
import { parseRawImport } from './gmail-raw-import.ts';
import type { SentRecord } from './gmail-emulator.ts';

/** The routes that write mail: drafts (create, update, read, delete, send) and raw import/insert. */
export class GmailComposeRoutes {
  readonly #box: GmailMailbox;
  readonly #sent: SentRecord[];

  constructor(box: GmailMailbox, sent: SentRecord[]) {
    this.#box = box;
    this.#sent = sent;
  }

  async putDraft(draftId: string | null, body: string): Promise<EmulatorResponse> {
    if (draftId !== null && !this.#box.drafts.has(draftId)) {
      return gmailError(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    }
    const parsed = parseJson(body) as { message?: { raw?: unknown; threadId?: unknown } } | null;
    const raw = parsed?.message?.raw;
    if (typeof raw !== 'string' || raw === '') return gmailError(400, 'Missing draft message', 'invalidArgument', 'INVALID_ARGUMENT');
    const bytes = decodeBase64UrlStrict(raw);
    if (bytes === null || !/^[\x21-\x39\x3b-\x7e]+:/.test(bytes.toString('latin1'))) {
      return gmailError(400, "Invalid value at 'draft.message.raw' (TYPE_BYTES), Base64 decoding failed", 'invalidArgument', 'INVALID_ARGUMENT');
    }
    const requestedThread = parsed?.message?.threadId;
    if (requestedThread !== undefined && typeof requestedThread !== 'string') {
      return gmailError(400, 'Invalid threadId', 'invalidArgument', 'INVALID_ARGUMENT');
    }
    if (requestedThread !== undefined && ![...this.#box.messages.values()].some((m) => m.threadId === requestedThread)) {
      return gmailError(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    }
    const previous = draftId === null ? undefined : this.#box.messages.get(this.#box.drafts.get(draftId) ?? '');
    if (previous !== undefined) this.#box.messages.delete(previous.id);
    const parsedMail = await simpleParser(bytes);
    const threadId =
      requestedThread !== undefined && this.#box.joinsThread(parsedMail, requestedThread) ? requestedThread : randomId('t');
    const stored = await this.#box.store(bytes, threadId, ['DRAFT']);
    const id = draftId ?? `r-${randomId()}`;
    this.#box.drafts.set(id, stored.id);
    return json(200, { id, message: { id: stored.id, threadId: stored.threadId, labelIds: ['DRAFT'] } });
  }
  async importRoute(operation: 'import' | 'insert', body: string, query: URLSearchParams): Promise<EmulatorResponse> {
    const spec = parseRawImport(operation, body, query, gmailError);
    if ('status' in spec) return spec;
    for (const label of spec.labelIds) {
      if (!this.#box.labels.has(label)) return gmailError(400, `Invalid label: ${label}`, 'invalidArgument', 'INVALID_ARGUMENT');
    }
    if (spec.threadId !== undefined && ![...this.#box.messages.values()].some((m) => m.threadId === spec.threadId)) {
      return gmailError(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    }
    const mail = await simpleParser(spec.raw);
    // Gmail threads by References/In-Reply-To and subject, whether or not a threadId was asked for.
    const threadId =
      spec.threadId !== undefined && this.#box.joinsThread(mail, spec.threadId) ? spec.threadId : (this.#box.threadOf(mail) ?? randomId('t'));
    const stored = await this.#box.store(spec.raw, threadId, spec.labelIds, spec.internalDateSource === 'receivedTime' ? Date.now() : undefined);
    return json(200, { id: stored.id, threadId: stored.threadId, labelIds: [...stored.labelIds] });
  }
  getDraft(draftId: string, query: URLSearchParams): EmulatorResponse {
    const message = this.#box.messages.get(this.#box.drafts.get(draftId) ?? '');
    if (message === undefined) return gmailError(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    const rendered = renderMessage(message, query);
    if (rendered === null) return gmailError(400, 'Invalid format', 'invalidArgument', 'INVALID_ARGUMENT');
    return json(200, { id: draftId, message: rendered });
  }
  deleteDraft(draftId: string): EmulatorResponse {
    const messageId = this.#box.drafts.get(draftId);
    if (messageId === undefined) return gmailError(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    this.#box.drafts.delete(draftId);
    this.#box.messages.delete(messageId);
    return { status: 204 };
  }
  async sendDraft(body: string): Promise<EmulatorResponse> {
    const parsed = parseJson(body) as { id?: unknown } | null;
    const draftId = parsed?.id;
    if (typeof draftId !== 'string') return gmailError(400, 'Invalid draft', 'invalidArgument', 'INVALID_ARGUMENT');
    const messageId = this.#box.drafts.get(draftId);
    const message = messageId === undefined ? undefined : this.#box.messages.get(messageId);
    if (message === undefined) return gmailError(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    const recipients = [message.parsed.to, message.parsed.cc, message.parsed.bcc].flatMap(addressesOf);
    if (recipients.length === 0) return gmailError(400, 'Recipient address required', 'invalidArgument', 'INVALID_ARGUMENT');
    this.#box.drafts.delete(draftId);
    message.labelIds = new Set(['SENT']);
    message.historyId = ++this.#box.historyId;
    message.internalDate = Date.now();
    this.#box.history.push({ id: message.historyId, messageId: message.id, threadId: message.threadId, labelIds: ['SENT'] });
    this.#sent.push({
      id: message.id,
      threadId: message.threadId,
      raw: message.raw.toString('utf8'),
      parsed: message.parsed,
      headers: new Map(message.headers.map((h) => [h.name.toLowerCase(), h.value])),
    });
    return json(200, { id: message.id, threadId: message.threadId, labelIds: ['SENT'] });
  }
}
