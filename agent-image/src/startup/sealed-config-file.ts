import { unlink } from 'node:fs/promises';
import path from 'node:path';
import { readBoundedTextFile, readBoundedTextFileIfPresent } from '@agent-fleet/kernel/bounded-file-read';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { MAX_CONFIG_BYTES, parseAgentConfigDocument } from '@agent-fleet/kernel/client-config-document';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { AGENT_SEALED_CONFIG_FILE, openAgentConfig } from '@agent-fleet/kernel/sealed-agent-config';

/** Where the Docker agent finds its sealed config: beside its data, placed by the orchestrator at every start. */
export function sealedConfigPath(dataDir: string): string {
  return path.join(dataDir, AGENT_SEALED_CONFIG_FILE);
}

/** openAgentConfig opens no larger sealed config: a larger file is refused before it is read whole. */
export const MAX_SEALED_CONFIG_FILE_BYTES = 2 * 1024 * 1024;

/**
 * The sealed config's text, or null when none was placed (Kubernetes renders the config into the pod
 * instead); refused by name when it is no regular file (links followed) or larger than its bound.
 */
export async function readSealedConfig(dataDir: string): Promise<string | null> {
  const file = sealedConfigPath(dataDir);
  return readBoundedTextFileIfPresent(file, { maxBytes: MAX_SEALED_CONFIG_FILE_BYTES, what: `the sealed client config ${file}` });
}

/**
 * The client config in the clear at AGENT_CONFIG_PATH (Kubernetes renders it into the pod), refused by name
 * when it is no regular file (links followed) or larger than any config accepted.
 */
export async function readPlainConfig(file: string): Promise<string> {
  return readBoundedTextFile(file, { maxBytes: MAX_CONFIG_BYTES, what: `the client config ${file} (AGENT_CONFIG_PATH)` });
}

/**
 * The config sealed for this start, opened with the key its TLS handover carried. A plaintext config an
 * older orchestrator placed in the volume is removed once the sealed one opens (a read-only volume, as a
 * volume reader mounts it, keeps it: the agent itself removes it at its next start).
 */
export async function openSealedConfig(options: {
  sealed: string;
  clientId: ClientId;
  configKey: string | null;
  dataDir: string;
  legacyConfigPath: string;
}): Promise<ClientConfig> {
  if (options.configKey === null) {
    throw new FleetError('integrity', 'the TLS handover carried no key for the sealed config; the orchestrator places both at each start');
  }
  const source = sealedConfigPath(options.dataDir);
  const config = await parseAgentConfigDocument(openAgentConfig(options.sealed, options.clientId, options.configKey), source);
  if (config.client !== options.clientId) throw new FleetError('integrity', `${source} opens to the config of ${config.client}, not ${options.clientId}`);
  if (path.dirname(path.resolve(options.legacyConfigPath)) === path.resolve(options.dataDir)) {
    await unlink(options.legacyConfigPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT' && error.code !== 'EROFS' && error.code !== 'EACCES') throw error;
    });
  }
  return config;
}
