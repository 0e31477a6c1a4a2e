import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { json, randomId, type EmulatorResponse } from './http-emulator.ts';

/**
 * Gmail's `users.watch` / `users.stop` and the Cloud Pub/Sub push that follows, for the Gmail emulator.
 * A watch lasts 7 days; while one is active, each new inbox message is pushed to the endpoint the test
 * configured (standing in for the Pub/Sub push subscription), as Pub/Sub's push body. Like a push
 * subscription with `oidcToken` set, it can sign each push (`signPushesAs`): an RS256 ID token from
 * accounts.google.com in the Authorization header, verifiable with the keys `handleCerts` serves (JWKS).
 */

const TOPIC_RULE = /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/topics\/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/;
const WATCH_LIFETIME_MS = 7 * 86_400_000;

export interface GmailWatchState {
  topicName: string;
  labelIds: string[];
  labelFilterBehavior: 'include' | 'exclude';
  historyId: string;
  expiration: number;
}

export interface PushDelivery {
  url: string;
  body: { message: { data: string; messageId: string; publishTime: string }; subscription: string };
  /** The Authorization header sent (Bearer <ID token>); null when pushes are unsigned. */
  authorization: string | null;
  status: number | null;
}

/** The OIDC token settings of the push subscription (`pushConfig.oidcToken`). */
export interface PushIdentity {
  serviceAccount: string;
  audience: string;
}

/** Claims a test may override in one signed token (forgeries: wrong audience, expired, ...). */
export type IdTokenClaims = Partial<Record<'iss' | 'aud' | 'email' | 'email_verified' | 'iat' | 'exp' | 'sub', unknown>>;

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

function newSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid: randomId(), privateKey, publicKey };
}

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

type GmailError = (code: number, message: string, reason: string, status: string) => EmulatorResponse;

export class GmailPush {
  /** Every push attempted, in order, with the endpoint's answer (null: no answer). */
  readonly deliveries: PushDelivery[] = [];
  #watch: GmailWatchState | null = null;
  #endpoint: string | null = null;
  #pending = new Set<Promise<void>>();
  readonly #error: GmailError;
  readonly #subscription = `projects/emulator-project/subscriptions/gmail-push-${randomId()}`;
  #identity: PushIdentity | null = null;
  #keys: SigningKey[] = [];

  constructor(error: GmailError) {
    this.#error = error;
  }

  get watch(): Readonly<GmailWatchState> | null {
    return this.#watch !== null && this.#watch.expiration > Date.now() ? this.#watch : null;
  }

  /** The push endpoint of the Pub/Sub subscription (the test builds it, token included); null: none. */
  setPushEndpoint(url: string | null): void {
    this.#endpoint = url;
  }

  /** Signs every later push as this identity (null: unsigned pushes, a subscription without oidcToken). */
  signPushesAs(identity: PushIdentity | null): void {
    this.#identity = identity;
    if (identity !== null && this.#keys.length === 0) this.#keys.push(newSigningKey());
  }

  /** Google rotates its signing keys: a new key signs from now on; the old one is still published. */
  rotateSigningKey(): void {
    this.#keys.unshift(newSigningKey());
  }

  /**
   * A Google ID token as Pub/Sub would send it for the configured identity, with `claims` overriding any
   * claim; `kid` overrides the key id in the header (the signature is always by the current key).
   */
  idToken(claims: IdTokenClaims = {}, options: { kid?: string; alg?: string } = {}): string {
    const identity = this.#identity;
    const key = this.#keys[0];
    if (identity === null || key === undefined) throw new Error('pushes are not signed: call signPushesAs first');
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: options.alg ?? 'RS256', kid: options.kid ?? key.kid, typ: 'JWT' };
    const payload = {
      aud: identity.audience,
      azp: '100000000000000000000',
      email: identity.serviceAccount,
      email_verified: true,
      exp: now + 3600,
      iat: now,
      iss: 'https://accounts.google.com',
      sub: '100000000000000000000',
      ...claims,
    };
    const signed = `${encodeSegment(header)}.${encodeSegment(payload)}`;
    const signature = createSign('RSA-SHA256').update(signed).sign(key.privateKey).toString('base64url');
    return `${signed}.${signature}`;
  }

  /** Google's `oauth2/v3/certs`: the public keys of every signing key, as a JSON Web Key Set. */
  handleCerts(): EmulatorResponse {
    const keys = this.#keys.map(({ kid, publicKey }) => ({ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }));
    return json(200, { keys }, { 'cache-control': 'public, max-age=21600, must-revalidate, no-transform' });
  }

  /** Waits until every push started so far has been answered. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** Makes the current watch expire now (the 7 days went by). */
  expireWatch(): void {
    if (this.#watch !== null) this.#watch.expiration = Date.now() - 1;
  }

  handleWatch(body: string, historyId: number): EmulatorResponse {
    let parsed: { topicName?: unknown; labelIds?: unknown; labelFilterBehavior?: unknown; labelFilterAction?: unknown };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return this.#error(400, 'Invalid JSON payload received.', 'badRequest', 'INVALID_ARGUMENT');
    }
    const topicName = parsed.topicName;
    if (typeof topicName !== 'string' || !TOPIC_RULE.test(topicName)) {
      return this.#error(400, 'Invalid topicName does not match projects/SOME-PROJECT/topics/SOME-TOPIC', 'invalidArgument', 'INVALID_ARGUMENT');
    }
    const labelIds = parsed.labelIds ?? [];
    if (!Array.isArray(labelIds) || !labelIds.every((id) => typeof id === 'string')) {
      return this.#error(400, 'Invalid labelIds', 'invalidArgument', 'INVALID_ARGUMENT');
    }
    const behavior = parsed.labelFilterBehavior ?? parsed.labelFilterAction ?? 'include';
    if (behavior !== 'include' && behavior !== 'exclude') {
      return this.#error(400, 'Invalid labelFilterBehavior', 'invalidArgument', 'INVALID_ARGUMENT');
    }
    const expiration = Date.now() + WATCH_LIFETIME_MS;
    this.#watch = { topicName, labelIds: labelIds as string[], labelFilterBehavior: behavior, historyId: String(historyId), expiration };
    return json(200, { historyId: String(historyId), expiration: String(expiration) });
  }

  handleStop(): EmulatorResponse {
    this.#watch = null;
    return { status: 204 };
  }

  /** Called by the emulator for each message added; pushes when the active watch covers its labels. */
  messageAdded(emailAddress: string, historyId: number, labelIds: string[]): void {
    const watch = this.watch;
    if (watch === null || this.#endpoint === null) return;
    const matches = watch.labelIds.length === 0 || watch.labelIds.some((label) => labelIds.includes(label));
    if ((watch.labelFilterBehavior === 'include') !== matches) return;
    const body = {
      message: {
        data: Buffer.from(JSON.stringify({ emailAddress, historyId })).toString('base64'),
        messageId: String(Math.floor(Math.random() * 1e15)),
        publishTime: new Date().toISOString(),
      },
      subscription: this.#subscription,
    };
    const authorization = this.#identity === null ? null : `Bearer ${this.idToken()}`;
    const delivery: PushDelivery = { url: this.#endpoint, body, authorization, status: null };
    this.deliveries.push(delivery);
    this.#deliver(delivery);
  }

  #deliver(delivery: PushDelivery): void {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (delivery.authorization !== null) headers['authorization'] = delivery.authorization;
    const sent: Promise<void> = fetch(delivery.url, { method: 'POST', headers, body: JSON.stringify(delivery.body), signal: AbortSignal.timeout(10_000) })
      .then(async (response) => {
        delivery.status = response.status;
        await response.arrayBuffer();
      })
      .catch(() => undefined)
      .finally(() => this.#pending.delete(sent));
    this.#pending.add(sent);
  }
}
