import { BadRequest, SCHEMAS, type FieldSpec } from './bullhorn-schema.ts';

/**
 * The two filter languages of Bullhorn's REST API, as far as the emulator understands them, strictly:
 * Lucene for `search` (`email:"a@b.example" AND isDeleted:0`) and SQL-style `where` for `query`
 * (`externalID='k' AND personReference.id=12`). Anything else is a 400, as a malformed query is there.
 */

export type Row = Record<string, unknown>;
export type Predicate = (row: Row) => boolean;

/** A filterable path: a scalar field, or `association.id`. Returns the field's spec. */
function resolvePath(entity: string, path: string): FieldSpec {
  const schema = SCHEMAS[entity] ?? {};
  const [head, tail, ...rest] = path.split('.');
  const spec = head === undefined ? undefined : schema[head];
  if (spec === undefined || rest.length > 0) throw new BadRequest(`Invalid field '${path}' in query for entity '${entity}'`);
  if (tail === undefined) {
    if (spec.type === 'toOne' || spec.type === 'toMany') throw new BadRequest(`Association '${path}' needs a sub-field in a query`);
    return spec;
  }
  if (spec.type !== 'toOne' || tail !== 'id') throw new BadRequest(`Invalid field '${path}' in query for entity '${entity}'`);
  return { type: 'int' };
}

function valueAt(row: Row, path: string): unknown {
  const [head, tail] = path.split('.');
  const value = row[head as string];
  if (tail === undefined) return value;
  return typeof value === 'object' && value !== null ? (value as Row)[tail] : undefined;
}

function matches(spec: FieldSpec, actual: unknown, wanted: string | number | boolean): boolean {
  if (actual === undefined || actual === null) return false;
  if (spec.type === 'bool') {
    const flag = wanted === true || wanted === 1 || wanted === '1' || wanted === 'true';
    return actual === flag;
  }
  if (spec.type === 'string') return typeof actual === 'string' && actual.toLowerCase() === String(wanted).toLowerCase();
  return Number(actual) === Number(wanted);
}

/**
 * The index's words of a text value, as Lucene's standard tokenizer cuts them: lower case, split at
 * anything but letters, digits, dots and apostrophes between them (so at `@`, `-` and `+`).
 */
function tokens(text: string): string[] {
  return text.toLowerCase().split(/[^\p{L}\p{N}.']+/u).map((t) => t.replace(/^[.']+|[.']+$/g, '')).filter((t) => t !== '');
}

/** A Lucene phrase on an analysed text field: its words, in order and next to each other, anywhere in the value. */
function phraseMatches(actual: unknown, wanted: string): boolean {
  if (typeof actual !== 'string') return false;
  const have = tokens(actual);
  const want = tokens(wanted);
  if (want.length === 0) return false;
  for (let i = 0; i + want.length <= have.length; i++) if (want.every((t, j) => have[i + j] === t)) return true;
  return false;
}

/** Parses a Lucene query into a predicate over rows of `entity`. */
export function parseLucene(entity: string, raw: string | null): Predicate {
  if (raw === null || raw.trim() === '') throw new BadRequest("Missing required parameter 'query'");
  const tokens = lex(raw, /\s*(\(|\)|"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_.]*:|[^\s()"]+)/y, 'Lucene');
  let index = 0;
  const peek = () => tokens[index];
  const orExpr = (): Predicate => {
    let left = andExpr();
    while (peek() === 'OR') {
      index++;
      const right = andExpr();
      const l = left;
      left = (row) => l(row) || right(row);
    }
    return left;
  };
  const andExpr = (): Predicate => {
    let left = unary();
    while (peek() === 'AND') {
      index++;
      const right = unary();
      const l = left;
      left = (row) => l(row) && right(row);
    }
    return left;
  };
  const unary = (): Predicate => {
    const token = tokens[index++];
    if (token === 'NOT') {
      const inner = unary();
      return (row) => !inner(row);
    }
    if (token === '(') {
      const inner = orExpr();
      if (tokens[index++] !== ')') throw new BadRequest('Lucene query syntax error: unbalanced parentheses');
      return inner;
    }
    if (token === undefined || !token.endsWith(':')) throw new BadRequest(`Lucene query syntax error near '${(token ?? 'end').slice(0, 40)}'`);
    const path = token.slice(0, -1);
    const spec = resolvePath(entity, path);
    const value = tokens[index++];
    if (value === undefined || value === '(' || value === ')' || value.endsWith(':')) throw new BadRequest(`Lucene query syntax error: no value for '${path}'`);
    if (/[*?]/.test(value) && !value.startsWith('"')) throw new BadRequest('Wildcard queries are not supported by this emulator');
    const wanted = value.startsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
    if (value.startsWith('"') && spec.type === 'string') return (row) => phraseMatches(valueAt(row, path), wanted);
    return (row) => matches(spec, valueAt(row, path), wanted);
  };
  const predicate = orExpr();
  if (index !== tokens.length) throw new BadRequest(`Lucene query syntax error near '${String(tokens[index]).slice(0, 40)}'`);
  return predicate;
}

/** Parses a `where` clause (`path=value AND ...`) into a predicate over rows of `entity`. */
export function parseWhere(entity: string, raw: string | null): Predicate {
  if (raw === null || raw.trim() === '') throw new BadRequest("Missing required parameter 'where'");
  const tokens = lex(raw, /\s*('(?:[^']|'')*'|<>|=|[A-Za-z_][A-Za-z0-9_.]*|-?\d+)/y, 'where');
  const clauses: Predicate[] = [];
  let index = 0;
  for (;;) {
    const [path, op, value] = [tokens[index], tokens[index + 1], tokens[index + 2]];
    index += 3;
    if (path === undefined || !/^[A-Za-z_]/.test(path) || (op !== '=' && op !== '<>') || value === undefined) {
      throw new BadRequest('Malformed where clause');
    }
    const spec = resolvePath(entity, path);
    let wanted: string | number | boolean;
    if (value.startsWith("'")) wanted = value.slice(1, -1).replaceAll("''", "'");
    else if (/^-?\d+$/.test(value)) wanted = Number(value);
    else if (value === 'true' || value === 'false') wanted = value === 'true';
    else throw new BadRequest(`Malformed value in where clause: ${value.slice(0, 40)}`);
    const negate = op === '<>';
    clauses.push((row) => matches(spec, valueAt(row, path), wanted) !== negate);
    if (index === tokens.length) break;
    if (tokens[index] !== 'AND') throw new BadRequest(`Malformed where clause near '${String(tokens[index]).slice(0, 40)}'`);
    index++;
  }
  return (row) => clauses.every((clause) => clause(row));
}

/** `sort=` / `orderBy=`: comma-separated scalar fields, each optionally prefixed with `-`. */
export function parseOrder(entity: string, raw: string | null): (a: Row, b: Row) => number {
  if (raw === null || raw === '') return (a, b) => Number(a['id']) - Number(b['id']);
  const keys = raw.split(',').map((part) => {
    const descending = part.startsWith('-');
    const path = descending ? part.slice(1) : part;
    resolvePath(entity, path);
    return { path, sign: descending ? -1 : 1 };
  });
  return (a, b) => {
    for (const { path, sign } of keys) {
      const [x, y] = [valueAt(a, path), valueAt(b, path)];
      if (x === y) continue;
      if (x === undefined || x === null) return 1;
      if (y === undefined || y === null) return -1;
      return (x < y ? -1 : 1) * sign;
    }
    return Number(a['id']) - Number(b['id']);
  };
}

function lex(raw: string, pattern: RegExp, language: string): string[] {
  const tokens: string[] = [];
  pattern.lastIndex = 0;
  while (pattern.lastIndex < raw.length) {
    if (/^\s*$/.test(raw.slice(pattern.lastIndex))) break;
    const start = pattern.lastIndex;
    const match = pattern.exec(raw);
    if (match === null || match[1] === undefined) throw new BadRequest(`${language} query syntax error at position ${start}`);
    tokens.push(match[1]);
  }
  return tokens;
}
