import winston from 'winston';

/** The small logger interface every module takes through its constructor. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

const REDACTED = '[redacted]';
const SECRET_KEY_PATTERN =
  /(token|secret|password|passwd|authorization|api[-_]?key|apikey|cookie|credential|private[-_]?key|refresh|body|html|content|raw|wrap)/i;
const SECRET_VALUE_PATTERNS = [
  /\b(hvs|hvb|s|b)\.[A-Za-z0-9_-]{20,}/g, // Vault tokens
  /\bsk-ant-[A-Za-z0-9_-]{10,}/g,
  /\bya29\.[A-Za-z0-9_-]{10,}/g,
  /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi,
];

function redactString(value: string): string {
  return SECRET_VALUE_PATTERNS.reduce((text, pattern) => text.replace(pattern, REDACTED), value);
}

/** Drops values under secret-looking keys and masks token-shaped strings anywhere, recursively. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return REDACTED;
  if (typeof value === 'string') return redactString(value);
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value instanceof Error) return describeError(value, depth);
  if (value !== null && typeof value === 'object') {
    const result: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      result[key] = SECRET_KEY_PATTERN.test(key) ? REDACTED : redact(inner, depth + 1);
    }
    return result;
  }
  return value;
}

/** An error as a log field: its message and the chain of its causes, each redacted. */
function describeError(error: Error, depth: number): Record<string, unknown> {
  const described: Record<string, unknown> = { name: error.name, message: redactString(error.message) };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') described['code'] = code;
  if (error.cause !== undefined && error.cause !== null && depth < 8) {
    described['cause'] = error.cause instanceof Error ? describeError(error.cause, depth + 1) : redact(error.cause, depth + 1);
  }
  return described;
}

const redactionFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'timestamp') continue;
    const value = info[key];
    info[key] = key === 'message' ? redact(value) : SECRET_KEY_PATTERN.test(key) ? REDACTED : redact(value);
  }
  return info;
});

class WinstonLogger implements Logger {
  private readonly inner: winston.Logger;
  constructor(inner: winston.Logger) {
    this.inner = inner;
  }
  debug(message: string, fields?: Record<string, unknown>): void {
    this.inner.debug(message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.inner.info(message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.inner.warn(message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.inner.error(message, fields);
  }
  child(fields: Record<string, unknown>): Logger {
    return new WinstonLogger(this.inner.child(fields));
  }
}

export interface LoggerOptions {
  level?: string;
  service: string;
  /** Where JSON lines go; stdout by default, stderr for CLIs whose stdout is for people. */
  stream?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const transport = new winston.transports.Stream({ stream: options.stream ?? process.stdout });
  const inner = winston.createLogger({
    level: options.level ?? 'info',
    defaultMeta: { service: options.service },
    format: winston.format.combine(redactionFormat(), winston.format.timestamp(), winston.format.json()),
    transports: [transport],
  });
  return new WinstonLogger(inner);
}

/** A logger that writes nothing, for tests that do not look at logs. */
export function createSilentLogger(): Logger {
  const silent: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    child: () => silent,
  };
  return silent;
}
