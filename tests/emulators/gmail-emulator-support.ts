import type { AddressObject, ParsedMail } from 'mailparser';
import { encodeBase64Url, json, type EmulatorResponse } from './http-emulator.ts';

/** The Gmail emulator's stored message and the helpers its parts share (errors, search, rendering). */

export interface Header {
  name: string;
  value: string;
}

export interface StoredMessage {
  id: string;
  threadId: string;
  labelIds: Set<string>;
  raw: Buffer;
  parsed: ParsedMail;
  headers: Header[];
  internalDate: number;
  historyId: number;
}

export interface HistoryRecord {
  id: number;
  messageId: string;
  threadId: string;
  labelIds: string[];
}

export function renderMessage(message: StoredMessage, query: URLSearchParams): Record<string, unknown> | null {
  const format = query.get('format') ?? 'full';
  const base = {
    id: message.id,
    threadId: message.threadId,
    labelIds: [...message.labelIds],
    snippet: (message.parsed.text ?? '').slice(0, 100),
    historyId: String(message.historyId),
    internalDate: String(message.internalDate),
    sizeEstimate: message.raw.length,
  };
  if (format === 'minimal') return base;
  if (format === 'raw') return { ...base, raw: encodeBase64Url(message.raw) };
  if (format === 'metadata') {
    const wanted = query.getAll('metadataHeaders').map((h) => h.toLowerCase());
    const headers = wanted.length === 0 ? message.headers : message.headers.filter((h) => wanted.includes(h.name.toLowerCase()));
    return { ...base, payload: { mimeType: 'multipart/mixed', headers } };
  }
  if (format !== 'full') return null;
  const text = message.parsed.text ?? '';
  const html = typeof message.parsed.html === 'string' ? message.parsed.html : null;
  const textPart = { partId: html === null ? '' : '0', mimeType: 'text/plain', filename: '', headers: [], body: { size: Buffer.byteLength(text), data: encodeBase64Url(text) } };
  const payload =
    html === null
      ? { ...textPart, headers: message.headers }
      : {
          partId: '',
          mimeType: 'multipart/alternative',
          filename: '',
          headers: message.headers,
          body: { size: 0 },
          parts: [
            textPart,
            { partId: '1', mimeType: 'text/html', filename: '', headers: [], body: { size: Buffer.byteLength(html), data: encodeBase64Url(html) } },
          ],
        };
  return { ...base, payload };
}

export function gmailError(code: number, message: string, reason: string, status: string): EmulatorResponse {
  return json(code, { error: { code, message, errors: [{ message, domain: 'global', reason }], status } });
}

export function parseJson(body: string): unknown {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null ? value : null;
  } catch {
    return null;
  }
}

export function stringArray(value: unknown): string[] | null {
  if (value === undefined) return [];
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : null;
}

export function clampInt(raw: string | null, fallback: number, min: number, max: number): number | null {
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw)) return null;
  return Math.min(max, Math.max(min, Number(raw)));
}

export function asArray(value: string | string[] | undefined): string[] | undefined {
  return value === undefined ? undefined : Array.isArray(value) ? value : [value];
}

export function addressesOf(value: AddressObject | AddressObject[] | undefined): string[] {
  if (value === undefined) return [];
  const objects = Array.isArray(value) ? value : [value];
  return objects.flatMap((o) => o.value.flatMap((a) => (a.address === undefined ? [] : [a.address.toLowerCase()])));
}

export function normaliseSubject(subject: string): string {
  let current = subject.trim();
  for (;;) {
    const next = current.replace(/^(re|fwd?|aw|sv)\s*:\s*/i, '');
    if (next === current) return current.toLowerCase();
    current = next;
  }
}

/** The subset of Gmail search the adapter uses; free words match subject or body. */
export function parseSearch(q: string): (message: StoredMessage) => boolean {
  const terms = q.trim() === '' ? [] : q.trim().split(/\s+/);
  const tests = terms.map((term): ((m: StoredMessage) => boolean) => {
    const [operator, ...restParts] = term.split(':');
    const value = restParts.join(':').toLowerCase();
    switch (restParts.length > 0 ? operator?.toLowerCase() : undefined) {
      case 'in':
      case 'label':
        return (m) => m.labelIds.has(value.toUpperCase()) || [...m.labelIds].some((l) => l.toLowerCase() === value);
      case 'is':
        return (m) => m.labelIds.has(value.toUpperCase());
      case 'to':
        return (m) => [m.parsed.to, m.parsed.cc, m.parsed.bcc].flatMap(addressesOf).includes(value);
      case 'from':
        return (m) => addressesOf(m.parsed.from).includes(value);
      case 'rfc822msgid':
        return (m) => (m.parsed.messageId ?? '').toLowerCase().replace(/^<|>$/g, '') === value.replace(/^<|>$/g, '');
      case 'newer_than': {
        const match = /^(\d+)([dmy])$/.exec(value);
        const days = match === null ? 0 : Number(match[1]) * (match[2] === 'd' ? 1 : match[2] === 'm' ? 30 : 365);
        return (m) => m.internalDate >= Date.now() - days * 86_400_000;
      }
      default:
        return (m) => `${m.parsed.subject ?? ''} ${m.parsed.text ?? ''}`.toLowerCase().includes(term.toLowerCase());
    }
  });
  return (message) => tests.every((test) => test(message));
}
