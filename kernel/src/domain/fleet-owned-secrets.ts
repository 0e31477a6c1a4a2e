import { JOURNAL_ANCHOR_SECRET } from './journal-anchor.ts';

/** The hash of the agent's control token: the orchestrator writes it at introduction and rotation. */
export const CONTROL_SECRET = 'control';
/** The agent's record of its Gmail push watch (push-sync.ts): the agent reads it and writes it. */
export const PUSH_WATCH_SECRET = 'push';

/**
 * Secrets the fleet writes itself, by who writes them. `fleet secrets set` refuses them: an admin's value
 * would restore an old control token, let a rolled-back volume pass, or make the agent trust a watch that
 * does not exist and stop renewing it.
 */
export const FLEET_OWNED_SECRETS: ReadonlyMap<string, 'the orchestrator' | 'the agent'> = new Map([
  [CONTROL_SECRET, 'the orchestrator'],
  [JOURNAL_ANCHOR_SECRET, 'the agent'],
  [PUSH_WATCH_SECRET, 'the agent'],
]);
