import { FleetError } from './fleet-error.ts';
import { clientConfigFromData, type ClientConfig } from './client-config.ts';

/** The largest config document accepted anywhere (CLI, API, agent), in bytes: 1 MiB. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Refuses a config document over 1 MiB before anything parses it (JSON or YAML). */
export function checkConfigSize(text: string, source: string): void {
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    throw new FleetError('invalid_input', `${source}: larger than ${MAX_CONFIG_BYTES} bytes`);
  }
}

/** The JSON form of config data the agent reads without a YAML parser; null for data JSON cannot hold. */
export function renderAgentConfigJson(data: unknown): string | null {
  try {
    return `${JSON.stringify(data, null, 2)}\n`;
  } catch {
    return null;
  }
}

/**
 * Reads the config document placed in the agent's volume (client-config-yaml.ts `agentConfigDocument`).
 * Exactly the JSON the orchestrator renders is read as JSON; anything else (a hand-written YAML file, a
 * Kubernetes ConfigMap, JSON with a repeated key) goes through the YAML parser, loaded only then.
 */
export async function parseAgentConfigDocument(text: string, source: string): Promise<ClientConfig> {
  checkConfigSize(text, source);
  const data = renderedJsonData(text);
  if (data !== undefined) return clientConfigFromData(data, source);
  const { parseClientConfigYaml } = await import('./client-config-yaml.ts');
  return parseClientConfigYaml(text, source);
}

/** The data of `text` when it is byte for byte what renderAgentConfigJson makes of it, else undefined. */
function renderedJsonData(text: string): unknown {
  if (!text.startsWith('{')) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  // A repeated key, or any JSON spelled otherwise, does not survive the round trip: the YAML parser decides.
  return renderAgentConfigJson(data) === text ? data : undefined;
}
