/** Everything the embedded Vault persists, as one JSON document encrypted on disk. Times are epoch ms. */
export interface VaultState {
  formatVersion: 1;
  /**
   * Kept (encrypted under the master key like everything else) so that the orchestrator can use the
   * same root token across restarts; see README "Root token".
   */
  rootToken: string;
  /** Keyed by sha256(token) so that token values are not map keys in memory dumps of the index. */
  tokens: Record<string, TokenRecord>;
  /** accessor -> sha256(token) */
  accessors: Record<string, string>;
  /** sha256(wrapping token) -> wrapped response */
  wraps: Record<string, WrapRecord>;
  policies: Record<string, string>;
  roles: Record<string, TokenRole>;
  /** Mount path with trailing slash ("fleet/") -> mount. */
  mounts: Record<string, MountRecord>;
  /** mount path -> secret path -> secret */
  kv: Record<string, Record<string, KvSecret>>;
  /** mount path -> key name -> key */
  transit: Record<string, Record<string, TransitKey>>;
}

export interface TokenRecord {
  accessor: string;
  policies: string[];
  createdAt: number;
  /** TTL granted at creation, seconds (0 for root). */
  creationTtl: number;
  /** null: never expires (root). */
  expiresAt: number | null;
  /** Periodic tokens: each renewal resets the TTL to this many seconds. */
  period: number | null;
  explicitMaxTtl: number;
  renewable: boolean;
  orphan: boolean;
  parentAccessor: string | null;
  displayName: string;
  meta: Record<string, string>;
  /** 0: unlimited. */
  numUses: number;
  path: string;
  role: string | null;
}

export interface WrapRecord {
  creationPath: string;
  createdAt: number;
  ttl: number;
  /** The wrapped response body, JSON. */
  response: string;
}

export interface TokenRole {
  allowedPolicies: string[];
  orphan: boolean;
  period: number;
  renewable: boolean;
  noDefaultPolicy: boolean;
  explicitMaxTtl: number;
  ttl: number;
}

export interface MountRecord {
  type: 'kv' | 'transit';
  description: string;
  accessor: string;
  uuid: string;
  options: Record<string, string>;
}

export interface KvVersion {
  createdAt: number;
  deletedAt: number | null;
  destroyed: boolean;
  data: Record<string, unknown> | null;
}

export interface KvSecret {
  createdAt: number;
  updatedAt: number;
  currentVersion: number;
  oldestVersion: number;
  maxVersions: number;
  casRequired: boolean;
  versions: Record<string, KvVersion>;
}

export interface TransitKey {
  type: 'aes256-gcm96';
  latestVersion: number;
  minDecryptionVersion: number;
  minEncryptionVersion: number;
  deletionAllowed: boolean;
  /** version -> { base64 key, creation time } */
  versions: Record<string, { key: string; createdAt: number }>;
}

/**
 * A map object without a prototype: keys come from requests (secret paths, key, role and policy names),
 * and on a plain object `constructor` or `__proto__` would be Object.prototype's, not an entry.
 */
export function dictionary<T>(entries: Record<string, T> = {}): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, entries);
}

const nested = <T>(maps: Record<string, Record<string, T>>): Record<string, Record<string, T>> =>
  dictionary(Object.fromEntries(Object.entries(maps).map(([key, map]) => [key, dictionary(map)])));

export function emptyState(rootToken: string): VaultState {
  return withDictionaries({
    formatVersion: 1,
    rootToken,
    tokens: {},
    accessors: {},
    wraps: {},
    policies: {},
    roles: {},
    mounts: {},
    kv: {},
    transit: {},
  });
}

/** The state with every map keyed by request input made prototype-free (for state parsed from JSON). */
export function withDictionaries(state: VaultState): VaultState {
  return {
    ...state,
    tokens: dictionary(state.tokens),
    accessors: dictionary(state.accessors),
    wraps: dictionary(state.wraps),
    policies: dictionary(state.policies),
    roles: dictionary(state.roles),
    mounts: dictionary(state.mounts),
    kv: nested(state.kv ?? {}),
    transit: nested(state.transit ?? {}),
  };
}
