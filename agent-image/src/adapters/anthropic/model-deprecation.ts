import { modelRetirement } from '@agent-fleet/kernel/client-config';
import type { Logger } from '@agent-fleet/kernel/logger';

// Once per model per process: every adapter (one per mailbox connection, made again at each reconnect)
// shares it. Bounded by the retirement table.
const warned = new Set<string>();

/**
 * Logs, once per model per process, that `model` is deprecated (a retirement the kernel's table, kept equal
 * to the installed SDK's, knows of); nothing for any other model. The SDK would print this with
 * console.warn on every request, past the structured logger: its requests are sent without that check.
 */
export function warnIfDeprecated(logger: Logger, model: string): void {
  const retires = modelRetirement(model);
  if (retires === null || warned.has(model)) return;
  warned.add(model);
  logger.warn('the configured model is deprecated; move the client to a newer model', { model, endOfLife: retires.toISOString().slice(0, 10) });
}
