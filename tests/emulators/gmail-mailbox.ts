import { randomInt } from 'node:crypto';
import { simpleParser, type ParsedMail } from 'mailparser';
import { json, randomId, type EmulatorResponse } from './http-emulator.ts';
import {
  asArray,
  clampInt,
  gmailError,
  normaliseSubject,
  parseJson,
  parseSearch,
  renderMessage,
  stringArray,
  type HistoryRecord,
  type StoredMessage,
} from './gmail-emulator-support.ts';

function invalidPageToken(): EmulatorResponse {
  return gmailError(400, 'Invalid pageToken', 'invalidArgument', 'INVALID_ARGUMENT');
}

const SYSTEM_LABELS = ['INBOX', 'SENT', 'DRAFT', 'UNREAD', 'STARRED', 'IMPORTANT', 'SPAM', 'TRASH'];

/**
 * The emulated mailbox: messages, drafts, labels and history, with Gmail's read routes and threading
 * rule. The emulator owns authentication and the write routes that compose and send.
 */
export class GmailMailbox {
  readonly address: string;
  readonly messages = new Map<string, StoredMessage>();
  /** Draft id → message id. */
  readonly drafts = new Map<string, string>();
  readonly labels = new Map<string, { id: string; name: string; type: 'system' | 'user' }>();
  history: HistoryRecord[] = [];
  historyId = 1000;
  oldestRetainedHistoryId = 0;
  /** Page tokens handed out, each valid only for the listing that issued it (Gmail refuses any other: 400). */
  readonly #pageTokens = new Map<string, { listing: 'messages' | 'history'; offset: number }>();
  readonly #onAdded: (historyId: number, labelIds: string[]) => void;

  constructor(address: string, onAdded: (historyId: number, labelIds: string[]) => void) {
    this.address = address;
    this.#onAdded = onAdded;
    for (const name of SYSTEM_LABELS) this.labels.set(name, { id: name, name, type: 'system' });
  }

  profile(): EmulatorResponse {
    return json(200, {
      emailAddress: this.address,
      messagesTotal: this.messages.size,
      threadsTotal: new Set([...this.messages.values()].map((m) => m.threadId)).size,
      historyId: String(this.historyId),
    });
  }

  listMessages(query: URLSearchParams): EmulatorResponse {
    const maxResults = clampInt(query.get('maxResults'), 100, 1, 500);
    if (maxResults === null) return gmailError(400, 'Invalid maxResults', 'invalidArgument', 'INVALID_ARGUMENT');
    const labelIds = query.getAll('labelIds');
    const includeSpamTrash = query.get('includeSpamTrash') === 'true';
    const filter = parseSearch(query.get('q') ?? '');
    const all = [...this.messages.values()]
      .filter((m) => labelIds.every((l) => m.labelIds.has(l)))
      .filter((m) => includeSpamTrash || (!m.labelIds.has('SPAM') && !m.labelIds.has('TRASH')))
      .filter((m) => filter(m))
      .sort((a, b) => b.internalDate - a.internalDate || b.historyId - a.historyId);
    const offset = this.#pageOffset('messages', query.get('pageToken'));
    if (offset === null) return invalidPageToken();
    const page = all.slice(offset, offset + maxResults);
    const body: Record<string, unknown> = { resultSizeEstimate: all.length };
    if (page.length > 0) body['messages'] = page.map((m) => ({ id: m.id, threadId: m.threadId }));
    if (offset + maxResults < all.length) body['nextPageToken'] = this.#issuePageToken('messages', offset + maxResults);
    return json(200, body);
  }

  getMessage(id: string, query: URLSearchParams): EmulatorResponse {
    const message = this.messages.get(id);
    if (message === undefined) return gmailError(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    const rendered = renderMessage(message, query);
    if (rendered === null) return gmailError(400, 'Invalid format', 'invalidArgument', 'INVALID_ARGUMENT');
    return json(200, rendered);
  }

  getThread(id: string, query: URLSearchParams): EmulatorResponse {
    const messages = [...this.messages.values()]
      .filter((m) => m.threadId === id && !m.labelIds.has('DRAFT'))
      .sort((a, b) => a.internalDate - b.internalDate || a.historyId - b.historyId);
    if (messages.length === 0) return gmailError(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    const rendered = messages.map((m) => renderMessage(m, query));
    if (rendered.includes(null)) return gmailError(400, 'Invalid format', 'invalidArgument', 'INVALID_ARGUMENT');
    return json(200, { id, historyId: String(Math.max(...messages.map((m) => m.historyId))), messages: rendered });
  }

  modify(id: string, body: string): EmulatorResponse {
    const message = this.messages.get(id);
    if (message === undefined) return gmailError(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    const parsed = parseJson(body) as { addLabelIds?: unknown; removeLabelIds?: unknown } | null;
    if (parsed === null) return gmailError(400, 'Invalid JSON payload received.', 'badRequest', 'INVALID_ARGUMENT');
    const add = stringArray(parsed.addLabelIds);
    const remove = stringArray(parsed.removeLabelIds);
    if (add === null || remove === null) return gmailError(400, 'Invalid label list', 'invalidArgument', 'INVALID_ARGUMENT');
    for (const label of [...add, ...remove]) {
      if (!this.labels.has(label)) return gmailError(400, `Invalid label: ${label}`, 'invalidArgument', 'INVALID_ARGUMENT');
    }
    for (const label of add) message.labelIds.add(label);
    for (const label of remove) message.labelIds.delete(label);
    message.historyId = ++this.historyId;
    return json(200, { id: message.id, threadId: message.threadId, labelIds: [...message.labelIds] });
  }

  listHistory(query: URLSearchParams): EmulatorResponse {
    const startRaw = query.get('startHistoryId');
    if (startRaw === null || !/^\d+$/.test(startRaw)) {
      return gmailError(400, 'Missing or invalid startHistoryId', 'invalidArgument', 'INVALID_ARGUMENT');
    }
    const start = Number(startRaw);
    if (start < this.oldestRetainedHistoryId - 1 || start > this.historyId) {
      return gmailError(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    }
    const types = query.getAll('historyTypes');
    if (types.some((t) => !['messageAdded', 'messageDeleted', 'labelAdded', 'labelRemoved'].includes(t))) {
      return gmailError(400, 'Invalid historyTypes', 'invalidArgument', 'INVALID_ARGUMENT');
    }
    const labelId = query.get('labelId');
    const maxResults = clampInt(query.get('maxResults'), 100, 1, 500);
    if (maxResults === null) return gmailError(400, 'Invalid maxResults', 'invalidArgument', 'INVALID_ARGUMENT');
    const records = this.history.filter(
      (r) => r.id > start && (labelId === null || r.labelIds.includes(labelId)),
    );
    const offset = this.#pageOffset('history', query.get('pageToken'));
    if (offset === null) return invalidPageToken();
    const page = records.slice(offset, offset + maxResults);
    const body: Record<string, unknown> = { historyId: String(this.historyId) };
    if (page.length > 0) {
      body['history'] = page.map((r) => ({
        id: String(r.id),
        messages: [{ id: r.messageId, threadId: r.threadId }],
        messagesAdded: [{ message: { id: r.messageId, threadId: r.threadId, labelIds: r.labelIds } }],
      }));
    }
    if (offset + maxResults < records.length) body['nextPageToken'] = this.#issuePageToken('history', offset + maxResults);
    return json(200, body);
  }

  /** An opaque token for the page at `offset` of a listing (Gmail's are long digit strings). */
  #issuePageToken(listing: 'messages' | 'history', offset: number): string {
    const token = String(randomInt(1e9, 1e10)) + String(randomInt(1e9, 1e10));
    this.#pageTokens.set(token, { listing, offset });
    return token;
  }

  /** The offset a page token stands for: 0 without one, null for a token this listing did not issue. */
  #pageOffset(listing: 'messages' | 'history', token: string | null): number | null {
    if (token === null) return 0;
    const issued = this.#pageTokens.get(token);
    return issued?.listing === listing ? issued.offset : null;
  }

  listLabels(): EmulatorResponse {
    return json(200, { labels: [...this.labels.values()] });
  }

  createLabel(body: string): EmulatorResponse {
    const parsed = parseJson(body) as { name?: unknown } | null;
    const name = parsed?.name;
    if (typeof name !== 'string' || name.trim() === '') {
      return gmailError(400, 'Invalid label name', 'invalidArgument', 'INVALID_ARGUMENT');
    }
    if ([...this.labels.values()].some((l) => l.name.toLowerCase() === name.toLowerCase())) {
      return gmailError(409, 'Label name exists or conflicts', 'failedPrecondition', 'ALREADY_EXISTS');
    }
    const label = { id: `Label_${this.labels.size + 1}`, name, type: 'user' as const };
    this.labels.set(label.id, label);
    return json(200, { ...label, messageListVisibility: 'show', labelListVisibility: 'labelShow' });
  }

  async store(raw: Buffer, threadId: string, labelIds: string[], internalDate?: number): Promise<StoredMessage> {
    const parsed = await simpleParser(raw);
    const headers = parsed.headerLines.map((line) => {
      const colon = line.line.indexOf(':');
      return { name: line.line.slice(0, colon), value: line.line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim() };
    });
    const stored: StoredMessage = {
      id: randomId(),
      threadId,
      labelIds: new Set(labelIds),
      raw,
      parsed,
      headers,
      internalDate: internalDate ?? (parsed.date ?? new Date()).getTime(),
      historyId: ++this.historyId,
    };
    this.messages.set(stored.id, stored);
    if (!labelIds.includes('DRAFT')) {
      this.history.push({ id: stored.historyId, messageId: stored.id, threadId, labelIds: [...labelIds] });
      this.#onAdded(stored.historyId, labelIds);
    }
    return stored;
  }

  /** Gmail's rule: threadId is honoured only with matching References/In-Reply-To and subject. */
  joinsThread(mail: ParsedMail, threadId: string): boolean {
    const thread = [...this.messages.values()].filter((m) => m.threadId === threadId && !m.labelIds.has('DRAFT'));
    const referenced = new Set([mail.inReplyTo ?? '', ...(asArray(mail.references) ?? [])].filter((v) => v !== ''));
    const referencesThread = thread.some((m) => m.parsed.messageId !== undefined && referenced.has(m.parsed.messageId));
    const subject = normaliseSubject(mail.subject ?? '');
    const subjectMatches = thread.some((m) => normaliseSubject(m.parsed.subject ?? '') === subject);
    return referencesThread && subjectMatches;
  }

  /** The thread of a message that this one answers (references it, same subject); null when none. */
  threadOf(mail: ParsedMail): string | null {
    const threads = new Set([...this.messages.values()].filter((m) => !m.labelIds.has('DRAFT')).map((m) => m.threadId));
    for (const threadId of threads) if (this.joinsThread(mail, threadId)) return threadId;
    return null;
  }
}
