/**
 * When a running agent starts using a value newly stored under one of its secrets (`fleet secrets set`).
 * - `model-call`: the model key, read again before model calls and at once when the old key is refused.
 * - `token-refresh`: the mailbox's OAuth grant, read again at each token refresh and when the grant is refused,
 *   and used from there (Outlook).
 * - `token-refresh-checked`: as `token-refresh`, but the grant found is not used until the agent has
 *   connected again (the next round) and checked which account it opens (Gmail).
 * - `crm-refused`: the CRM grant, read again each round once the CRM refused the old one (CRM work paused).
 */
export type SecretPickUp = 'model-call' | 'token-refresh' | 'token-refresh-checked' | 'crm-refused';

/**
 * The secrets a running agent reads again from the store, and when (the agent's connectors,
 * connectors-from-secrets.ts, re-read exactly these; a test holds them to it). Any other secret is read
 * only when the agent next connects (a resume, or a restart).
 */
export const LIVE_SECRETS = {
  anthropic: 'model-call',
  gmail: 'token-refresh-checked',
  outlook: 'token-refresh',
  bullhorn: 'crm-refused',
} as const satisfies Readonly<Record<string, SecretPickUp>>;

export type LiveSecretName = keyof typeof LIVE_SECRETS;

/** How a running agent picks up a new value of secret `name`; null when only a reconnect reads it. */
export function secretPickUp(name: string): SecretPickUp | null {
  return Object.hasOwn(LIVE_SECRETS, name) ? LIVE_SECRETS[name as LiveSecretName] : null;
}
