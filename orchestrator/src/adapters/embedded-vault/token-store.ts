import { createHash, randomBytes } from 'node:crypto';
import { DueQueue } from './due-queue.ts';
import type { TokenRecord, VaultState } from './vault-state.ts';
import { isoTime } from './vault-response.ts';

/** Vault's default system maximum TTL (768h). */
export const MAX_TTL_SECONDS = 768 * 3600;

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');
export const newToken = (): string => `hvs.${randomBytes(24).toString('base64url')}`;
export const newAccessor = (): string => randomBytes(18).toString('base64url');

export type TokenInit = Omit<TokenRecord, 'accessor' | 'createdAt'>;

/**
 * Token lifecycle over the shared state: creation, lookup with expiry, renewal, revocation with children.
 * It indexes the state's tokens when made (by expiry time, and by parent) and keeps the index as tokens
 * come and go, so a request finds what expired, and a revocation a token's children, without scanning
 * every token: the state's tokens must change only through it.
 */
export class TokenStore {
  private readonly state: VaultState;
  /** sha256(token) -> accessor of revoked tokens, in memory only, so later attempts stay attributable. */
  private readonly revoked = new Map<string, string>();
  /** sha256(token) of every token that can expire, due at its `expiresAt`. */
  private readonly expiries = new DueQueue();
  /** accessor -> sha256(token) of the non-orphan tokens it created. */
  private readonly children = new Map<string, Set<string>>();
  /** Wrapped responses found without their wrapping token (a state saved that way), removed at the first purge. */
  private strayWraps: string[];

  constructor(state: VaultState) {
    this.state = state;
    for (const [hash, record] of Object.entries(state.tokens)) this.index(hash, record);
    this.strayWraps = Object.keys(state.wraps).filter((hash) => state.tokens[hash] === undefined);
  }

  create(init: TokenInit, now: number): { token: string; record: TokenRecord } {
    const token = newToken();
    const record: TokenRecord = { ...init, accessor: newAccessor(), createdAt: now };
    const hash = hashToken(token);
    this.state.tokens[hash] = record;
    this.state.accessors[record.accessor] = hash;
    this.index(hash, record);
    return { token, record };
  }

  private index(hash: string, record: TokenRecord): void {
    if (record.expiresAt !== null) this.expiries.set(hash, record.expiresAt);
    if (record.parentAccessor === null) return;
    const siblings = this.children.get(record.parentAccessor) ?? new Set<string>();
    siblings.add(hash);
    this.children.set(record.parentAccessor, siblings);
  }

  /** A live token's record; expired tokens are purged and reported as absent. */
  lookup(token: string, now: number): TokenRecord | null {
    return this.liveByHash(hashToken(token), now);
  }

  lookupAccessor(accessor: string, now: number): TokenRecord | null {
    const hash = this.state.accessors[accessor];
    return hash === undefined ? null : this.liveByHash(hash, now);
  }

  private liveByHash(hash: string, now: number): TokenRecord | null {
    const record = this.state.tokens[hash];
    if (!record) return null;
    if (isExpired(record, now)) {
      this.revokeHashes([hash]);
      return null;
    }
    return record;
  }

  /**
   * Revokes every token whose TTL has run out, with its descendants, and drops wrapped responses whose
   * wrapping token is gone: what Vault's expiration manager does at each expiry. Without it an expired
   * parent's renewed children would live on, and an unredeemed wrap (a token, a private key) would stay
   * in the state for good. Returns whether anything was removed.
   */
  purgeExpired(now: number): boolean {
    // Only what is due is looked at: O(log n) per expired token, nothing when none is due.
    const removed = this.revokeHashes(this.expiries.takeDue(now));
    const strayWraps = this.strayWraps;
    this.strayWraps = [];
    for (const hash of strayWraps) delete this.state.wraps[hash];
    return removed + strayWraps.length > 0;
  }

  /** Revokes a token and, recursively, every non-orphan child it created. */
  revokeAccessor(accessor: string): boolean {
    const hash = this.state.accessors[accessor];
    if (hash === undefined || this.state.tokens[hash] === undefined) return false;
    this.revokeHashes([hash]);
    return true;
  }

  revokeToken(token: string): void {
    this.revokeHashes([hashToken(token)]);
  }

  /** Revokes the tokens and their whole subtrees, looking at no other token; returns how many went. */
  private revokeHashes(roots: string[]): number {
    const pending = [...roots];
    let removed = 0;
    for (let hash = pending.pop(); hash !== undefined; hash = pending.pop()) {
      const record = this.state.tokens[hash];
      if (!record) continue;
      delete this.state.tokens[hash];
      delete this.state.accessors[record.accessor];
      delete this.state.wraps[hash];
      this.expiries.delete(hash);
      if (record.parentAccessor !== null) this.children.get(record.parentAccessor)?.delete(hash);
      this.revoked.set(hash, record.accessor);
      if (this.revoked.size > 10_000) this.revoked.delete(this.revoked.keys().next().value ?? '');
      removed++;
      const children = this.children.get(record.accessor);
      if (children === undefined) continue;
      this.children.delete(record.accessor);
      pending.push(...children);
    }
    return removed;
  }

  /** The accessor a revoked or expired token had, for the request log. */
  revokedAccessor(token: string | undefined): string | null {
    return token ? (this.revoked.get(hashToken(token)) ?? null) : null;
  }

  /** Extends a token's TTL the way Vault does: periodic tokens get their period again, others are capped. */
  renew(record: TokenRecord, incrementSeconds: number | undefined, now: number): number {
    const hardLimit =
      record.createdAt +
      (record.explicitMaxTtl > 0
        ? record.explicitMaxTtl
        : record.period
          ? Number.POSITIVE_INFINITY
          : MAX_TTL_SECONDS) *
        1000;
    const wanted = record.period ?? incrementSeconds ?? record.creationTtl;
    const expiresAt = Math.min(now + wanted * 1000, hardLimit);
    record.expiresAt = expiresAt;
    const hash = this.state.accessors[record.accessor];
    if (hash !== undefined) this.expiries.set(hash, expiresAt);
    return Math.max(0, Math.floor((expiresAt - now) / 1000));
  }

  /** The `auth` block Vault returns when a token is created or renewed. */
  authBlock(token: string, record: TokenRecord, now: number): Record<string, unknown> {
    return {
      client_token: token,
      accessor: record.accessor,
      policies: record.policies,
      token_policies: record.policies,
      identity_policies: null,
      metadata: Object.keys(record.meta).length > 0 ? record.meta : null,
      lease_duration: ttlSeconds(record, now),
      renewable: record.renewable,
      entity_id: '',
      token_type: 'service',
      orphan: record.orphan,
      mfa_requirement: null,
      num_uses: record.numUses,
    };
  }

  /** The `data` of a token lookup; `id` is empty when looked up by accessor, as in Vault. */
  lookupData(token: string, record: TokenRecord, now: number): Record<string, unknown> {
    return {
      accessor: record.accessor,
      creation_time: Math.floor(record.createdAt / 1000),
      creation_ttl: record.creationTtl,
      display_name: record.displayName,
      entity_id: '',
      expire_time: record.expiresAt === null ? null : isoTime(record.expiresAt),
      explicit_max_ttl: record.explicitMaxTtl,
      id: token,
      issue_time: isoTime(record.createdAt),
      meta: Object.keys(record.meta).length > 0 ? record.meta : null,
      num_uses: record.numUses,
      orphan: record.orphan,
      path: record.path,
      policies: record.policies,
      renewable: record.renewable,
      ttl: ttlSeconds(record, now),
      type: 'service',
      ...(record.period ? { period: record.period } : {}),
      ...(record.role ? { role: record.role } : {}),
    };
  }
}

const isExpired = (record: TokenRecord, now: number): boolean =>
  record.expiresAt !== null && record.expiresAt <= now;

export function ttlSeconds(record: TokenRecord, now: number): number {
  return record.expiresAt === null ? 0 : Math.max(0, Math.floor((record.expiresAt - now) / 1000));
}
