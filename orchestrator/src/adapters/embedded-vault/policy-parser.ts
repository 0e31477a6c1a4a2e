import { badRequest } from './vault-http-error.ts';

export const CAPABILITIES = ['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo', 'deny'] as const;
export type Capability = (typeof CAPABILITIES)[number];

export interface PathRule {
  pattern: string;
  capabilities: Capability[];
}

type Token = { kind: 'string' | 'ident' | 'punct'; value: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] ?? '';
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '#' || (ch === '/' && text[i + 1] === '/')) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (ch === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw badRequest('failed to parse policy: unterminated comment');
      i = end + 2;
    } else if (ch === '"') {
      let value = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i++;
        if (text[i] === '\n' || i >= text.length) break;
        value += text[i];
        i++;
      }
      if (text[i] !== '"') throw badRequest('failed to parse policy: unterminated string');
      i++;
      tokens.push({ kind: 'string', value });
    } else if ('{}[]=,'.includes(ch)) {
      tokens.push({ kind: 'punct', value: ch });
      i++;
    } else if (/[A-Za-z_]/.test(ch)) {
      let value = '';
      while (i < text.length && /[A-Za-z0-9_-]/.test(text[i] ?? '')) value += text[i++];
      tokens.push({ kind: 'ident', value });
    } else {
      throw badRequest(`failed to parse policy: unexpected character ${JSON.stringify(ch)}`);
    }
  }
  return tokens;
}

function checkPattern(pattern: string): void {
  const star = pattern.indexOf('*');
  if (star >= 0 && star !== pattern.length - 1) {
    throw badRequest(
      `failed to parse policy: path ${JSON.stringify(pattern)}: "*" is only allowed at the end`,
    );
  }
  for (const segment of pattern.split('/')) {
    if (segment.includes('+') && segment !== '+') {
      throw badRequest(
        `failed to parse policy: path ${JSON.stringify(pattern)}: "+" must be a whole segment`,
      );
    }
  }
}

function checkCapabilities(pattern: string, raw: unknown): Capability[] {
  if (!Array.isArray(raw))
    throw badRequest(`failed to parse policy: path ${JSON.stringify(pattern)}: capabilities must be a list`);
  return raw.map((value) => {
    const capability = typeof value === 'string' ? value.toLowerCase() : '';
    if (!(CAPABILITIES as readonly string[]).includes(capability)) {
      throw badRequest(`failed to parse policy: invalid capability ${JSON.stringify(value)}`);
    }
    return capability as Capability;
  });
}

function parseHcl(text: string): PathRule[] {
  const tokens = tokenize(text);
  const rules: PathRule[] = [];
  let i = 0;
  const expect = (kind: Token['kind'], value?: string): Token => {
    const token = tokens[i++];
    if (!token || token.kind !== kind || (value !== undefined && token.value !== value)) {
      throw badRequest(
        `failed to parse policy: expected ${value ?? kind} but found ${token ? JSON.stringify(token.value) : 'end of input'}`,
      );
    }
    return token;
  };
  while (i < tokens.length) {
    expect('ident', 'path');
    const pattern = expect('string').value;
    expect('punct', '{');
    let capabilities: Capability[] | undefined;
    while (tokens[i]?.value !== '}') {
      const name = expect('ident').value;
      expect('punct', '=');
      // Restrictions we do not enforce (allowed_parameters, min_wrapping_ttl, ...) are refused rather
      // than ignored: silently dropping a restriction would grant more than the author meant.
      if (name !== 'capabilities')
        throw badRequest(`failed to parse policy: unsupported attribute ${JSON.stringify(name)}`);
      expect('punct', '[');
      const values: string[] = [];
      while (tokens[i]?.value !== ']') {
        values.push(expect('string').value);
        if (tokens[i]?.value === ',') i++;
      }
      expect('punct', ']');
      capabilities = checkCapabilities(pattern, values);
    }
    expect('punct', '}');
    if (!capabilities)
      throw badRequest(`failed to parse policy: path ${JSON.stringify(pattern)} has no capabilities`);
    checkPattern(pattern);
    rules.push({ pattern, capabilities });
  }
  return rules;
}

function parseJson(text: string): PathRule[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw badRequest(`failed to parse policy: ${(error as Error).message}`);
  }
  const paths = (parsed as { path?: unknown } | null)?.path;
  if (paths === null || typeof paths !== 'object' || Array.isArray(paths))
    throw badRequest('failed to parse policy: missing "path" object');
  return Object.entries(paths as Record<string, unknown>).map(([pattern, body]) => {
    const keys = Object.keys((body ?? {}) as object);
    const unsupported = keys.find((key) => key !== 'capabilities');
    if (unsupported)
      throw badRequest(`failed to parse policy: unsupported attribute ${JSON.stringify(unsupported)}`);
    checkPattern(pattern);
    return {
      pattern,
      capabilities: checkCapabilities(pattern, (body as { capabilities?: unknown }).capabilities),
    };
  });
}

/** Parses a Vault ACL policy (the HCL subset `path "..." { capabilities = [...] }`, or its JSON form). */
export function parsePolicy(text: string): PathRule[] {
  return text.trimStart().startsWith('{') ? parseJson(text) : parseHcl(text);
}
