import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLIENT_STATUSES, isClosedStatus, type ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { SupportAccessService } from '../../../orchestrator/src/services/support-access.ts';
import { supportOnlyGateway } from './support-gateway.ts';

function gatewayOverClientIn(status: ClientStatus) {
  const registry = {
    getClient: async () => ({ status, configYaml: 'client: acme\nadmins: [Boss@acme.example]\n' }),
  } as unknown as Registry;
  return supportOnlyGateway(registry, {} as SupportAccessService);
}

void test('a closed client has no portal admins: links and sessions issued before the close stop working', async () => {
  for (const status of CLIENT_STATUSES) {
    const admins = await gatewayOverClientIn(status).admins('acme');
    assert.deepEqual(admins, isClosedStatus(status) ? [] : ['boss@acme.example'], status);
  }
  assert.deepEqual(CLIENT_STATUSES.filter(isClosedStatus), ['deprovisioning', 'deprovisioned']);
});
