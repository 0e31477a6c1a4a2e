import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { providerScopesFor } from '@agent-fleet/kernel/provider-scopes';
import type { OpsLogEntry, Registry } from '../../ports/registry.ts';
import { compareScopes } from '../connect-mailbox.ts';

/** The ops-log action that records the scopes a `fleet connect` consent granted. */
export const MAILBOX_CONSENT_ACTION = 'mailbox-consent';
/** The ops-log action of a client admin asking for a narrower grant at the next consent. */
export const NARROW_REQUEST_ACTION = 'grant-narrow-requested';

/** Every ops-log action `grantStatusOf` reads (its caller asks the registry for these only). */
export const GRANT_STATUS_ACTIONS = [MAILBOX_CONSENT_ACTION, 'secret-write', NARROW_REQUEST_ACTION] as const;

/**
 * How the stored OAuth grant compares with what the settings need: `ok`; `needs_reconsent` (a capability
 * was enabled whose scope the grant lacks: the consent must run again); `narrowable` (the grant holds
 * scopes no capability needs any more: the next consent asks for fewer); `unknown` (no consent recorded,
 * or the provider secret was replaced outside `fleet connect`).
 */
export interface GrantStatus {
  provider: 'gmail' | 'outlook';
  state: 'ok' | 'needs_reconsent' | 'narrowable' | 'unknown';
  required: string[];
  granted: string[] | null;
  missing: string[];
  extra: string[];
  /** When the grant was recorded, and whether an admin asked to narrow it at the next consent. */
  consentedAt: string | null;
  narrowRequested: boolean;
  /** What ops run to ask the mailbox owner's consent again. */
  command: string;
}

/** Pure: the grant status of `config` given the client's ops-log entries (oldest first). */
export function grantStatusOf(clientId: string, config: Pick<ClientConfig, 'provider' | 'permissions'>, entries: readonly OpsLogEntry[]): GrantStatus {
  const provider = config.provider;
  const required = providerScopesFor(provider, config.permissions);
  const consent = [...entries].reverse().find((entry) => entry.action === MAILBOX_CONSENT_ACTION && entry.details['provider'] === provider && entry.outcome === 'success');
  const replaced = entries.some(
    (entry) =>
      entry.action === 'secret-write' &&
      entry.details['name'] === provider &&
      entry.seq > (consent?.seq ?? 0) &&
      entry.details['version'] !== consent?.details['secretVersion'],
  );
  const scopes = consent?.details['scopes'];
  const granted = consent !== undefined && !replaced && Array.isArray(scopes) ? scopes.filter((scope): scope is string => typeof scope === 'string') : null;
  const { missing, extra } = granted === null ? { missing: [], extra: [] } : compareScopes(required, granted);
  const meaningfulExtra = extra.filter((scope) => scope !== 'offline_access');
  const state = granted === null ? 'unknown' : missing.length > 0 ? 'needs_reconsent' : meaningfulExtra.length > 0 ? 'narrowable' : 'ok';
  const narrowRequested = entries.some((entry) => entry.action === NARROW_REQUEST_ACTION && entry.seq > (consent?.seq ?? 0));
  return {
    provider,
    state,
    required,
    granted,
    missing,
    extra: meaningfulExtra,
    consentedAt: granted === null ? null : (consent?.at ?? null),
    narrowRequested,
    command: `fleet connect ${clientId} --provider ${provider} --oauth-client-id <the agency's OAuth client id>`,
  };
}

/** Records what a consent granted (called by `fleet connect` once the tokens are stored). */
export async function recordMailboxConsent(
  registry: Pick<Registry, 'appendOpsLog'>,
  input: { clientId: ClientId; provider: 'gmail' | 'outlook'; scopes: readonly string[]; secretVersion: number; actor: string },
): Promise<void> {
  if (input.scopes.length > 50 || input.scopes.some((scope) => !/^[\x21-\x7e]{1,300}$/.test(scope))) {
    throw new FleetError('invalid_input', 'scopes: at most 50 printable scope names');
  }
  await registry.appendOpsLog({
    actor: input.actor,
    action: MAILBOX_CONSENT_ACTION,
    clientId: input.clientId,
    reason: null,
    outcome: 'success',
    details: { provider: input.provider, scopes: [...input.scopes], secretVersion: input.secretVersion },
  });
}
