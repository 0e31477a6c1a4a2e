import type { KeyObject } from 'node:crypto';
import { decodeJwt, jwtVerify, type JWTHeaderParameters } from 'jose';
import * as z from 'zod';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { PushTokenVerifier } from '../../ports/push-token-verifier.ts';

/**
 * The OIDC token a Cloud Pub/Sub push subscription can carry (`Authorization: Bearer <JWT>`): signed by
 * Google (RS256), naming the subscription's service account (`email`, verified) and its audience (`aud`).
 * A push URL token alone is a bearer secret in a URL (proxy logs, the subscription's config); the
 * signature proves that Google's Pub/Sub sent the push, on behalf of our subscription's account.
 */

/** What this client's push subscription is configured with (its `pushConfig.oidcToken`). */
export interface GmailPushIdentity {
  /** The service account the subscription signs as, e.g. push@project.iam.gserviceaccount.com. */
  serviceAccount: string;
  /** The audience configured on the subscription (Google's default: the push endpoint URL). Case-sensitive. */
  audience: string;
}

/** Google's current signing keys by key id (`kid`); null when Google publishes none by that id. */
export interface PushSigningKeys {
  /** Never throws for an unknown id; may throw `unavailable` when the keys cannot be fetched. */
  keyFor(kid: string): Promise<KeyObject | null>;
}

/** Token push authentication for a Gmail agent: the expected identity and where Google's keys come from. */
export interface GmailPushAuth {
  identity: GmailPushIdentity;
  keys: PushSigningKeys;
}

/** The PushTokenVerifier of a Gmail agent whose Pub/Sub subscription signs its pushes. */
export class GooglePushTokenVerifier implements PushTokenVerifier {
  readonly #auth: GmailPushAuth;
  readonly #now: () => number;

  constructor(auth: GmailPushAuth, now: () => number = Date.now) {
    this.#auth = auth;
    this.#now = now;
  }

  verify(authorization: string | null | undefined): Promise<void> {
    return verifyGooglePushToken(authorization, this.#auth, this.#now());
  }
}

const GOOGLE_ISSUERS = ['accounts.google.com', 'https://accounts.google.com'];
/** Google's ID tokens last one hour; anything claiming more was not minted by Pub/Sub. */
const MAX_LIFETIME_SECONDS = 3600;
const CLOCK_SKEW_SECONDS = 300;
/** A Google ID token is about 1 kB; this bounds the work a forged header can ask for. */
const MAX_TOKEN_LENGTH = 4096;
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;

const claims = z
  .object({ aud: z.string(), email: z.string().max(320), email_verified: z.literal(true), iat: z.number().int(), exp: z.number().int() })
  .loose();

/**
 * The token's claims, read without trusting them: only to refuse an obvious forgery before any key lookup.
 * Pub/Sub mints a single audience: a list (even holding ours) is not its token.
 */
function unverifiedClaims(token: string): z.infer<typeof claims> | null {
  try {
    const parsed = claims.safeParse(decodeJwt(token));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * Verifies a push's `Authorization` header against the expected identity: `unauthorized` when none is
 * presented, `forbidden` for anything else wrong, `unavailable` when Google's keys cannot be fetched (the
 * push is redelivered). The signature and the standard claims are checked by `jose`; the identity claims
 * (`email`, `email_verified`, lifetime) here. A token naming another account is refused before any key
 * lookup, so a forged push costs no fetch; the reason is deliberately vague (never the token).
 */
export async function verifyGooglePushToken(authorization: string | null | undefined, auth: GmailPushAuth, nowMs: number): Promise<void> {
  if (authorization === null || authorization === undefined || authorization === '') {
    throw new FleetError('unauthorized', 'push without an OIDC token');
  }
  const refused = new FleetError('forbidden', 'push with an invalid OIDC token');
  const token = authorization.length > MAX_TOKEN_LENGTH ? undefined : BEARER.exec(authorization)?.[1];
  if (token === undefined) throw refused;
  const identity = unverifiedClaims(token);
  if (identity === null || identity.email.toLowerCase() !== auth.identity.serviceAccount.toLowerCase()) throw refused;
  if (identity.exp <= identity.iat || identity.exp - identity.iat > MAX_LIFETIME_SECONDS) throw refused;
  let unavailable: unknown = null;
  const keyFor = async (header: JWTHeaderParameters): Promise<KeyObject> => {
    const key = header.kid === undefined ? null : await auth.keys.keyFor(header.kid).catch((error: unknown) => {
      unavailable = error;
      throw error;
    });
    if (key === null || key.asymmetricKeyType !== 'rsa') throw refused;
    return key;
  };
  try {
    await jwtVerify(token, keyFor, {
      algorithms: ['RS256'],
      issuer: GOOGLE_ISSUERS,
      audience: auth.identity.audience,
      requiredClaims: ['iat', 'exp'],
      // Also refuses an `iat` in the future (beyond the tolerance).
      maxTokenAge: MAX_LIFETIME_SECONDS,
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: new Date(nowMs),
    });
  } catch {
    if (unavailable !== null) throw unavailable;
    throw refused;
  }
}
