import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { AgentControl } from '../ports/agent-control.ts';
import type { ContainerRuntime } from '../ports/container-runtime.ts';
import type { SecretStore } from '../ports/secret-store.ts';
import { explainedByExit } from './wait-for-agent-health.ts';

export interface IntroduceAgentDependencies {
  secrets: SecretStore;
  control: AgentControl;
  /** The Vault address as the client's agent reaches it (gateway of its network, or real Vault). */
  vaultAddressFor: (clientId: ClientId) => Promise<string>;
  readyTimeoutMs: number;
  /** Where the agent runs: a hand-over that fails because the agent exited says so (explainedByExit). */
  runtime: ContainerRuntime;
  /** Milliseconds, for the age of a prepared introduction; defaults to Date.now. */
  now?: () => number;
}

/** Hands a prepared introduction to the agent at `controlAddress` and waits until the agent is ready. */
export type HandOverIntroduction = (controlAddress: string) => Promise<void>;

/**
 * Mints the agent's introduction now, while its agent may still be starting, and returns the hand-over.
 * A wrap older than half its TTL at hand-over is replaced by a fresh one, so a slow start never hands over
 * a dying wrap (the unused token stays in the client's token ledger, and revokeAgentTokens revokes it).
 */
export async function prepareIntroduction(deps: IntroduceAgentDependencies, clientId: ClientId): Promise<HandOverIntroduction> {
  const now = deps.now ?? Date.now;
  const issue = async () => {
    const issuedAt = now();
    const [introduction, vaultAddr] = await Promise.all([deps.secrets.issueAgentIntroduction(clientId), deps.vaultAddressFor(clientId)]);
    return { introduction, vaultAddr, issuedAt };
  };
  const prepared = await issue();
  return async (controlAddress) => {
    const fresh = now() - prepared.issuedAt < (prepared.introduction.ttlSeconds * 1000) / 2 ? prepared : await issue();
    try {
      await deps.control.introduce(clientId, controlAddress, {
        wrappingToken: fresh.introduction.wrappingToken,
        vaultAddr: fresh.vaultAddr,
        creationPath: fresh.introduction.creationPath,
      });
      await deps.control.waitReady(clientId, controlAddress, deps.readyTimeoutMs);
    } catch (error) {
      // The agent answers /healthz before its runtime has loaded: one that failed to start after it shows up here.
      throw await explainedByExit(deps.runtime, clientId, error);
    }
  };
}

/**
 * Secure introduction: mint the agent's periodic token response-wrapped (single use, TTL ≤ 60 s), hand the
 * agent only the wrapping token, and wait until it has unwrapped it and read its secrets.
 */
export async function introduceAgent(deps: IntroduceAgentDependencies, clientId: ClientId, controlAddress: string): Promise<void> {
  const handOver = await prepareIntroduction(deps, clientId);
  await handOver(controlAddress);
}
