import { isDeepStrictEqual } from 'node:util';
import { Composer, isMap, isScalar, isSeq, LineCounter, Parser, stringify as stringifyYaml, YAMLParseError, type CST, type YAMLError } from 'yaml';
import { shownInert } from './auto-reply-config.ts';
import { FleetError } from './fleet-error.ts';
import { clientConfigFromData, type ClientConfig, type ClientConfigInput } from './client-config.ts';
import { checkConfigSize, renderAgentConfigJson } from './client-config-document.ts';

/**
 * Lists and maps nested deeper than this are refused before the document is built: a real config nests a
 * few levels, and the library builds (and the key check walks) a document by recursion, so a deep one would
 * otherwise end in "Maximum call stack size exceeded", at a depth that depends on the caller's stack.
 */
export const MAX_CONFIG_NESTING = 64;

/** Parses a client config YAML document, throwing one FleetError that lists every problem. */
export function parseClientConfigYaml(text: string, source = 'client config'): ClientConfig {
  const data = parseYamlData(text, source);
  // An empty document (or only comments, `---` or `null`) would otherwise be read as {} and refused for its missing fields.
  if (data === null || data === undefined) throw new FleetError('invalid_input', `${source} is empty: a client config is a YAML map of settings, starting with client: <id>`);
  return clientConfigFromData(data, source);
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
 * unsupported YAML version, a collection used as a key) is refused here, and so is a second document
 * after `---`, which the library drops without a word when it is silent, and a `%YAML 1.1` directive,
 * which the library honours: a config means one thing or is rejected with the reason.
 */
function parseYamlData(text: string, source: string): unknown {
  checkConfigSize(text, source);
  try {
    const lineCounter = new LineCounter();
    // The library's parseAllDocuments, with the syntax tree checked before documents are built and the
    // first problem ending the parse (see stopAtFirstProblem). Repeated keys are found below in one pass:
    // the library's own check compares every key with every other, which takes minutes on a 1 MiB map of
    // distinct keys.
    const composer = stopAtFirstProblem(new Composer({ uniqueKeys: false, logLevel: 'silent' }), lineCounter);
    const documents = Array.from(composer.compose(checkedTokens(new Parser(lineCounter.addNewLine).parse(text), lineCounter)));
    const document = documents[0];
    if (document === undefined) {
      const problem = composer.streamInfo().errors[0];
      if (problem !== undefined) throw located(problem, lineCounter);
      return null;
    }
    const problem = document.errors[0] ?? document.warnings[0];
    if (problem !== undefined) throw located(problem, lineCounter);
    // YAML 1.1 reads the same text otherwise: `010` is 8, `1:30` is 90, `yes`/`no`/`on`/`off` are booleans.
    // The API, the portal and the agent's JSON copy all read 1.2, so a config is 1.2 whatever it declares.
    const version = document.directives?.yaml.version ?? '1.2';
    if (version !== '1.2') {
      throw new Error(`it declares %YAML ${version}, which reads numbers such as 010 and 1:30 and words such as yes and no otherwise; remove the directive (a config is YAML 1.2)`);
    }
    checkUniqueKeys(document.contents, lineCounter);
    return document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // The library quotes what it could not read (a tag, an alias name), which may hold a line feed or an escape.
    throw new FleetError('invalid_input', `${source}: not valid YAML: ${shownInert((error as Error).message)}`, { cause: error });
  }
}

/**
 * Every map key is a plain scalar, once per map (as the property it becomes: `1` and `"1"` are one key).
 * `onKeyStep` is called for each step of the check over a key, so a test can count that it stays linear.
 */
export function checkUniqueKeys(node: unknown, lines: LineCounter, onKeyStep: () => void = () => undefined): void {
  if (isSeq(node)) {
    for (const item of node.items) checkUniqueKeys(item, lines, onKeyStep);
    return;
  }
  if (!isMap(node)) return;
  const seen = new Map<string, number>();
  for (const pair of node.items) {
    onKeyStep();
    const key: unknown = pair.key;
    if (!isScalar(key)) throw new Error('a key is a list or a map (or an alias to one); keys must be plain names');
    const line = lines.linePos(key.range?.[0] ?? 0).line;
    const name = key.value === null || key.value === undefined ? '' : String(key.value);
    const first = seen.get(name);
    if (first !== undefined) {
      const shown = JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);
      throw new Error(`map keys must be unique: ${shown} appears twice (lines ${first} and ${line})`);
    }
    seen.set(name, line);
    checkUniqueKeys(pair.value, lines, onKeyStep);
  }
}

/** The library's error with where it is (as parseAllDocuments words it, without the quoted line). */
function located(error: YAMLError, lines: LineCounter): YAMLError {
  if (error.pos[0] < 0) return error;
  const { line, col } = lines.linePos(error.pos[0]);
  error.message += ` at line ${line}, column ${col}`;
  return error;
}

/**
 * The composer, made to throw its first error or warning (with where it is) instead of recording it and
 * going on. The library records every problem as an Error with its stack: a 1 MiB document of stray
 * brackets, anchors or bad escapes made up to a million of them and took a minute to refuse. A later
 * version of the library without this hook only loses the early stop: the problems are still read after.
 * `onProblem` is called for each problem the composer reports, so a test can count that it stops at one.
 */
export function stopAtFirstProblem(composer: Composer, lines: LineCounter, onProblem: () => void = () => undefined): Composer {
  const hooked = composer as unknown as { onError?: unknown };
  if (typeof hooked.onError !== 'function') return composer;
  let first: YAMLError | undefined;
  hooked.onError = (where: number | [number, number] | { offset: number }, code: YAMLParseError['code'], message: string): never => {
    // The library catches what is thrown while it builds a collection or a scalar and reports it again.
    if (first === undefined) {
      onProblem();
      const start = typeof where === 'number' ? where : Array.isArray(where) ? where[0] : where.offset;
      first = located(new YAMLParseError([start, start + 1], code, message), lines);
    }
    throw first;
  };
  return composer;
}

/**
 * The parser's top-level tokens, each refused when its lists and maps nest deeper than MAX_CONFIG_NESTING,
 * and the stream refused at its first syntax error and at a second document, before the parser reads on:
 * a 1 MiB run of "]" or "---" lines was a million error tokens or 250 000 documents, each built before
 * the first was looked at. The parser builds the syntax tree without recursion; the depth walk keeps its
 * own stack for the same reason.
 */
export function* checkedTokens(tokens: Iterable<CST.Token>, lines: LineCounter): Generator<CST.Token> {
  let documents = 0;
  for (const top of tokens) {
    if (top.type === 'error') {
      const message = top.source === '' ? top.message : `${top.message}: ${JSON.stringify(top.source)}`;
      throw located(new YAMLParseError([top.offset, top.offset + 1], 'UNEXPECTED_TOKEN', message), lines);
    }
    if (top.type === 'document' && ++documents > 1) {
      throw new Error('it holds 2 YAML documents or more (separated by "---"); a config is one document');
    }
    const pending: Array<{ token: CST.Token | null | undefined; depth: number }> = [{ token: top, depth: 0 }];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      const { token, depth } = next;
      if (token?.type === 'document') pending.push({ token: token.value, depth });
      if (token?.type !== 'block-map' && token?.type !== 'block-seq' && token?.type !== 'flow-collection') continue;
      if (depth >= MAX_CONFIG_NESTING) {
        const { line, col } = lines.linePos(token.offset);
        throw new Error(`it is nested too deeply: more than ${MAX_CONFIG_NESTING} levels of lists and maps (at line ${line}, column ${col})`);
      }
      for (const item of token.items) {
        if ('key' in item) pending.push({ token: item.key, depth: depth + 1 });
        pending.push({ token: item.value, depth: depth + 1 });
      }
    }
    yield top;
  }
}
