import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { MethodOptions } from 'googleapis/build/src/apis/gmail/index.js';

type GaxiosAdapter = NonNullable<MethodOptions['adapter']>;

/** A Gmail answer larger than its call allows; it was not read past the limit. */
export class GmailAnswerTooLargeError extends FleetError {
  readonly limitBytes: number;

  constructor(limitBytes: number) {
    super('invalid_input', `gmail answer larger than the ${(limitBytes / 1048576).toFixed(1)} MB the agent reads`);
    this.limitBytes = limitBytes;
  }
}

/**
 * What a `format: 'raw'` answer for a message of `messageBytes` may take: its base64url form, plus room
 * for the JSON around it (ids, labels, snippet).
 */
export function rawAnswerBytes(messageBytes: number): number {
  return Math.ceil(messageBytes / 3) * 4 + 64 * 1024;
}

/** The body, or null (the download stopped) once it is past `limit` bytes, declared or read. */
async function readAtMost(body: AsyncIterable<Uint8Array> & { destroy?: () => void }, declared: number, limit: number): Promise<Buffer | null> {
  if (declared > limit) {
    body.destroy?.();
    return null;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    // Leaving the loop early ends the stream (its iterator's return), so the rest is never read.
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** The answer as gaxios would have decoded it: JSON when asked for or labelled so and it parses, else its text. */
function decoded(body: Buffer, responseType: string | undefined, contentType: string | null): unknown {
  const text = body.toString('utf8');
  const json = responseType === 'json' || (contentType ?? '').toLowerCase().includes('application/json');
  if (!json) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isBodyStream(value: unknown): value is AsyncIterable<Uint8Array> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * A gaxios adapter that reads a Gmail answer (success or error) up to `limitBytes`, as decompressed,
 * and no further. gaxios reads a body whole and trusts nothing but its Content-Length (absent from a
 * chunked or gzip answer), so a message whose real size is far over its `sizeEstimate`, or a server
 * that keeps sending, would otherwise fill the agent's 128 MiB. An error answer keeps its decoded body for
 * the error gaxios makes of it. Over the limit: GmailAnswerTooLargeError
 * (as the `cause` of gaxios' error; translateGmailError hands it back).
 */
export function boundedAnswer(limitBytes: number): GaxiosAdapter {
  const adapter = async (options: Parameters<GaxiosAdapter>[0], defaultAdapter: Parameters<GaxiosAdapter>[1]) => {
    const response = await defaultAdapter({ ...options, responseType: 'stream' });
    const stream: unknown = response.data;
    if (!isBodyStream(stream)) return response;
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    const body = await readAtMost(stream, declared, limitBytes);
    if (body === null) throw new GmailAnswerTooLargeError(limitBytes);
    response.data = decoded(body, options.responseType, response.headers.get('content-type'));
    // gaxios hands an error its answer only when the Response says its body was read, which reading its
    // stream here does not set: a 403's reason (insufficientPermissions, rateLimitExceeded) would be lost,
    // a missing scope or a rate limit read as a plain refusal.
    if (!response.bodyUsed) Object.defineProperty(response, 'bodyUsed', { value: true });
    return response;
  };
  return adapter as GaxiosAdapter;
}
