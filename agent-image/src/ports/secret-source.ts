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
  /** Writes a secret back (e.g. a refreshed OAuth token). */
  writeSecret(name: string, value: string): Promise<void>;
  /** The client's data-encryption key; only its wrapped form ever touches disk. */
  dataKey(): Buffer;
  /** True once the store rejected the token (killed, locked or revoked): the agent must stop acting. */
  readonly revoked: boolean;
  /** Called once, when the store first rejects the token. Returns an unsubscribe function. */
  onRevoked(listener: (reason: string) => void): () => void;
  /** Stops renewing, revokes the token and forgets it. */
  stop(): Promise<void>;
}
