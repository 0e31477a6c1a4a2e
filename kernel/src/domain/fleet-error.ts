/**
 * The one error type that crosses module boundaries. `code` is stable (CLI exit codes and HTTP statuses
 * are derived from it), `retryable` tells callers whether trying again can help, `cause` keeps the chain.
 */
export type FleetErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'conflict'
  | 'busy'
  | 'unauthorized'
  | 'forbidden'
  | 'killed'
  | 'unavailable'
  | 'timeout'
  | 'integrity'
  | 'internal';

export class FleetError extends Error {
  readonly code: FleetErrorCode;
  readonly retryable: boolean;

  constructor(code: FleetErrorCode, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'FleetError';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

export function isFleetError(error: unknown): error is FleetError {
  return error instanceof FleetError;
}

/** Message chain of an error and its causes, for `--verbose` output and logs. */
export function describeCauseChain(error: unknown): string[] {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    lines.push(current instanceof Error ? `${current.name}: ${current.message}` : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines;
}
