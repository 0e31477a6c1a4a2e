import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { CalendarProvider } from '../../ports/calendar-provider.ts';
import type { CrmProvider } from '../../ports/crm-provider.ts';
import type { LlmClient } from '../../ports/llm-client.ts';
import type { MailProvider } from '../../ports/mail-provider.ts';
import type { SecretSource } from '../../ports/secret-source.ts';

/** The client's CRM as built from its own secret: the provider, and how to build it again from a newer secret. */
export interface CrmConnector {
  /** Which CRM, as the audit log names it: `bullhorn`. */
  name: string;
  provider: CrmProvider;
  /** The secret it was built from (re-read while CRM work is paused: a reconnect replaces it). */
  secret: string;
  /** A provider built from a newer value of that secret. Throws FleetError `invalid_input` on a malformed one. */
  rebuild(raw: string): CrmProvider;
}

/** The client's mailbox, calendar, CRM and model, built from its secrets. */
export interface Connectors {
  providerKind: 'gmail' | 'outlook';
  provider: MailProvider;
  llm: LlmClient;
  /**
   * The mailbox owner's calendar, on the same account and OAuth grant as the mailbox; null unless
   * `calendar.read` or `calendar.write` is granted. Creating events is outbound: gate it.
   */
  calendar: CalendarProvider | null;
  /**
   * The client's CRM; null unless `crm.read` or `crm.write` is granted and its secret is stored (a
   * missing or malformed CRM secret leaves CRM work off and never holds up mail).
   */
  crm: CrmConnector | null;
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

/**
 * Builds the agent's SecretSource from an introduction: the orchestrator's single-use wrapped token, or
 * (Kubernetes with Vault Agent) the token file Vault Agent keeps current.
 */
export type SecretSourceFactory = (
  input: { vaultAddr: string; wrappedKeyFile: string } & ({ wrappingToken: string } | { tokenFile: string }),
) => SecretSource;
