// A purge whose expiry of the client's Alertmanager silences failed (Alertmanager down) had nothing that ever
// tried again: an erasure is run again by its operator, a purge is not. The retention run now tries every
// pending expiry again until it succeeds, the ops log saying when; a client made again under the id is left alone.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { AlertmanagerAlertSilences } from '../../../orchestrator/src/adapters/alertmanager/alertmanager-alert-silences.ts';
import type { AlertSilences } from '../../../orchestrator/src/ports/alert-silences.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { DeprovisionClientService } from '../../../orchestrator/src/services/deprovision-client.ts';
import { enforceRetention } from '../../../orchestrator/src/services/enforce-retention.ts';
import { idleContainerRuntime, registerActiveClient } from '../../helpers/erasure-stand-ins.ts';
import { registryBackends } from '../../helpers/registries.ts';
import { registryPerTest } from '../../helpers/registry-per-test.ts';
import { silence, startAlertmanagerEmulator, type AlertmanagerEmulator } from './alertmanager-emulator.ts';

const ACME = parseClientId('acme');
const NOW = new Date('2026-12-10T02:30:00.000Z');

function purge(registry: Registry, alertSilences: AlertSilences) {
  return new DeprovisionClientService({
    registry,
    runtime: idleContainerRuntime(),
    targets: { unregister: async () => undefined } as never,
    guard: new ClientOperationGuard(),
    clock: { now: () => NOW },
    logger: createSilentLogger(),
    alertSilences,
  }).deprovision({ clientId: ACME, purge: true, actor: 'ops' });
}

function retention(registry: Registry, alertSilences: AlertSilences | undefined) {
  const guard = new ClientOperationGuard();
  const clock = { now: () => NOW };
  const deprovision = new DeprovisionClientService({ registry, runtime: idleContainerRuntime(), targets: { unregister: async () => undefined } as never, guard, clock, logger: createSilentLogger(), alertSilences });
  return enforceRetention({ registry, deprovision, clock, logger: createSilentLogger(), retentionDays: 90, alertSilences, guard });
}

/** An Alertmanager that is down: its address refuses connections. */
async function downAlertmanager(): Promise<AlertSilences> {
  const down = await startAlertmanagerEmulator([]);
  const url = down.url;
  await down.close();
  return new AlertmanagerAlertSilences({ url, timeoutMs: 2_000 });
}

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`the retention run and a purge's failed silence expiry (${backend.name} registry)`, () => {
    const opened = registryPerTest(backend, (registry) => registerActiveClient(registry, ACME, 'jane@acme.example'));
    let alertmanager: AlertmanagerEmulator | undefined;
    afterEach(async () => {
      await alertmanager?.close();
      alertmanager = undefined;
    });
    const retries = () => opened.registry.listOpsLog({ actions: ['alert-silences-expiry'] });
    const stateOf = (emulator: AlertmanagerEmulator) => emulator.silences.map((each) => each.status.state);

    test('is tried again by the next run, which records that it succeeded, and not after', async () => {
      await purge(opened.registry, await downAlertmanager());
      const [purged] = (await opened.registry.listOpsLog({ actions: ['deprovision-purge'] })).filter((entry) => entry.outcome === 'success');
      assert.equal((purged?.details['steps'] as Array<{ what: string; outcome: string }>).find((step) => step.what === 'alertmanager')?.outcome, 'failed');

      alertmanager = await startAlertmanagerEmulator([silence('a1', [['client', ACME]]), silence('b1', [['client', 'acme-two']])]);
      const silences = new AlertmanagerAlertSilences({ url: alertmanager.url });
      await retention(opened.registry, silences);
      assert.deepEqual(stateOf(alertmanager), ['expired', 'active']);
      const [done] = await retries();
      assert.equal(done?.outcome, 'success');
      assert.equal(done?.actor, 'retention');
      assert.equal(done?.details['deletionAction'], 'deprovision-purge');
      assert.equal(done?.details['deletionSeq'], purged?.seq);

      const requests = alertmanager.requests.length;
      await retention(opened.registry, silences);
      assert.equal(alertmanager.requests.length, requests, 'nothing left to retry');
      assert.equal((await retries()).length, 1);
    });

    test('still down at the run: the failed attempt is on the record and the next run tries again', async () => {
      const down = await downAlertmanager();
      await purge(opened.registry, down);
      await retention(opened.registry, down);
      assert.deepEqual((await retries()).map((entry) => entry.outcome), ['failed']);

      alertmanager = await startAlertmanagerEmulator([silence('a1', [['client', ACME]])]);
      await retention(opened.registry, new AlertmanagerAlertSilences({ url: alertmanager.url }));
      assert.deepEqual(stateOf(alertmanager), ['expired']);
      assert.deepEqual((await retries()).map((entry) => entry.outcome), ['failed', 'success']);
    });

    test('a client made again under the id keeps its silences', async () => {
      await purge(opened.registry, await downAlertmanager());
      await registerActiveClient(opened.registry, ACME, 'new@acme.example');
      alertmanager = await startAlertmanagerEmulator([silence('a1', [['client', ACME]])]);
      await retention(opened.registry, new AlertmanagerAlertSilences({ url: alertmanager.url }));
      assert.deepEqual(stateOf(alertmanager), ['active'], 'the label names the new client now');
      assert.deepEqual(await retries(), []);
    });
  });
}
