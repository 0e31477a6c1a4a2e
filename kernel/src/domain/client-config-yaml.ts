import { isDeepStrictEqual } from 'node:util';
import { isCollection, isMap, isSeq, parseDocument, stringify as stringifyYaml } from 'yaml';
import { FleetError } from './fleet-error.ts';
import { clientConfigFromData, type ClientConfig, type ClientConfigInput } from './client-config.ts';
import { checkConfigSize, renderAgentConfigJson } from './client-config-document.ts';

/** Parses a client config YAML document, throwing one FleetError that lists every problem. */
export function parseClientConfigYaml(text: string, source = 'client config'): ClientConfig {
  return clientConfigFromData(parseYamlData(text, source), source);
}

export function renderClientConfigYaml(config: ClientConfigInput): string {
  return stringifyYaml(config);
}

/**
 * The config document placed for the agent: the same data as `configYaml` written as JSON (which is YAML
 * 1.2 as well), which the agent reads without loading a YAML parser before it answers /healthz. The YAML
 * text itself when JSON cannot carry its data unchanged (`.inf`, for one) or it does not parse: the agent
 * then parses and rejects it as YAML, as it always did.
 */
export function agentConfigDocument(configYaml: string): string {
  let data: unknown;
  try {
    data = parseYamlData(configYaml, 'client config') ?? {};
  } catch {
    return configYaml;
  }
  const json = renderAgentConfigJson(data);
  return json !== null && isDeepStrictEqual(JSON.parse(json), data) ? json : configYaml;
}

/**
 * The document's data. What the YAML library would only warn about on stderr (an unknown tag, an
 * unsupported YAML version, a collection used as a key) is refused here: a config means one thing or
 * is rejected with the reason.
 */
function parseYamlData(text: string, source: string): unknown {
  checkConfigSize(text, source);
  try {
    const document = parseDocument(text, { uniqueKeys: true, logLevel: 'silent' });
    const problem = document.errors[0] ?? document.warnings[0];
    if (problem !== undefined) throw problem;
    if (hasCollectionKey(document.contents)) throw new Error('a key is a list or a map; keys must be plain names');
    return document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new FleetError('invalid_input', `${source}: not valid YAML: ${(error as Error).message}`, { cause: error });
  }
}

function hasCollectionKey(node: unknown): boolean {
  if (isMap(node)) return node.items.some((pair) => isCollection(pair.key) || hasCollectionKey(pair.value));
  if (isSeq(node)) return node.items.some(hasCollectionKey);
  return false;
}
