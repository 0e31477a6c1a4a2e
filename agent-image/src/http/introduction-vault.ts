import { FleetError } from '@agent-fleet/kernel/fleet-error';

function normalised(address: string): string {
  return new URL(address).href.replace(/\/+$/, '');
}

/**
 * The Vault address an open introduction may name. The route takes it without a credential, from a
 * network the agent treats as hostile: with a configured Vault (VAULT_ADDR), an introduction naming another
 * would send the agent's Vault traffic, and the secrets and data key it trusts, to whoever answers there.
 * So it must name the configured Vault (the orchestrator sends that one) and is then dropped; only an agent
 * without a configured Vault takes the address it is sent. Throws `forbidden` for another address.
 */
export function introductionVaultAddr(requested: string | undefined, configured: string | undefined): string | undefined {
  if (requested === undefined || configured === undefined) return requested;
  if (normalised(requested) !== normalised(configured)) {
    throw new FleetError('forbidden', 'the introduction names another Vault than the configured one');
  }
  return undefined;
}
