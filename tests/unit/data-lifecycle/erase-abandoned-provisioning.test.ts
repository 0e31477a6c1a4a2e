// A client whose provisioning was cut off (the orchestrator died mid-saga) stays 'provisioning' for good:
// nothing finishes it. Its erasure must not wait for it forever (the 30-day deadline); a provisioning that
// is still alive (its heartbeat fresh) is waited for, so no saga recreates what the erasure removed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { EraseClientService } from '../../../orchestrator/src/services/erasure/erase-client.ts';
import { erasureStandIns, leaveProvisioning } from '../../helpers/erasure-stand-ins.ts';
import { registryBackends, type OpenedRegistry } from '../../helpers/registries.ts';
import { registryPerTest } from '../../helpers/registry-per-test.ts';

const ACME = parseClientId('acme');
const CLAIMED_AT = new Date('2026-12-10T12:00:00.000Z');

function service(opened: OpenedRegistry, now: Date, killed: ClientId[]) {
  return new EraseClientService({
    ...erasureStandIns(opened.registry, ACME),
    kill: {
      kill: async (request) => {
        killed.push(request.clientId as ClientId);
        await opened.registry.setStatus(ACME, 'killed', 'erasure', now);
        return { clientId: ACME, alreadyKilled: false, revokedTokens: 1, agentNotified: false, containerStopped: true, durationMs: 1 };
      },
    },
    clock: { now: () => now },
  });
}

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`erasure of a client left provisioning (${backend.name} registry)`, () => {
    const opened = registryPerTest(backend, (registry) => leaveProvisioning(registry, ACME, 'jane@acme.example', CLAIMED_AT, 300_000));

    test('a provisioning whose heartbeat stopped long ago is erased, its possibly running agent killed first', async () => {
      const killed: ClientId[] = [];
      const outcome = await service(opened, new Date(CLAIMED_AT.getTime() + 3_600_000), killed).erase({ clientId: ACME, requestId: 'DSR-1', actor: 'ops' });
      assert.equal(outcome.outcome, 'erased');
      assert.deepEqual(killed, [ACME]);
      assert.equal(outcome.outcome === 'erased' && outcome.certificate.steps[0]?.outcome, 'killed');
      assert.equal(await opened.registry.getClient(ACME), null);
    });

    test('a provisioning still alive is waited for: busy, retryable, nothing removed', async () => {
      const killed: ClientId[] = [];
      await assert.rejects(
        service(opened, new Date(CLAIMED_AT.getTime() + 60_000), killed).erase({ clientId: ACME, requestId: 'DSR-2', actor: 'ops' }),
        (error) => error instanceof FleetError && error.code === 'busy' && error.retryable,
      );
      assert.deepEqual(killed, []);
      assert.equal((await opened.registry.getClient(ACME))?.status, 'provisioning');
    });
  });
}
