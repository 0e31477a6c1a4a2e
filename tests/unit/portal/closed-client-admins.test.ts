// A closed client keeps its portal admins through its retention period: its data (the kept volume) is still
// its own, exported through the portal or by an operator whose support grant its admins approve. Only a
// client the registry no longer knows (purged or erased) has none.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLIENT_STATUSES, type ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { SupportAccessService } from '../../../orchestrator/src/services/support-access.ts';
import { supportOnlyGateway } from './support-gateway.ts';

function gatewayOverClientIn(status: ClientStatus | null) {
  const registry = {
    getClient: async () => (status === null ? null : { status, configYaml: 'client: acme\nadmins: [Boss@acme.example]\n' }),
  } as unknown as Registry;
  return supportOnlyGateway(registry, {} as SupportAccessService);
}

void test('a client has its configured admins in every status, closed included; a client no longer known has none', async () => {
  for (const status of CLIENT_STATUSES) assert.deepEqual(await gatewayOverClientIn(status).admins('acme'), ['boss@acme.example'], status);
  assert.deepEqual(await gatewayOverClientIn(null).admins('acme'), []);
});
