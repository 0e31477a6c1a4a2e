import type { ClientId } from '@agent-fleet/kernel/client-id';
import { newAgentConfigKey } from '@agent-fleet/kernel/sealed-agent-config';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { AgentCertificateIssuer, AgentTlsVault } from '../../ports/agent-tls.ts';
import type { Clock } from '../../ports/clock.ts';

/**
 * How long the handover of a starting Docker agent's bundle stays redeemable, seconds. The agent redeems it
 * within its first second; the margin is for a slow engine on a busy host.
 */
export const TLS_HANDOVER_TTL_SECONDS = 120;

export interface AgentTlsDependencies {
  issuer: AgentCertificateIssuer;
  vault: AgentTlsVault;
  /**
   * The wall clock: peers check a certificate's validity against their own real time, so a test's
   * shifted clock of the orchestrator must not date certificates.
   */
  clock: Clock;
  logger: Logger;
}

/**
 * The agents' TLS identities: a certificate from the fleet CA naming the client, issued at every start
 * (provision, restart, revive, restore, reader) and at every credential rotation, kept in the client's
 * Vault path, from where the agent reads it (after its introduction, or unwrapping a handover at start).
 */
export class AgentTlsService {
  private readonly deps: AgentTlsDependencies;

  constructor(deps: AgentTlsDependencies) {
    this.deps = deps;
  }

  /** Issues a new certificate and key for the client's agent and stores them where it reads them. */
  async renew(clientId: ClientId, configKey?: string): Promise<{ notAfter: Date }> {
    const issued = await this.deps.issuer.issueAgentCertificate(clientId, this.deps.clock.now());
    await this.deps.vault.store(clientId, configKey === undefined ? issued : { ...issued, configKey });
    this.deps.logger.info('agent certificate issued', { client: clientId, notAfter: issued.notAfter.toISOString() });
    return { notAfter: issued.notAfter };
  }

  /**
   * A fresh certificate, handed over single-use: the wrapping token of one read of it (never the key
   * itself), for the starting agent to unwrap before it serves anything. The read also carries a fresh key
   * for the agent's config, which the caller seals the config under.
   */
  async handover(clientId: ClientId): Promise<{ wrappingToken: string; configKey: string }> {
    const configKey = newAgentConfigKey();
    await this.renew(clientId, configKey);
    return { wrappingToken: (await this.deps.vault.wrapRead(clientId, TLS_HANDOVER_TTL_SECONDS)).wrappingToken, configKey };
  }
}
