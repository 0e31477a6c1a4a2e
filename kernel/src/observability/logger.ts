import winston from 'winston';
import { isSecretKey, REDACTED, redact } from './redaction.ts';

export { redact, redactText } from './redaction.ts';

/** The small logger interface every module takes through its constructor. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

const redactionFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'timestamp') continue;
    const value = info[key];
    info[key] = key === 'message' ? redact(value) : isSecretKey(key) ? REDACTED : redact(value);
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
