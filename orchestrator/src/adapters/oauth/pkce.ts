import { createHash, randomBytes } from 'node:crypto';

/** RFC 7636 §4.1: 43–128 characters from the unreserved set; 32 random bytes give 43. */
export function createCodeVerifier(): string {
  return randomBytes(32).toString('base64url');
}

/** RFC 7636 §4.2, method S256. */
export function codeChallengeS256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** The `state` parameter: 256 random bits. */
export function createState(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The OpenID Connect `nonce` of a request, derived from its PKCE verifier (kept in memory, sent only at the
 * exchange): unguessable like the verifier, yet unlike its S256 challenge never shown in the consent URL.
 */
export function nonceForVerifier(verifier: string): string {
  return createHash('sha256').update(`oidc-nonce:${verifier}`).digest('base64url');
}
