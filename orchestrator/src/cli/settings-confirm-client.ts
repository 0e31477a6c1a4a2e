import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { GuardRailConfirmOutcome } from '../services/settings/guard-rail-confirmation.ts';
import type { CliContext } from './cli-context.ts';
import type { OrchestratorClient } from './orchestrator-client.ts';

export interface GuardRailConfirmRequest {
  rail: string;
  reason?: string | undefined;
}

/**
 * `POST /v1/clients/:id/settings/confirmations` as a typed call, beside SettingsApiClient's: the write
 * carries `actor` as its writes do (the API records the signed-in member either way).
 */
export class SettingsConfirmClient {
  readonly #transport: Pick<OrchestratorClient, 'request'>;
  readonly #actor: string;

  constructor(transport: Pick<OrchestratorClient, 'request'>, actor: string) {
    this.#transport = transport;
    this.#actor = actor;
  }

  confirm(clientId: ClientId, request: GuardRailConfirmRequest): Promise<GuardRailConfirmOutcome> {
    return this.#transport.request('POST', `/v1/clients/${clientId}/settings/confirmations`, {
      rail: request.rail,
      ...(request.reason === undefined ? {} : { reason: request.reason }),
      actor: this.#actor,
    });
  }
}

/** The confirm client as the signed-in member, over the running service (started by `context.api()` as for every command). */
export async function settingsConfirmClient(context: CliContext): Promise<SettingsConfirmClient> {
  return (await context.api()).settingsConfirmations;
}
