/**
 * A parser of `Authentication-Results` header values (RFC 8601), tolerant of the two real dialects the
 * agent meets:
 *   Google:    `mx.google.com; dkim=pass header.i=@example.com header.s=s1; spf=pass (google.com: …)
 *               smtp.mailfrom=bounce@example.com; dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com`
 *   Microsoft: `spf=pass (sender IP is 40.107.22.54) smtp.mailfrom=example.com; dkim=pass (signature was
 *               verified) header.d=example.com;dmarc=pass action=none header.from=example.com;compauth=pass reason=100`
 * Exchange Online writes no authserv-id (its header starts with a result) and, in older mail, bare
 * domains as extra ";"-separated items (`smtp.mailfrom=a.example; receiving.example; dkim=…`); those
 * items carry no result and are skipped. Comments are kept per result (DMARC's policy lives in one).
 * Pure; never throws. Everything it returns is still untrusted until the header is known to be the
 * receiving provider's own (see sender-verdict.ts).
 */

export type AuthResult = {
  /** Method name, lower-case: spf, dkim, dmarc, compauth, arc, … */
  method: string;
  /** Result keyword, lower-case: pass, fail, softfail, none, neutral, temperror, permerror, bestguesspass, … */
  result: string;
  /** `reason=` value, when given. */
  reason: string | null;
  /** Properties by lower-case name (`smtp.mailfrom`, `header.d`, `header.i`, `header.from`, `action`, …). */
  properties: Record<string, string>;
  /** Text of the comments written with this result, e.g. `p=REJECT sp=REJECT dis=NONE`. */
  comments: string[];
};

export type AuthenticationResults = {
  /** Who wrote the header (`mx.google.com`); null in Microsoft's form, which has none. */
  authservId: string | null;
  results: AuthResult[];
};

/** Longer values are not real provider headers; refusing them bounds the work on hostile input. */
const MAX_VALUE_LENGTH = 16_384;
const MAX_RESULTS = 64;

/** `glued`: no white space or comment before it (values such as `header.b=ab/c+d=` span several tokens). */
type Token = { kind: 'word' | 'quoted' | 'equals' | 'semicolon' | 'comment'; text: string; glued: boolean };

/** Splits a header value into tokens; comments (nested, with quoted pairs) become one token each. */
function tokenize(value: string): Token[] | null {
  const tokens: Token[] = [];
  let index = 0;
  let glued = false;
  const push = (kind: Token['kind'], text: string) => {
    tokens.push({ kind, text, glued });
    glued = kind !== 'comment';
  };
  while (index < value.length) {
    const char = value[index] ?? '';
    if (/\s/.test(char)) {
      glued = false;
      index++;
    } else if (char === '(') {
      let depth = 1;
      let text = '';
      index++;
      while (index < value.length && depth > 0) {
        const c = value[index] ?? '';
        if (c === '\\') {
          text += value[index + 1] ?? '';
          index += 2;
          continue;
        }
        if (c === '(') depth++;
        else if (c === ')') depth--;
        if (depth > 0) text += c;
        index++;
      }
      if (depth !== 0) return null; // unclosed comment
      push('comment', text.replace(/\s+/g, ' ').trim());
    } else if (char === '"') {
      let text = '';
      index++;
      for (; index < value.length && value[index] !== '"'; index++) {
        if (value[index] === '\\') index++;
        text += value[index] ?? '';
      }
      if (index >= value.length) return null; // unclosed quoted string
      index++;
      push('quoted', text);
    } else if (char === ')') {
      return null; // a comment closed that was never opened
    } else if (char === '=' || char === ';') {
      push(char === '=' ? 'equals' : 'semicolon', char);
      index++;
    } else {
      let text = '';
      while (index < value.length && !/[\s()"=;]/.test(value[index] ?? '')) text += value[index++];
      push('word', text);
    }
  }
  return tokens;
}

/** The tokens between semicolons, comments left in place. */
function segments(tokens: Token[]): Token[][] {
  const out: Token[][] = [[]];
  for (const token of tokens) {
    if (token.kind === 'semicolon') out.push([]);
    else out[out.length - 1]?.push(token);
  }
  return out;
}

const isWord = (token: Token | undefined): token is Token & { kind: 'word' } => token?.kind === 'word';

/** One `method[/version]=result [reason=…] [ptype.property=value …]` item; null when it is not one. */
function parseResult(segment: Token[]): AuthResult | null {
  const comments = segment.filter((token) => token.kind === 'comment').map((token) => token.text);
  const parts = segment.filter((token) => token.kind !== 'comment');
  const methodSpec = parts[0];
  if (!isWord(methodSpec)) return null;
  const method = /^([a-z0-9][a-z0-9_.-]*)(?:\/\d+)?$/i.exec(methodSpec.text)?.[1];
  if (method === undefined || parts[1]?.kind !== 'equals') return null;
  const result = parts[2];
  if (!isWord(result) || !/^[a-z0-9_-]+$/i.test(result.text)) return null;
  const properties: Record<string, string> = {};
  let reason: string | null = null;
  let index = 3;
  while (index < parts.length) {
    const key = parts[index];
    if (!isWord(key) || parts[index + 1]?.kind !== 'equals') return null;
    index += 2;
    // A value is the tokens glued together after "=" (base64 such as `header.b=ab/c+d=` holds "=");
    // Microsoft writes empty values (`header.from=`).
    let text = '';
    const first = parts[index];
    if (first !== undefined && (first.kind === 'word' || first.kind === 'quoted') && (first.glued || parts[index + 1]?.kind !== 'equals')) {
      text = first.text;
      index++;
      while (parts[index]?.glued === true && (parts[index]?.kind === 'word' || parts[index]?.kind === 'equals')) text += parts[index++]?.text ?? '';
    }
    const name = key.text.toLowerCase();
    if (name === 'reason') reason = text;
    else if (!(name in properties)) properties[name] = text;
  }
  return { method: method.toLowerCase(), result: result.text.toLowerCase(), reason, properties, comments };
}

/** Parses one header value; null when it is empty, oversized or not an Authentication-Results value. */
export function parseAuthenticationResults(value: string): AuthenticationResults | null {
  if (value.length === 0 || value.length > MAX_VALUE_LENGTH) return null;
  const tokens = tokenize(value.replace(/\r?\n[ \t]+/g, ' '));
  if (tokens === null) return null;
  const [first = [], ...rest] = segments(tokens);
  let authservId: string | null = null;
  const items = [...rest];
  const head = first.filter((token) => token.kind !== 'comment');
  if (head.some((token) => token.kind === 'equals')) {
    items.unshift(first); // Microsoft: the first item is already a result
  } else {
    const id = head[0];
    if (id === undefined || (id.kind !== 'word' && id.kind !== 'quoted') || id.text === '') return null;
    // An optional version may follow the id; only version 1 exists.
    if (head.length > 2 || (head[1] !== undefined && !(isWord(head[1]) && head[1].text === '1'))) return null;
    authservId = id.text.toLowerCase();
  }
  const results: AuthResult[] = [];
  for (const item of items) {
    const words = item.filter((token) => token.kind !== 'comment');
    if (words.length === 0) continue;
    // `none` (no result) and Microsoft's bare domains carry no verdict.
    if (words.length === 1 && isWord(words[0])) continue;
    const parsed = parseResult(item);
    if (parsed !== null) results.push(parsed);
    if (results.length > MAX_RESULTS) return null;
  }
  if (authservId === null && results.length === 0) return null;
  return { authservId, results };
}
