import { hashToken, type TokenStore } from './token-store.ts';
import { RESPONSE_WRAPPING_POLICY } from './policy-registry.ts';
import type { VaultState } from './vault-state.ts';
import { dataResult, isoTime, wrapResult, type VaultResult } from './vault-response.ts';
import { badRequest } from './vault-http-error.ts';

const INVALID_WRAPPING_TOKEN = 'wrapping token is not valid or does not exist';

/** Response wrapping: a response sealed behind a single-use token that expires after its TTL. */
export class WrapStore {
  private readonly state: VaultState;
  private readonly tokens: TokenStore;

  constructor(state: VaultState, tokens: TokenStore) {
    this.state = state;
    this.tokens = tokens;
  }

  wrap(
    response: Record<string, unknown>,
    creationPath: string,
    ttlSeconds: number,
    now: number,
  ): VaultResult {
    const { token, record } = this.tokens.create(
      {
        policies: [RESPONSE_WRAPPING_POLICY],
        creationTtl: ttlSeconds,
        expiresAt: now + ttlSeconds * 1000,
        period: null,
        explicitMaxTtl: ttlSeconds,
        renewable: false,
        orphan: true,
        parentAccessor: null,
        displayName: 'response-wrapping',
        meta: {},
        numUses: 1,
        path: creationPath,
        role: null,
      },
      now,
    );
    this.state.wraps[hashToken(token)] = {
      creationPath,
      createdAt: now,
      ttl: ttlSeconds,
      response: JSON.stringify(response),
    };
    const auth = response['auth'] as { accessor?: unknown } | null | undefined;
    return wrapResult({
      token,
      accessor: record.accessor,
      ttl: ttlSeconds,
      creation_time: isoTime(now),
      creation_path: creationPath,
      ...(typeof auth?.accessor === 'string' ? { wrapped_accessor: auth.accessor } : {}),
    });
  }

  /** Whether a token is a live wrapping token (used to route an unwrap that carries it as X-Vault-Token). */
  isWrappingToken(token: string, now: number): boolean {
    return this.tokens.lookup(token, now) !== null && this.state.wraps[hashToken(token)] !== undefined;
  }

  lookup(token: string, now: number): VaultResult {
    const wrap = this.live(token, now);
    return dataResult({
      creation_path: wrap.creationPath,
      creation_time: isoTime(wrap.createdAt),
      creation_ttl: wrap.ttl,
    });
  }

  /** Returns the wrapped response and destroys the wrapping token, so a second unwrap fails. */
  unwrap(token: string, now: number): VaultResult {
    const wrap = this.live(token, now);
    this.tokens.revokeToken(token);
    return { status: 200, body: JSON.parse(wrap.response) as Record<string, unknown> };
  }

  private live(token: string, now: number) {
    const wrap = this.state.wraps[hashToken(token)];
    // lookup() purges an expired token together with its wrapped response.
    if (!wrap || this.tokens.lookup(token, now) === null) throw badRequest(INVALID_WRAPPING_TOKEN);
    return wrap;
  }
}
