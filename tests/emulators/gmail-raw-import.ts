import { decodeBase64UrlStrict, type EmulatorResponse } from './http-emulator.ts';

/**
 * `users.messages.import` and `users.messages.insert` as Gmail checks them: a base64url RFC 822 `raw`,
 * a known threadId and known labels, `internalDateSource` one of its two values, at most Gmail's
 * documented 150 MB upload size. The message is then kept byte for byte (no header is added or dropped:
 * an imported message did not arrive over SMTP, so Gmail writes no Authentication-Results of its own).
 */

export const GMAIL_MAX_IMPORT_BYTES = 150 * 1024 * 1024;

export interface RawImport {
  raw: Buffer;
  threadId: string | undefined;
  labelIds: string[];
  /** Import defaults to the Date header, insert to the time of the call. */
  internalDateSource: 'dateHeader' | 'receivedTime';
}

type ErrorFactory = (code: number, message: string, reason: string, status: string) => EmulatorResponse;

/** True when the bytes start like an RFC 822 message (a header field), as Gmail requires. */
export function looksLikeRfc822(bytes: Buffer): boolean {
  return /^[\x21-\x39\x3b-\x7e]+:/.test(bytes.subarray(0, 1000).toString('latin1'));
}

/** Validates an import/insert request body and query, or answers the error Gmail gives. */
export function parseRawImport(
  operation: 'import' | 'insert',
  body: string,
  query: URLSearchParams,
  error: ErrorFactory,
): RawImport | EmulatorResponse {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return error(400, 'Invalid JSON payload received.', 'badRequest', 'INVALID_ARGUMENT');
  }
  const message = (parsed ?? {}) as { raw?: unknown; threadId?: unknown; labelIds?: unknown };
  if (typeof message.raw !== 'string' || message.raw === '') {
    return error(400, "'raw' RFC822 payload message string or uploading message via /upload/* URL required", 'invalidArgument', 'INVALID_ARGUMENT');
  }
  const raw = decodeBase64UrlStrict(message.raw);
  if (raw === null) return error(400, "Invalid value at 'message.raw' (TYPE_BYTES), Base64 decoding failed", 'invalidArgument', 'INVALID_ARGUMENT');
  if (raw.length > GMAIL_MAX_IMPORT_BYTES) return error(413, 'Request payload size exceeds the limit', 'uploadTooLarge', 'INVALID_ARGUMENT');
  if (!looksLikeRfc822(raw)) return error(400, 'Invalid raw message: not an RFC 822 message', 'invalidArgument', 'INVALID_ARGUMENT');
  if (message.threadId !== undefined && typeof message.threadId !== 'string') return error(400, 'Invalid threadId', 'invalidArgument', 'INVALID_ARGUMENT');
  const labelIds = message.labelIds ?? [];
  if (!Array.isArray(labelIds) || !labelIds.every((label): label is string => typeof label === 'string')) {
    return error(400, 'Invalid label list', 'invalidArgument', 'INVALID_ARGUMENT');
  }
  const source = query.get('internalDateSource') ?? (operation === 'import' ? 'dateHeader' : 'receivedTime');
  if (source !== 'dateHeader' && source !== 'receivedTime') {
    return error(400, `Invalid value at 'internal_date_source' (${source})`, 'invalidArgument', 'INVALID_ARGUMENT');
  }
  for (const flag of ['neverMarkSpam', 'processForCalendar', 'deleted']) {
    const value = query.get(flag);
    if (value !== null && value !== 'true' && value !== 'false') return error(400, `Invalid value for ${flag}`, 'invalidArgument', 'INVALID_ARGUMENT');
  }
  return { raw, threadId: message.threadId, labelIds, internalDateSource: source };
}
