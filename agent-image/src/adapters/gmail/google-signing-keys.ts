import { createPublicKey, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import * as z from 'zod';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { readAtMost } from '@agent-fleet/kernel/bounded-body';
import type { PushSigningKeys } from './google-push-token.ts';

/** Google's OIDC signing keys (JWKS), which sign Pub/Sub push tokens. */
export const GOOGLE_CERTS_URL = 'https://www.googleapis.com/oauth2/v3/certs';

export interface GoogleSigningKeysOptions {
  /** Where the keys are fetched. Default Google's; only a loopback or private address otherwise (tests' emulators). */
  certsUrl?: string | undefined;
  /** Fetch timeout, ms. Default 5000. */
  timeoutMs?: number;
  /** Least time between two fetches, ms, however many unknown key ids arrive. Default 60 000. */
  minRefreshMs?: number;
  now?: () => number;
}

const MAX_BODY_BYTES = 64 * 1024;
const DEFAULT_MAX_AGE_MS = 3_600_000;
const MAX_AGE_CEILING_MS = 86_400_000;
const jwks = z.object({
  keys: z
    .array(z.object({ kid: z.string().min(1).max(200), kty: z.string().max(16), n: z.string().max(2048).optional(), e: z.string().max(16).optional() }).loose())
    .max(20),
});

function isLoopbackOrPrivate(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1') return true;
  if (isIP(host) !== 4) return false;
  const [a = 0, b = 0] = host.split('.').map(Number);
  return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/**
 * True for the URLs the keys may come from: Google's, or an emulator on loopback or a private address
 * (a test's Docker network). The keys decide which pushes are Google's, so no other host may serve them.
 */
export function isAcceptableCertsUrl(value: string): boolean {
  if (value === GOOGLE_CERTS_URL) return true;
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '' && isLoopbackOrPrivate(url.hostname);
}

function maxAgeMs(cacheControl: string | null): number {
  const seconds = /(?:^|,)\s*max-age=(\d{1,9})\s*(?:,|$)/i.exec(cacheControl ?? '')?.[1];
  return seconds === undefined ? DEFAULT_MAX_AGE_MS : Math.min(Number(seconds) * 1000, MAX_AGE_CEILING_MS);
}

/**
 * Google's push-token signing keys, cached as long as Google's `Cache-Control` says (at most a day). An
 * unknown key id (Google rotated) refreshes them, at most once a minute: a stream of forged key ids
 * costs no more than one fetch a minute. One fetch at a time; callers share it.
 */
export class GoogleSigningKeys implements PushSigningKeys {
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #minRefreshMs: number;
  readonly #now: () => number;
  #keys = new Map<string, KeyObject>();
  #expiresAt = Number.NEGATIVE_INFINITY;
  #lastFetchAt = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<void> | null = null;

  constructor(options: GoogleSigningKeysOptions = {}) {
    const url = options.certsUrl ?? GOOGLE_CERTS_URL;
    if (!isAcceptableCertsUrl(url)) throw new FleetError('invalid_input', "the signing keys URL must be Google's, or an emulator's on loopback");
    this.#url = url;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#minRefreshMs = options.minRefreshMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  async keyFor(kid: string): Promise<KeyObject | null> {
    const now = this.#now();
    const stale = now >= this.#expiresAt;
    const unknown = !this.#keys.has(kid);
    if ((stale || unknown) && now - this.#lastFetchAt >= this.#minRefreshMs) await this.#refresh();
    else if (this.#inFlight !== null) await this.#inFlight;
    if (this.#now() >= this.#expiresAt + MAX_AGE_CEILING_MS) throw new FleetError('unavailable', "Google's signing keys could not be fetched");
    return this.#keys.get(kid) ?? null;
  }

  #refresh(): Promise<void> {
    this.#inFlight ??= this.#fetch().finally(() => (this.#inFlight = null));
    return this.#inFlight;
  }

  async #fetch(): Promise<void> {
    this.#lastFetchAt = this.#now();
    let text: string;
    let cacheControl: string | null;
    try {
      const response = await fetch(this.#url, { redirect: 'error', signal: AbortSignal.timeout(this.#timeoutMs) });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new FleetError('unavailable', `Google's signing keys answered ${response.status}`);
      }
      cacheControl = response.headers.get('cache-control');
      const body = await readAtMost(response, MAX_BODY_BYTES);
      if (body === null) throw new FleetError('integrity', `Google's signing keys are larger than ${MAX_BODY_BYTES} bytes`);
      text = Buffer.from(body).toString('utf8');
    } catch (error) {
      // Keys already held stay in use; pushes signed with a new key wait for the next refresh.
      if (this.#keys.size > 0) return;
      throw error instanceof FleetError ? error : new FleetError('unavailable', "Google's signing keys could not be fetched", { cause: error });
    }
    let parsed: z.infer<typeof jwks>;
    try {
      parsed = jwks.parse(JSON.parse(text));
    } catch (error) {
      if (this.#keys.size > 0) return;
      throw new FleetError('integrity', "Google's signing keys are not a JSON Web Key Set", { cause: error });
    }
    const keys = new Map<string, KeyObject>();
    for (const key of parsed.keys) {
      // Push tokens are RS256: a key of another type (Google may add some) is never one to verify them with.
      if (key.kty !== 'RSA' || key.n === undefined || key.e === undefined) continue;
      try {
        keys.set(key.kid, createPublicKey({ key: { kty: 'RSA', n: key.n, e: key.e }, format: 'jwk' }));
      } catch {
        // One unreadable key leaves the others usable.
      }
    }
    this.#keys = keys;
    this.#expiresAt = this.#lastFetchAt + maxAgeMs(cacheControl);
  }
}
