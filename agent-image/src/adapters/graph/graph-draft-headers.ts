import { autoSubmittedHeaders, type AutoSubmitted } from '../../domain/auto-reply/auto-submitted.ts';
import { IDEMPOTENCY_HEADER, assertIdempotencyKey } from '../../domain/idempotency-key.ts';

export interface GraphHeader {
  name: string;
  value: string;
}

/**
 * The internetMessageHeaders of a new draft: the idempotency key and, on an automatic send, the marks
 * of auto-submitted.ts that Graph can carry. Graph refuses any header whose name does not start with
 * `x-` (InvalidInternetMessageHeader, the whole create fails) and Exchange drops Auto-Submitted from
 * what it sends, so on Outlook an automatic send carries X-Auto-Response-Suppress only. Pure.
 */
export function graphDraftHeaders(idempotencyKey: string, marking: AutoSubmitted | null): GraphHeader[] {
  assertIdempotencyKey(idempotencyKey);
  const marks = Object.entries(autoSubmittedHeaders(marking))
    .filter(([name]) => name.toLowerCase().startsWith('x-'))
    .map(([name, value]) => ({ name, value }));
  return [{ name: IDEMPOTENCY_HEADER, value: idempotencyKey }, ...marks];
}
