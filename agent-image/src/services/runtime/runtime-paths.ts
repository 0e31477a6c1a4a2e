import { join } from 'node:path';
import { KILL_FLAG_FILE } from '@agent-fleet/kernel/kill-flag';

/** Where the orchestrator's files and Vault Agent's token come from, when not from the client's volume. */
export interface ExternalPaths {
  /** AGENT_PLACED_FILES_DIR: read-only files placed by the orchestrator (Kubernetes ConfigMap mount). */
  placedFilesDir?: string | undefined;
  /** AGENT_VAULT_SINK_FILE: the token file Vault Agent writes (Kubernetes). */
  vaultSinkFile?: string | undefined;
}

/**
 * The layout of the client's volume, plus the read-only places the orchestrator may write to instead:
 * the kill switch is engaged by the agent's own flag in the volume (`killFlag`) and, on Kubernetes, by
 * the one the orchestrator places in the read-only ConfigMap mount (`placedKillFlag`).
 */
export function runtimePaths(dataDir: string, external: ExternalPaths = {}) {
  const killFlag = join(dataDir, KILL_FLAG_FILE);
  const placedKillFlag = external.placedFilesDir === undefined ? null : join(external.placedFilesDir, KILL_FLAG_FILE);
  return {
    killFlag,
    placedKillFlag,
    vaultSinkFile: external.vaultSinkFile ?? null,
    wrappedKey: join(dataDir, 'keys', 'data-key.wrapped'),
    audit: join(dataDir, 'audit'),
    outbox: join(dataDir, 'outbox'),
    state: join(dataDir, 'state'),
  } as const;
}
