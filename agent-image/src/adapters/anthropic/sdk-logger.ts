import type { Logger as SdkLogger } from '@anthropic-ai/sdk/client';
import type { Logger } from '@agent-fleet/kernel/logger';

/**
 * The SDK's own log lines, routed to the structured logger at warn level (the SDK is given `logLevel: 'warn'`,
 * so its per-request info and debug lines, which carry request details, are never formed).
 */
export function sdkLogger(logger: Logger): SdkLogger {
  const warn = (message: string, ...rest: unknown[]) =>
    logger.warn(message, rest.length === 0 ? {} : { detail: rest });
  return { error: warn, warn, info: warn, debug: warn };
}
