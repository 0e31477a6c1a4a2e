import { json, type EmulatorResponse } from './http-emulator.ts';
import { FOLDER_IDS, decodeToken, encodeToken, graphError, renderGraphMessage, syncStateGone } from './graph-emulator-support.ts';
import { renderedId, type GraphMessageStore } from './graph-message-store.ts';

/** What the inbox's delta tokens count: its changes in order, and the generation that expiry bumps. */
export interface InboxEvent {
  seq: number;
  /** The message's immutable id. */
  messageId: string;
  /** Its REST id when the change happened (what a reader without immutable ids is told). */
  restId: string;
  type: 'created' | 'updated' | 'deleted';
}

export interface InboxLog {
  events: InboxEvent[];
  seq: number;
  /** Bumped to expire every delta token issued so far (410 SyncStateNotFound). */
  generation: number;
}

/**
 * The inbox delta as Graph routes it: path segments in any case, the folder as a segment or an OData key
 * (`mailFolders/inbox`, `mailfolders('Inbox')`). Links it hands out use the key form, as Graph's do.
 */
export const INBOX_DELTA_PATH = /^\/v1\.0\/me\/mailfolders(?:\/inbox|\((?:'|%27)inbox(?:'|%27)\))\/messages\/delta$/i;

const EXT_HEADER_PROPERTY = /^singleValueExtendedProperties\/Any\(ep: ?ep\/id eq 'String \{00020386-0000-0000-C000-000000000046\} Name ([A-Za-z0-9-]+)' and ep\/value eq '((?:[^']|'')*)'\)$/i;

const DISPLAY_NAMES: Record<string, string> = { inbox: 'Inbox', drafts: 'Drafts', sentitems: 'Sent Items', archive: 'Archive' };

/** Graph's folder reads: the inbox delta (pages, skip and delta tokens) and folder listings with filters. */
export class GraphFolderRoutes {
  readonly #messages: GraphMessageStore;
  readonly #log: InboxLog;
  readonly #baseUrl: () => string;

  constructor(messages: GraphMessageStore, log: InboxLog, baseUrl: () => string) {
    this.#messages = messages;
    this.#log = log;
    this.#baseUrl = baseUrl;
  }

  delta(query: URLSearchParams, prefer: string): EmulatorResponse {
    const changeType = query.get('changeType');
    if (changeType !== null && !['created', 'updated', 'deleted'].includes(changeType)) {
      return graphError(400, 'ErrorInvalidUrlQuery', `Invalid changeType '${changeType}'.`);
    }
    // Delta takes no $search, $filter only on receivedDateTime and $orderby only receivedDateTime desc
    // (not emulated: refused too, rather than answered unfiltered).
    for (const option of ['$search', '$filter', '$orderby']) {
      if (query.has(option)) return graphError(400, 'ErrorInvalidUrlQuery', `The query option '${option}' is not supported with delta in the emulator.`);
    }
    const pageSize = Number(/odata\.maxpagesize=(\d+)/.exec(prefer)?.[1] ?? '10');
    let from: number;
    let to: number;
    let offset = 0;
    let initial: boolean;
    // As at Graph, the first request's $select is kept in the state tokens: later pages and rounds return
    // the same properties (the links carry no $select of their own).
    let select = query.get('$select');
    const skip = query.get('$skiptoken');
    const delta = query.get('$deltatoken');
    try {
      if (skip !== null) {
        const state = decodeToken(skip) as { from: number; to: number; offset: number; initial: boolean; gen: number; changeType: string | null; select?: string | null };
        if (state.gen !== this.#log.generation) return syncStateGone();
        ({ from, to, offset, initial } = state);
        select = state.select ?? null;
      } else if (delta !== null) {
        const state = decodeToken(delta) as { seq: number; gen: number; select?: string | null };
        if (state.gen !== this.#log.generation) return syncStateGone();
        select = state.select ?? null;
        from = state.seq;
        to = this.#log.seq;
        initial = false;
      } else {
        from = 0;
        to = this.#log.seq;
        initial = true;
      }
    } catch {
      return graphError(400, 'ErrorInvalidUrlQuery', 'The delta token is malformed.');
    }
    const items: { id: string; restId: string; removed: boolean }[] = initial
      ? [...this.#messages.values()].filter((msg) => msg.folder === 'inbox').map((msg) => ({ id: msg.id, restId: msg.restId, removed: false }))
      : this.#log.events
          .filter((e) => e.seq > from && e.seq <= to && (changeType === null || e.type === changeType))
          .map((e) => ({ id: e.messageId, restId: e.restId, removed: e.type === 'deleted' }));
    const page = items.slice(offset, offset + pageSize);
    const rendered = new URLSearchParams(select === null ? {} : { $select: select });
    const value = page.map((item) => {
      const message = this.#messages.get(item.id);
      return item.removed || message === undefined
        ? { id: renderedId({ id: item.id, restId: item.restId }, prefer), '@removed': { reason: 'deleted' } }
        : renderGraphMessage(message, rendered, prefer);
    });
    const base = `${this.#baseUrl()}/v1.0/me/mailfolders('inbox')/messages/delta`;
    if (offset + pageSize < items.length) {
      const next = encodeToken({ from, to, offset: offset + pageSize, initial, gen: this.#log.generation, changeType, select });
      const suffix = changeType === null ? '' : `&changeType=${changeType}`;
      return json(200, { '@odata.context': 'emulator', '@odata.nextLink': `${base}?$skiptoken=${next}${suffix}`, value });
    }
    const token = encodeToken({ seq: to, gen: this.#log.generation, select });
    const suffix = changeType === null ? '' : `&changeType=${changeType}`;
    return json(200, { '@odata.context': 'emulator', '@odata.deltaLink': `${base}?$deltatoken=${token}${suffix}`, value });
  }
  /**
   * One folder by its well-known name (any letter case) or its id: `id`, `displayName`; `$select` of
   * other properties is refused rather than answered wrongly.
   */
  folder(nameOrId: string, query: URLSearchParams): EmulatorResponse {
    const entry = Object.entries(FOLDER_IDS).find(([name, id]) => name === nameOrId.toLowerCase() || id === nameOrId);
    if (entry === undefined) return graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    const [name, id] = entry;
    const full: Record<string, unknown> = { id, displayName: DISPLAY_NAMES[name] ?? name };
    const select = query.get('$select');
    if (select === null) return json(200, full);
    const fields = select.split(',').map((field) => field.trim());
    const unknown = fields.find((field) => !Object.hasOwn(full, field));
    if (unknown !== undefined) return graphError(400, 'BadRequest', `Could not find a property named '${unknown}' on type 'microsoft.graph.mailFolder'.`);
    return json(200, Object.fromEntries(Object.entries(full).filter(([key]) => key === 'id' || fields.includes(key))));
  }

  list(folder: string, query: URLSearchParams, prefer: string): EmulatorResponse {
    if (!['inbox', 'drafts', 'sentitems', 'archive'].includes(folder.toLowerCase())) {
      return graphError(404, 'ErrorInvalidIdMalformed', 'Id is malformed.');
    }
    let messages = [...this.#messages.values()].filter((msg) => msg.folder === folder.toLowerCase());
    const filter = query.get('$filter');
    if (filter !== null) {
      const match = EXT_HEADER_PROPERTY.exec(filter);
      if (match === null) return graphError(400, 'ErrorInvalidUrlQueryFilter', 'The query filter contains one or more invalid nodes.');
      const header = (match[1] ?? '').toLowerCase();
      const value = (match[2] ?? '').replaceAll("''", "'");
      messages = messages.filter((msg) => msg.internetMessageHeaders.some((h) => h.name.toLowerCase() === header && h.value === value));
    }
    const search = query.get('$search');
    if (search !== null) {
      const match = /^"to:([^"\s]+)"$/.exec(search);
      if (match === null) return graphError(400, 'ErrorInvalidUrlQuery', 'Unsupported $search in the emulator.');
      const address = (match[1] ?? '').toLowerCase();
      messages = messages.filter((msg) =>
        [...msg.toRecipients, ...msg.ccRecipients].some((r) => r.emailAddress.address.toLowerCase() === address),
      );
    }
    const top = Number(query.get('$top') ?? '10');
    if (!Number.isInteger(top) || top < 1 || top > 1000) return graphError(400, 'ErrorInvalidUrlQuery', 'Invalid $top.');
    messages.sort((a, b) => b.receivedDateTime.localeCompare(a.receivedDateTime));
    return json(200, { value: messages.slice(0, top).map((msg) => renderGraphMessage(msg, query, prefer)) });
  }
}
