import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FLEET_OWNED_SECRETS } from '@agent-fleet/kernel/fleet-owned-secrets';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { isClosedStatus, type ClientStatus } from '../domain/client-status.ts';
import type { Registry } from '../ports/registry.ts';
import type { SecretMetadata, SecretStore } from '../ports/secret-store.ts';

const MAX_SECRET_BYTES = 64 * 1024;

/** `fleet secrets set|list`: values go in, only names and versions ever come out. */
export class ClientSecretsService {
  private readonly deps: { registry: Registry; secrets: SecretStore };

  constructor(deps: { registry: Registry; secrets: SecretStore }) {
    this.deps = deps;
  }

  async set(request: { clientId: unknown; name: string; value: unknown; actor: string }): Promise<{ clientId: ClientId; name: string; version: number }> {
    const { clientId, status } = await this.existing(request.clientId);
    // A closed client's agent never runs again: a grant stored now (a connect whose consent outlasted the
    // deprovisioning) would stay live at its provider for nobody, past the erasure that went over the others.
    if (isClosedStatus(status)) {
      throw new FleetError('conflict', `${clientId} is closed (${status}): no secret is stored for it`);
    }
    if (typeof request.value !== 'string' || request.value.length === 0) {
      throw new FleetError('invalid_input', 'the secret value is empty: pipe it on standard input');
    }
    if (Buffer.byteLength(request.value) > MAX_SECRET_BYTES) throw new FleetError('invalid_input', 'the secret value is larger than 64 KiB');
    const owner = FLEET_OWNED_SECRETS.get(request.name);
    if (owner !== undefined) throw new FleetError('invalid_input', `"${request.name}" is reserved for ${owner}: it cannot be set by hand`);
    const { version } = await this.deps.secrets.writeSecret(clientId, request.name, request.value);
    await this.deps.registry.appendOpsLog({
      actor: request.actor,
      action: 'secret-write',
      clientId,
      reason: null,
      outcome: 'success',
      details: { name: request.name, version },
    });
    return { clientId, name: request.name, version };
  }

  async list(rawClientId: unknown): Promise<SecretMetadata[]> {
    return this.deps.secrets.listSecrets((await this.existing(rawClientId)).clientId);
  }

  private async existing(rawClientId: unknown): Promise<{ clientId: ClientId; status: ClientStatus }> {
    const clientId = parseClientId(rawClientId);
    const record = await this.deps.registry.getClient(clientId);
    if (!record) throw new FleetError('not_found', `no client "${clientId}" in the registry`);
    return { clientId, status: record.status };
  }
}
