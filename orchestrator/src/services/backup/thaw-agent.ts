import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { AgentVolumes } from '../../ports/container-runtime.ts';

/** How often a backup tries to thaw the agent it froze, and how long it waits between tries by default, in ms. */
export const THAW_ATTEMPTS = 3;
export const DEFAULT_THAW_RETRY_DELAY_MS = 1_000;

/** Thawed, or still paused after every try (with the last try's error). */
export type ThawOutcome = { thawed: true } | { thawed: false; error: unknown };

/**
 * Thaws an agent a backup froze, trying again after a failure: an engine that hiccuped once would otherwise
 * leave the agent paused until the next backup or orchestrator start. The caller reports a failure.
 */
export async function thawAgentRetrying(volumes: Pick<AgentVolumes, 'thawAgent'>, clientId: ClientId, retryDelayMs = DEFAULT_THAW_RETRY_DELAY_MS): Promise<ThawOutcome> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= THAW_ATTEMPTS; attempt++) {
    try {
      await volumes.thawAgent(clientId);
      return { thawed: true };
    } catch (error) {
      lastError = error;
      if (attempt < THAW_ATTEMPTS && retryDelayMs > 0) await sleep(retryDelayMs);
    }
  }
  return { thawed: false, error: lastError };
}
