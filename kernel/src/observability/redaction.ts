/**
 * What a log line may hold. Values under secret or content keys are dropped; credentials, signed links
 * and the local part of email addresses are masked inside any string; errors keep only their name, code,
 * status and (masked, bounded) message along their cause chain; bytes are never written out.
 */

export const REDACTED = '[redacted]';

const MAX_DEPTH = 8;
const MAX_ERROR_MESSAGE = 2_000;
const MAX_LISTED_ERRORS = 10;

/** Keys whose values never reach a log: credentials, key material, and message content. */
const SECRET_KEY_PATTERNS: readonly RegExp[] = [
  /token|secret|passw|passphrase|authorization|api[-_]?key|cookie|credential|private[-_]?key|refresh|wrap|passkey|signature|assertion|client[-_]?state/i,
  /(data|master|encryption|signing|hmac|csrf|seal|unseal|root|access|session|config)[-_]?key/i,
  /^(t?otp|pin|jwt|code[-_]?verifier|recovery[-_]?codes?)$/i,
  // Message content is client data: bodies, subjects and previews stay out of logs.
  /body|html|content|raw|subject|snippet/i,
];

export function isSecretKey(key: string): boolean {
  return SECRET_KEY_PATTERNS.some((pattern) => pattern.test(key));
}

/** base64url runs at least this long that mix cases and digits are random tokens when they make up a path segment. */
const PATH_TOKEN_LENGTH = 32;

type Replacer = (substring: string, ...groups: string[]) => string;

/**
 * Pattern and replacement, applied in order: structured forms first, bare token shapes after. Every
 * repetition that can start anywhere is bounded, so masking a long string stays linear in its length.
 */
const VALUE_RULES: readonly (readonly [RegExp, string | Replacer])[] = [
  [/-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED],
  // `"refresh_token":"…"` inside text (an error echoing a JSON body), plain or escaped once.
  [
    /"([^"\\]{1,64})"(\s*:\s*)"((?:[^"\\]|\\.)*)"/g,
    (whole, key = '', colon = '') => (isSecretKey(key) ? `"${key}"${colon}"${REDACTED}"` : whole),
  ],
  [
    /\\"([^"\\]{1,64})\\"(\s*:\s*)\\"((?:[^"\\]|\\[^"])*)\\"/g,
    (whole, key = '', colon = '') => (isSecretKey(key) ? `\\"${key}\\"${colon}\\"${REDACTED}\\"` : whole),
  ],
  // Query strings and form bodies: `?access_token=…`, `refresh_token=…&client_secret=…`, `?code=…`.
  // Credential names count wherever they start a word; `code`, `key` and `sig` only as URL parameters.
  [
    /(^|[^A-Za-z0-9_.-])([A-Za-z0-9_-]{0,40}(?:token|secret|password|passwd|assertion|api[-_]?key))=([^&\s#"'<>,;]+)/gim,
    (_whole, lead = '', name = '') => `${lead}${name}=${REDACTED}`,
  ],
  [
    /([?&])(code|key|sig|signature)=([^&\s#"'<>]+)/gi,
    (_whole, lead = '', name = '') => `${lead}${name}=${REDACTED}`,
  ],
  // Credentials in a URL's user info: `postgres://user:password@host`.
  [
    /\b([a-z][a-z0-9+.-]{0,31}:\/\/[^/\s:@]{1,256}):[^/\s@]{1,256}@/gi,
    (_whole, prefix = '') => `${prefix}:${REDACTED}@`,
  ],
  // Header lines in text.
  [
    /\b(x-[a-z-]{0,40}token|x-api-key|bhresttoken|set-cookie|cookie)(\s*:\s*)[^\s,;]+/gi,
    (_whole, name = '', colon = '') => `${name}${colon}${REDACTED}`,
  ],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi, REDACTED],
  [/\bBasic\s+(?=[A-Za-z0-9+/]*[0-9+/])[A-Za-z0-9+/]{8,}={0,2}/g, REDACTED],
  // JWTs (Microsoft access and id tokens) and other signed `<base64url JSON>.<signature>` links.
  [/\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}(?:\.[A-Za-z0-9_-]*)?/g, REDACTED],
  [/\b(hvs|hvb|hvr|s|b)\.[A-Za-z0-9_-]{20,}/g, REDACTED], // Vault tokens
  [/\bsk-ant-[A-Za-z0-9_-]{10,}/g, REDACTED],
  [/\bya29\.[A-Za-z0-9_-]{10,}/g, REDACTED], // Google access tokens
  [/\b1(\/\/|%2F%2F)0[A-Za-z0-9_-]{20,}/gi, REDACTED], // Google refresh tokens, also URL-encoded
  [/\bGOCSPX-[A-Za-z0-9_-]{10,}/g, REDACTED], // Google OAuth client secrets
  // A random token as a path segment (`/enrol/<token>`): long, and mixing lower case, upper case and digits.
  [
    new RegExp(`/([A-Za-z0-9_-]{${PATH_TOKEN_LENGTH},})(?=$|[/?#\\s"'])`, 'g'),
    (whole, segment = '') =>
      /[a-z]/.test(segment) && /[A-Z]/.test(segment) && /[0-9]/.test(segment) ? `/${REDACTED}` : whole,
  ],
  // Correspondents' addresses are client data: the domain stays for diagnosis, the mailbox goes. The local
  // part is bounded (RFC 5321: 64) so a long run of letters costs linear time, not quadratic.
  [
    /[A-Za-z0-9!#$'*+^_`{|}~.-]{1,64}(@|%40)((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})\b/gi,
    (_whole, at = '', domain = '') => `${REDACTED}${at}${domain}`,
  ],
];

/** A string with every credential shape and address local part in it masked. */
export function redactText(value: string): string {
  let text = value;
  for (const [pattern, replacement] of VALUE_RULES) {
    text =
      typeof replacement === 'string'
        ? text.replace(pattern, replacement)
        : text.replace(pattern, replacement as (substring: string, ...args: unknown[]) => string);
  }
  return text;
}

/**
 * An error message masked and cut to `MAX_ERROR_MESSAGE`. Only a margin past the cut is masked (an echoed
 * page can be megabytes); a token straddling the cut is whole in that margin, so no unmasked part remains.
 */
function boundedMessage(message: string): string {
  if (message.length <= MAX_ERROR_MESSAGE) return redactText(message);
  const masked = redactText(message.slice(0, MAX_ERROR_MESSAGE * 2));
  return `${masked.slice(0, MAX_ERROR_MESSAGE)}… (${message.length - MAX_ERROR_MESSAGE} more characters)`;
}

/** Drops values under secret-looking keys and masks token-shaped strings anywhere, recursively. */
export function redact(value: unknown): unknown {
  return redactValue(value, 0, new WeakSet());
}

function redactValue(value: unknown, depth: number, ancestors: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return REDACTED;
  if (ancestors.has(value)) return '[circular]';
  // Bytes are never written out: a Buffer would otherwise serialise as its (decodable) contents.
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer)
    return `[${value.byteLength} bytes]`;
  ancestors.add(value);
  try {
    if (value instanceof Error) return describeError(value, depth, ancestors);
    if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1, ancestors));
    if (value instanceof Map)
      return redactEntries(
        [...value.entries()].map(([key, inner]) => [String(key), inner] as const),
        depth,
        ancestors,
      );
    if (value instanceof Set) return [...value].map((item) => redactValue(item, depth + 1, ancestors));
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    // A Date or URL has no own fields: without this it would log as `{}`, and a URL's query would skip masking.
    if (typeof toJSON === 'function') return redactValue(serialised(value, toJSON), depth + 1, ancestors);
    return redactEntries(Object.entries(value), depth, ancestors);
  } finally {
    ancestors.delete(value);
  }
}

function serialised(value: object, toJSON: unknown): unknown {
  try {
    return (toJSON as () => unknown).call(value);
  } catch {
    return '[unserialisable]';
  }
}

function redactEntries(
  entries: readonly (readonly [string, unknown])[],
  depth: number,
  ancestors: WeakSet<object>,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, inner] of entries) {
    result[key] = isSecretKey(key) ? REDACTED : redactValue(inner, depth + 1, ancestors);
  }
  return result;
}

/**
 * An error as a log field: name, code, HTTP status and message, and the same for its causes. Other fields
 * are left out on purpose: SDK errors carry the request (headers with tokens, form bodies with refresh
 * tokens) and the response (message content) there.
 */
function describeError(error: Error, depth: number, ancestors: WeakSet<object>): Record<string, unknown> {
  const described: Record<string, unknown> = {
    name: error.name,
    message: boundedMessage(String(error.message)),
  };
  const { code, status, statusCode } = error as { code?: unknown; status?: unknown; statusCode?: unknown };
  if (typeof code === 'string' || typeof code === 'number')
    described['code'] = typeof code === 'string' ? redactText(code) : code;
  const httpStatus =
    typeof status === 'number' ? status : typeof statusCode === 'number' ? statusCode : undefined;
  if (httpStatus !== undefined) described['status'] = httpStatus;
  if (error instanceof AggregateError && Array.isArray(error.errors)) {
    described['errors'] = error.errors
      .slice(0, MAX_LISTED_ERRORS)
      .map((inner: unknown) => redactValue(inner, depth + 1, ancestors));
  }
  if (error.cause !== undefined && error.cause !== null)
    described['cause'] = redactValue(error.cause, depth + 1, ancestors);
  return described;
}
