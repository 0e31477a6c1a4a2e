import { hmacBase64url, hmacMatches, newToken, tokenHash } from './tokens.ts';

/** What a one-tap link names: one approval of one client, until `expiresAt`, usable once (by its nonce). */
export interface ApprovalLink {
  clientId: string;
  approvalId: string;
  nonce: string;
  expiresAt: Date;
}

export type LinkCheck =
  | { ok: true; link: ApprovalLink; nonceHash: string }
  | { ok: false; reason: 'malformed' | 'forged' | 'expired' };

const PREFIX = 'l1';
const MAX_TOKEN_LENGTH = 600;

/** `l1.<base64url(JSON {c, a, n, e})>.<HMAC-SHA256 of the first two parts>`. */
export function signApprovalLink(key: Buffer, link: Omit<ApprovalLink, 'nonce'>): string {
  const payload = Buffer.from(
    JSON.stringify({ c: link.clientId, a: link.approvalId, n: newToken(16), e: link.expiresAt.getTime() }),
  ).toString('base64url');
  const signed = `${PREFIX}.${payload}`;
  return `${signed}.${hmacBase64url(key, signed)}`;
}

/** The signed part and the signature of a token shaped like a link; null for any other string. */
function partsOf(token: string): { signed: string; payload: string; signature: string } | null {
  if (token.length > MAX_TOKEN_LENGTH) return null;
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return null;
  const [prefix, payload, signature] = parts as [string, string, string];
  return { signed: `${prefix}.${payload}`, payload, signature };
}

/**
 * Whether `key` signed the token, expired or used up or not. A token it did not sign was forged, altered
 * or mangled on the way: a refused credential, where a genuine link opened again after its decision or its
 * expiry is not.
 */
export function isSignedApprovalLink(key: Buffer, token: string): boolean {
  const parts = partsOf(token);
  return parts !== null && hmacMatches(key, parts.signed, parts.signature);
}

/** Checks signature and expiry (not single use: that is the store's). Pure apart from the clock passed in. */
export function verifyApprovalLink(key: Buffer, token: string, now: Date): LinkCheck {
  const parts = partsOf(token);
  if (parts === null) return { ok: false, reason: 'malformed' };
  const { signed, payload, signature } = parts;
  if (!hmacMatches(key, signed, signature)) return { ok: false, reason: 'forged' };
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const { c, a, n, e } = (decoded ?? {}) as Record<string, unknown>;
  if (typeof c !== 'string' || typeof a !== 'string' || typeof n !== 'string' || typeof e !== 'number')
    return { ok: false, reason: 'malformed' };
  if (e <= now.getTime()) return { ok: false, reason: 'expired' };
  return {
    ok: true,
    link: { clientId: c, approvalId: a, nonce: n, expiresAt: new Date(e) },
    nonceHash: tokenHash(n),
  };
}
