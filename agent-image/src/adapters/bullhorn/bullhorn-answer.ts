import { readAtMost } from '@agent-fleet/kernel/bounded-body';

/** Largest REST answer read: ten search hits or fifty notes of the few fields asked for fit many times over. */
export const REST_ANSWER_MAX_BYTES = 2 * 1024 * 1024;
/** Largest token or login answer read: a handful of short strings. */
export const LOGIN_ANSWER_MAX_BYTES = 64 * 1024;

/**
 * The answer's JSON, read no further than `limit` bytes (declared or streamed): `too-large` once past it,
 * the download stopped, so an endless or huge answer never fills the agent's memory. `null` body: empty
 * or not JSON.
 */
export async function readBoundedJson(response: Response, limit: number): Promise<{ body: unknown } | 'too-large'> {
  const bytes = await readAtMost(response, limit);
  if (bytes === null) return 'too-large';
  const text = new TextDecoder().decode(bytes);
  if (text === '') return { body: null };
  try {
    return { body: JSON.parse(text) as unknown };
  } catch {
    return { body: null };
  }
}

/** Drops an answer whose body is not needed, without reading it (it may be endless). */
export async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}
