import type { ClientConfig } from '../../domain/client-config.ts';
import type { Logger } from '../../observability/logger.ts';
import type { LlmClient } from '../../ports/llm-client.ts';
import type { MailProvider } from '../../ports/mail-provider.ts';
import type { SecretSource } from '../../ports/secret-source.ts';

/** The client's mailbox and model, built from its secrets. */
export interface Connectors {
  providerKind: 'gmail' | 'outlook';
  provider: MailProvider;
  llm: LlmClient;
}

/** Why the agent is idle: the secrets it would need are not stored yet. */
export interface NotConnected {
  missing: string[];
}

/**
 * Builds the connectors from the client's secrets (read from Vault into memory). Rotated OAuth refresh
 * tokens go back through `secrets.writeSecret`, never to disk. Lives in the composition root, the only
 * place that may import the SDK adapters.
 */
export type ConnectorFactory = (input: {
  config: ClientConfig;
  secrets: ReadonlyMap<string, string>;
  source: SecretSource;
  logger: Logger;
}) => Promise<Connectors | NotConnected>;

/** Builds the agent's SecretSource from an introduction. */
export type SecretSourceFactory = (input: { vaultAddr: string; wrappingToken: string; wrappedKeyFile: string }) => SecretSource;
