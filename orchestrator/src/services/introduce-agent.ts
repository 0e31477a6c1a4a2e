import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { AgentControl } from '../ports/agent-control.ts';
import type { SecretStore } from '../ports/secret-store.ts';

export interface IntroduceAgentDependencies {
  secrets: SecretStore;
  control: AgentControl;
  /** The Vault address as the client's agent reaches it (gateway of its network, or real Vault). */
  vaultAddressFor: (clientId: ClientId) => Promise<string>;
  readyTimeoutMs: number;
}

/**
 * Secure introduction: mint the agent's periodic token response-wrapped (single use, TTL ≤ 60 s), hand the
 * agent only the wrapping token, and wait until it has unwrapped it and read its secrets.
 */
export async function introduceAgent(deps: IntroduceAgentDependencies, clientId: ClientId, controlAddress: string): Promise<void> {
  const introduction = await deps.secrets.issueAgentIntroduction(clientId);
  await deps.control.introduce(clientId, controlAddress, {
    wrappingToken: introduction.wrappingToken,
    vaultAddr: await deps.vaultAddressFor(clientId),
    creationPath: introduction.creationPath,
  });
  await deps.control.waitReady(clientId, controlAddress, deps.readyTimeoutMs);
}
