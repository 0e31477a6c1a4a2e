/**
 * The agent's view of its secrets: redeemed once from a single-use introduction, held in memory only.
 * Lifecycle: created → start() (introduction redeemed) → running → revoked (store said 403) | stopped.
 */
export interface SecretSource {
  /** Checks and redeems the introduction, starts renewing the token and loads the data key. */
  start(): Promise<void>;
  /** Every secret of this client, read into memory. */
  readSecrets(): Promise<ReadonlyMap<string, string>>;
  /**
   * Every field of one KV secret (e.g. `control` → `{ token_sha256 }`), or null when it does not exist.
   * Non-string field values are left out.
   */
  readSecretData(name: string): Promise<Readonly<Record<string, string>> | null>;
  /**
   * Writes a secret back (e.g. a rotated OAuth refresh token). With `cas`, only while the stored secret is
   * still at that version (0: only while it does not exist), as Vault KV v2 check-and-set does; otherwise
   * nothing is written and FleetError `conflict` is thrown (another writer, such as an admin's
   * `fleet secrets set`, got there first).
   */
  writeSecret(name: string, value: string, options?: SecretWriteOptions): Promise<void>;
  /**
   * One secret's `value` with the KV version it has, or null when it does not exist. Optional only so that
   * in-memory test doubles may leave it out; without it rotated tokens are written back unconditionally.
   */
  readSecretVersion?(name: string): Promise<VersionedSecret | null>;
  /** The client's data-encryption key; only its wrapped form ever touches disk. */
  dataKey(): Buffer;
  /** True once the store rejected the token (killed, locked or revoked): the agent must stop acting. */
  readonly revoked: boolean;
  /** Called once, when the store first rejects the token. Returns an unsubscribe function. */
  onRevoked(listener: (reason: string) => void): () => void;
  /** Stops renewing, revokes the token and forgets it. */
  stop(): Promise<void>;
}

/** A secret's value as read, with the KV v2 version it was read at. */
export interface VersionedSecret {
  value: string;
  version: number;
}

export interface SecretWriteOptions {
  /** Check-and-set: the version the stored secret must still have (0: must not exist yet). */
  cas?: number;
}
