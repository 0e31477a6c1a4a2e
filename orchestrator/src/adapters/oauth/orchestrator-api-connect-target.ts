import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { MailboxConnectTarget, MailboxProvider } from '../../ports/oauth-consent.ts';

/** The part of the orchestrator's API client this target uses (OrchestratorClient in the CLI). */
export interface OrchestratorApi {
  request<T>(method: 'GET' | 'PUT', urlPath: string, body?: unknown): Promise<T>;
}

/**
 * The orchestrator service's API as the consent flow's target: scopes from the registered config, and
 * the tokens stored through the same audited route as `fleet secrets set`.
 */
export class OrchestratorApiConnectTarget implements MailboxConnectTarget {
  readonly #api: OrchestratorApi;
  readonly #actor: string;

  constructor(options: { api: OrchestratorApi; actor: string }) {
    this.#api = options.api;
    this.#actor = options.actor;
  }

  async consentScopes(clientId: ClientId, provider: MailboxProvider): Promise<string[]> {
    const plan = await this.#api.request<{ scopes: string[] }>(
      'GET',
      `/v1/clients/${clientId}/mailbox-consent?provider=${encodeURIComponent(provider)}`,
    );
    return plan.scopes;
  }

  async storeSecret(clientId: ClientId, name: MailboxProvider, value: string): Promise<{ version: number }> {
    const result = await this.#api.request<{ version: number }>('PUT', `/v1/clients/${clientId}/secrets/${name}`, {
      value,
      actor: this.#actor,
    });
    return { version: result.version };
  }
}
