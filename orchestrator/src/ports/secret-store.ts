import type { ClientId } from '@agent-fleet/kernel/client-id';

/** The single-use handover an agent receives instead of any usable secret. */
export interface AgentIntroduction {
  /** Response-wrapping token: usable once, for at most `ttlSeconds`. */
  wrappingToken: string;
  ttlSeconds: number;
  /** The path that created the wrapped response; the agent checks it before unwrapping. */
  creationPath: string;
  /** Accessor of the wrapped agent token, for revocation without knowing the token. */
  tokenAccessor: string;
}

export interface SecretMetadata {
  name: string;
  version: number;
  updatedAt: string;
}

/**
 * Per-client secrets behind the Vault HTTP API (HashiCorp Vault, OpenBao or the embedded store).
 * Every client has its own KV v2 path `fleet/<id>/`, ACL policy `fleet-<id>`, token role and data key.
 */
export interface SecretStore {
  /** Creates the client's policy, token role and data key. Idempotent. */
  ensureClient(clientId: ClientId): Promise<void>;
  /** Issues a periodic agent token for the client, handed over response-wrapped. */
  issueAgentIntroduction(clientId: ClientId): Promise<AgentIntroduction>;
  /** Stores a secret value under the client's path; returns the new version. */
  writeSecret(clientId: ClientId, name: string, value: string): Promise<{ version: number }>;
  /** Names and versions of the client's secrets, never values. */
  listSecrets(clientId: ClientId): Promise<SecretMetadata[]>;
  /** Revokes every agent token issued for the client; returns how many were revoked. */
  revokeAgentTokens(clientId: ClientId): Promise<{ revoked: number }>;
  /** Accessors of the client's agent tokens still live (a rotation's "before"). */
  agentTokenAccessors(clientId: ClientId): Promise<string[]>;
  /** Revokes exactly these agent tokens of the client (a rotation's old ones); returns how many were still live. */
  revokeAgentTokenAccessors(clientId: ClientId, accessors: readonly string[]): Promise<{ revoked: number }>;
  /** Replaces the client's policy with one that denies everything (kill switch). */
  lockClient(clientId: ClientId): Promise<void>;
  /** Restores the client's normal policy (revive). */
  unlockClient(clientId: ClientId): Promise<void>;
  /** True while the client's policy denies everything (killed, and not revived since). */
  isLocked(clientId: ClientId): Promise<boolean>;
  /** Rotates the client's data key; old ciphertexts stay decryptable. */
  rotateDataKey(clientId: ClientId): Promise<{ version: number }>;
  /**
   * Mints a new control token for the orchestrator to call the agent's control API: the token stays in the
   * orchestrator's own mount; only its SHA-256 goes to the client's path, for the agent to check against.
   */
  issueControlToken(clientId: ClientId): Promise<string>;
  /** The current control token of a client, or null when none was issued. */
  readControlToken(clientId: ClientId): Promise<string | null>;
  /** Deletes the client's secrets, policy, role and key (deprovision --purge). */
  removeClient(clientId: ClientId): Promise<void>;
}
