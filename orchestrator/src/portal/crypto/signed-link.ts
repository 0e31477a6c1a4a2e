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

/** Checks signature and expiry (not single use: that is the store's). Pure apart from the clock passed in. */
export function verifyApprovalLink(key: Buffer, token: string, now: Date): LinkCheck {
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return { ok: false, reason: 'malformed' };
  const [prefix, payload, signature] = parts as [string, string, string];
  if (!hmacMatches(key, `${prefix}.${payload}`, signature)) return { ok: false, reason: 'forged' };
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
