import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { FleetError } from './fleet-error.ts';
import { parseClientConfig, type ClientConfig, type ClientConfigInput } from './client-config.ts';

const MAX_CONFIG_BYTES = 1024 * 1024;

/** Parses a client config YAML document, throwing one FleetError that lists every problem. */
export function parseClientConfigYaml(text: string, source = 'client config'): ClientConfig {
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    throw new FleetError('invalid_input', `${source}: larger than ${MAX_CONFIG_BYTES} bytes`);
  }
  let data: unknown;
  try {
    data = parseYaml(text, { maxAliasCount: 100, uniqueKeys: true });
  } catch (error) {
    throw new FleetError('invalid_input', `${source}: not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  const result = parseClientConfig(data ?? {});
  if (!result.ok) {
    throw new FleetError('invalid_input', `${source} is invalid:\n  ${result.issues.join('\n  ')}`);
  }
  return result.config;
}

export function renderClientConfigYaml(config: ClientConfigInput): string {
  return stringifyYaml(config);
}
