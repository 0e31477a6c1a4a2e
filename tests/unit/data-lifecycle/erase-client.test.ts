// The erasure against a real (PGlite) registry and recording stand-ins for the engine, Vault and the
// backup store: a run cut off at any step is finished by the next one, whose certificate says it was
// resumed, and the ops log verifies again; a closure that stopped half way does not block an erasure; a
// client made again under the same id gets a new request even when the request id is the same.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { verifyOpsLog } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import type { MailboxGrants } from '../../../orchestrator/src/ports/mailbox-grants.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { EraseClientService } from '../../../orchestrator/src/services/erasure/erase-client.ts';
import { erasureStandIns, registerActiveClient } from '../../helpers/erasure-stand-ins.ts';
import { registryBackends, type OpenedRegistry } from '../../helpers/registries.ts';

const ACME = parseClientId('acme');
const ADMIN = 'jane@acme.example';

/** A registry whose named method fails once (the orchestrator dying there), then works again. */
function failingOnce(registry: Registry, method: keyof Registry): { registry: Registry; armed: () => boolean } {
  let armed = true;
  const wrapped = new Proxy(registry, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === method && armed) {
        return () => {
          armed = false;
          return Promise.reject(new FleetError('unavailable', `${String(method)} cut off (injected)`));
        };
      }
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { registry: wrapped, armed: () => armed };
}

function standIns(registry: Registry, now: () => Date) {
  const base = erasureStandIns(registry, ACME);
  const { keys } = base;
  const state = { grantStored: true, backups: 3, secretsRemoved: 0 };
  const secrets = {
    removeClient: async (clientId: ClientId) => {
      state.grantStored = false;
      state.secretsRemoved += 1;
      keys.destroy(clientId);
    },
  } as Partial<SecretStore> as SecretStore;
  const grants: MailboxGrants = {
    revoke: async (_clientId, provider) =>
      state.grantStored ? { provider, outcome: 'revoked', detail: 'revoked at the provider' } : { provider, outcome: 'none-stored', detail: 'no grant was stored' },
  };
  const deps = {
    ...base,
    secrets,
    grants,
    backups: {
      deleteAll: async () => {
        const deleted = state.backups;
        state.backups = 0;
        return deleted;
      },
    },
    kill: {
      kill: async (request: { clientId: unknown }) => {
        await registry.setStatus(request.clientId as ClientId, 'killed', 'erasure', now());
        return { clientId: ACME, alreadyKilled: false, revokedTokens: 2, agentNotified: true, containerStopped: true, durationMs: 1 };
      },
    },
    clock: { now },
  };
  return { deps, state };
}

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`erasure cut off and run again (${backend.name} registry)`, () => {
    let opened: OpenedRegistry;
    let createdAt: string;
    const now = () => new Date('2026-12-10T12:00:00.000Z');
    before(async () => {
      opened = await backend.open();
    });
    after(() => opened.close());
    beforeEach(async () => {
      await opened.reset();
      await registerActiveClient(opened.registry, ACME, ADMIN);
      createdAt = (await opened.registry.getClient(ACME))?.createdAt ?? '';
      await opened.registry.appendOpsLog({ actor: `client-admin:${ADMIN}`, action: 'config-change', clientId: ACME, reason: 'new partner', outcome: 'success', details: { blockList: '+spam@x.example' } });
    });

    test('cut off after the registry row was deleted: the next run finishes, certifies it as resumed, and the ops log verifies', async () => {
      const cut = failingOnce(opened.registry, 'reclaimDeletedRows');
      const { deps } = standIns(cut.registry, now);
      const service = new EraseClientService(deps);
      await assert.rejects(service.erase({ clientId: ACME, requestId: 'DSR-7', receivedAt: new Date('2026-12-01T00:00:00Z'), actor: 'ops' }), /cut off/);
      assert.equal(cut.armed(), false, 'the run died where it was meant to');
      assert.equal(await opened.registry.getClient(ACME), null, 'the row was deleted before the cut');
      assert.deepEqual((await service.openRequests()).map((request) => request.requestId), ['DSR-7'], 'the request is still open');

      const again = await service.erase({ clientId: ACME, requestId: 'DSR-7', actor: 'ops' });
      assert.equal(again.outcome, 'erased', 'finished, not "unknown client"');
      const certificate = again.outcome === 'erased' ? again.certificate : null;
      assert.equal(certificate?.resumed, true);
      assert.equal(certificate?.tombstone.createdAt, createdAt, 'the tombstone still knows when the client was made');
      assert.equal(certificate?.tombstone.requestReceivedAt, '2026-12-01T00:00:00.000Z');
      assert.equal(certificate?.withinDeadline, true);
      assert.deepEqual((await service.openRequests()).map((request) => request.requestId), [], 'the request is settled');
      const log = await opened.registry.listOpsLog();
      assert.equal(verifyOpsLog(log).valid, true, 'the erased entries have their deletion after them');
      assert.doesNotMatch(JSON.stringify(log), /jane@acme|spam@x/);
      assert.equal((await service.erase({ clientId: ACME, requestId: 'DSR-7', actor: 'ops' })).outcome, 'already-erased');
    });

    test('cut off after the key was destroyed: the next run says it resumed, rather than that no grant was ever stored', async () => {
      const cut = failingOnce(opened.registry, 'saveErasedOpsLogEntries');
      const { deps, state } = standIns(cut.registry, now);
      const service = new EraseClientService(deps);
      await assert.rejects(service.erase({ clientId: ACME, requestId: 'DSR-8', actor: 'ops' }), /cut off/);
      assert.equal(state.secretsRemoved, 1);
      const again = await service.erase({ clientId: ACME, requestId: 'DSR-8', actor: 'ops' });
      assert.equal(again.outcome, 'erased');
      const certificate = again.outcome === 'erased' ? again.certificate : null;
      assert.equal(certificate?.resumed, true);
      assert.equal(certificate?.steps.find((step) => step.what === 'oauth-grant')?.outcome, 'none-stored');
      assert.equal(verifyOpsLog(await opened.registry.listOpsLog()).valid, true);
    });

    test('an erasure that runs through is not marked resumed', async () => {
      const { deps } = standIns(opened.registry, now);
      const forgotten: string[] = [];
      const egressRefusals = { forgetClient: async (clientId: string) => (forgotten.push(clientId), 4) };
      const outcome = await new EraseClientService({ ...deps, egressRefusals }).erase({ clientId: ACME, requestId: 'DSR-9', actor: 'ops' });
      assert.equal(outcome.outcome === 'erased' && outcome.certificate.resumed, false);
      assert.equal(outcome.outcome === 'erased' && outcome.certificate.steps.find((step) => step.what === 'oauth-grant')?.outcome, 'revoked');
      assert.deepEqual(forgotten, [ACME], "the client's lines leave the egress refusal log");
      assert.match(outcome.outcome === 'erased' ? (outcome.certificate.steps.find((step) => step.what === 'egress-log')?.detail ?? '') : '', /^4 refused egress requests removed/);
    });

    test('a request received at no valid time is refused before anything is recorded or touched', async () => {
      const service = new EraseClientService(standIns(opened.registry, now).deps);
      const invalid = (error: unknown) => error instanceof FleetError && error.code === 'invalid_input';
      await assert.rejects(service.recordRequest({ clientId: ACME, requestId: 'DSR-11', receivedAt: new Date('not a time'), actor: 'ops' }), invalid);
      await assert.rejects(service.erase({ clientId: ACME, requestId: 'DSR-11', receivedAt: new Date(Number.NaN), actor: 'ops' }), invalid);
      assert.deepEqual(await service.openRequests(), []);
      assert.equal((await opened.registry.getClient(ACME))?.status, 'active', 'the client was neither claimed nor killed');
    });

    test('the row gone with another request open: a clear refusal naming it', async () => {
      const cut = failingOnce(opened.registry, 'reclaimDeletedRows');
      const service = new EraseClientService(standIns(cut.registry, now).deps);
      await assert.rejects(service.erase({ clientId: ACME, requestId: 'DSR-7', actor: 'ops' }), /cut off/);
      await assert.rejects(service.erase({ clientId: ACME, requestId: 'DSR-OTHER', actor: 'ops' }), (error) => error instanceof FleetError && error.code === 'conflict' && /DSR-7/.test(error.message));
    });

    test('a closure that stopped half way ("deprovisioning", nothing running) does not block the erasure', async () => {
      await opened.registry.setStatus(ACME, 'deprovisioning', 'contract ended', now());
      const outcome = await new EraseClientService(standIns(opened.registry, now).deps).erase({ clientId: ACME, requestId: 'DSR-10', actor: 'ops' });
      assert.equal(outcome.outcome, 'erased');
      assert.equal(outcome.outcome === 'erased' && outcome.certificate.steps[0]?.outcome, 'killed', 'an agent that may still run is killed first');
      assert.equal(await opened.registry.getClient(ACME), null);
    });

    test('a client made again under the same id: the same request id is a new request with its own deadline', async () => {
      const first = new EraseClientService(standIns(opened.registry, now).deps);
      await first.erase({ clientId: ACME, requestId: 'DSR-1', receivedAt: new Date('2026-01-10T00:00:00Z'), actor: 'ops' });
      const at = new Date('2026-12-09T00:00:00.000Z');
      await opened.registry.claimForProvisioning({ id: ACME, provider: 'gmail', admins: [ADMIN], configYaml: 'client: acme\n', onboardingStartedAt: at.toISOString() }, 'op', at, 1000);
      await opened.registry.setStatus(ACME, 'active', null, at);
      const second = new EraseClientService(standIns(opened.registry, now).deps);
      const request = await second.recordRequest({ clientId: ACME, requestId: 'DSR-1', receivedAt: new Date('2026-12-09T10:00:00Z'), actor: 'ops' });
      assert.equal(request.receivedAt, '2026-12-09T10:00:00.000Z');
      assert.equal(request.erasedAt, null);
      assert.deepEqual((await second.openRequests()).map((open) => open.receivedAt), ['2026-12-09T10:00:00.000Z']);
      const outcome = await second.erase({ clientId: ACME, requestId: 'DSR-1', actor: 'ops' });
      assert.equal(outcome.outcome === 'erased' && outcome.certificate.requestReceivedAt, '2026-12-09T10:00:00.000Z');
      assert.equal(outcome.outcome === 'erased' && outcome.certificate.withinDeadline, true);
    });
  });
}
