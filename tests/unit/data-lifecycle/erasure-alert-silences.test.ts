// Alertmanager keeps a client's silences (matchers naming it, comments and authors) after its erasure unless
// they are expired; its API expires them but deletes neither them nor alerts, which the certificate says.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { AlertmanagerAlertSilences } from '../../../orchestrator/src/adapters/alertmanager/alertmanager-alert-silences.ts';
import type { AlertSilences } from '../../../orchestrator/src/ports/alert-silences.ts';
import { EraseClientService } from '../../../orchestrator/src/services/erasure/erase-client.ts';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { DeprovisionClientService } from '../../../orchestrator/src/services/deprovision-client.ts';
import { containerOnlyKill, erasureStandIns, idleContainerRuntime, registerActiveClient } from '../../helpers/erasure-stand-ins.ts';
import { registryBackends } from '../../helpers/registries.ts';
import { registryPerTest } from '../../helpers/registry-per-test.ts';
import { silence, startAlertmanagerEmulator, type AlertmanagerEmulator } from './alertmanager-emulator.ts';

const ACME = parseClientId('acme');

const stateOf = (alertmanager: AlertmanagerEmulator) => Object.fromEntries(alertmanager.silences.map((each) => [each.id, each.status.state]));

describe('AlertmanagerAlertSilences against a loopback Alertmanager', () => {
  let alertmanager: AlertmanagerEmulator;
  afterEach(() => alertmanager.close());

  test("expires the client's active and pending silences, and no one else's", async () => {
    alertmanager = await startAlertmanagerEmulator([
      silence('a1', [['client', 'acme'], ['alertname', 'AgentDown']]),
      silence('a2', [['client', 'acme']], 'pending'),
      silence('a3', [['client', 'acme']], 'expired'),
      silence('b1', [['client', 'acme-two']]),
      silence('r1', [['client', 'acme|acme-two', true]]),
    ]);
    const result = await new AlertmanagerAlertSilences({ url: alertmanager.url }).expireClientSilences(ACME);
    assert.equal(result.outcome, 'expired', result.detail);
    assert.equal(result.outcome === 'expired' && result.silences, 2);
    assert.deepEqual(stateOf(alertmanager), { a1: 'expired', a2: 'expired', a3: 'expired', b1: 'active', r1: 'active' });
  });

  test('running it again is a no-op, not an error for the silences already expired', async () => {
    alertmanager = await startAlertmanagerEmulator([silence('a1', [['client', 'acme']])]);
    const silences = new AlertmanagerAlertSilences({ url: alertmanager.url });
    await silences.expireClientSilences(ACME);
    const again = await silences.expireClientSilences(ACME);
    assert.equal(again.outcome, 'expired', again.detail);
    assert.equal(again.outcome === 'expired' && again.silences, 0);
  });

  test('Alertmanager down: failed, not thrown', async () => {
    alertmanager = await startAlertmanagerEmulator([]);
    const url = alertmanager.url;
    await alertmanager.close();
    alertmanager = await startAlertmanagerEmulator([]);
    assert.equal((await new AlertmanagerAlertSilences({ url, timeoutMs: 2_000 }).expireClientSilences(ACME)).outcome, 'failed');
  });
});

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`the deletion certificate on Alertmanager (${backend.name} registry)`, () => {
    const opened = registryPerTest(backend, (registry) => registerActiveClient(registry, ACME, 'jane@acme.example'));
    let alertmanager: AlertmanagerEmulator | undefined;
    afterEach(async () => {
      await alertmanager?.close();
      alertmanager = undefined;
    });

    const erase = async (alertSilences: AlertSilences | undefined) => {
      const outcome = await new EraseClientService({
        ...erasureStandIns(opened.registry, ACME),
        kill: containerOnlyKill(ACME),
        alertSilences,
        clock: { now: () => new Date('2026-12-10T12:00:00.000Z') },
      }).erase({ clientId: ACME, requestId: 'DSR-1', actor: 'ops' });
      assert.equal(outcome.outcome, 'erased');
      return outcome.outcome === 'erased' ? outcome.certificate.steps.find((step) => step.what === 'alertmanager') : undefined;
    };

    test("an erasure expires the client's silences and says that Alertmanager keeps its alerts until its retention", async () => {
      alertmanager = await startAlertmanagerEmulator([silence('a1', [['client', 'acme']])]);
      const step = await erase(new AlertmanagerAlertSilences({ url: alertmanager.url }));
      assert.equal(step?.outcome, 'expired');
      assert.deepEqual(stateOf(alertmanager), { a1: 'expired' });
      assert.match(step?.detail ?? '', /delete neither them nor alerts.*120 h/);
    });

    test("a purge at the end of the retention period expires the client's silences too, and ops-logs it", async () => {
      alertmanager = await startAlertmanagerEmulator([silence('a1', [['client', 'acme']])]);
      await new DeprovisionClientService({
        registry: opened.registry,
        runtime: idleContainerRuntime(),
        targets: { unregister: async () => undefined } as Partial<ScrapeTargets> as ScrapeTargets,
        guard: new ClientOperationGuard(),
        clock: { now: () => new Date('2026-12-10T12:00:00.000Z') },
        logger: createSilentLogger(),
        alertSilences: new AlertmanagerAlertSilences({ url: alertmanager.url }),
      }).deprovision({ clientId: ACME, purge: true, actor: 'retention' });
      assert.deepEqual(stateOf(alertmanager), { a1: 'expired' });
      const purge = (await opened.registry.listOpsLog({ actions: ['deprovision-purge'] })).find((entry) => entry.outcome === 'success');
      assert.equal((purge?.details['steps'] as Array<{ what: string; outcome: string }> | undefined)?.find((step) => step.what === 'alertmanager')?.outcome, 'expired');
    });

    test('Alertmanager down at the erasure: running it again, as the certificate says, expires the silences once', async () => {
      const down = await startAlertmanagerEmulator([]);
      const deadUrl = down.url;
      await down.close();
      assert.equal((await erase(new AlertmanagerAlertSilences({ url: deadUrl, timeoutMs: 2_000 })))?.outcome, 'failed');

      alertmanager = await startAlertmanagerEmulator([silence('a1', [['client', 'acme']])]);
      const again = () =>
        new EraseClientService({
          ...erasureStandIns(opened.registry, ACME),
          kill: containerOnlyKill(ACME),
          alertSilences: new AlertmanagerAlertSilences({ url: alertmanager?.url ?? '' }),
          clock: { now: () => new Date('2026-12-11T12:00:00.000Z') },
        }).erase({ clientId: ACME, requestId: 'DSR-1', actor: 'ops' });
      const second = await again();
      assert.equal(second.outcome, 'already-erased');
      assert.equal(second.outcome === 'already-erased' && second.alertSilences?.outcome, 'expired');
      assert.deepEqual(stateOf(alertmanager), { a1: 'expired' });
      const retries = await opened.registry.listOpsLog({ actions: ['alert-silences-expiry'] });
      assert.deepEqual(retries.map((entry) => [entry.clientId, entry.outcome]), [[ACME, 'success']]);

      const third = await again();
      assert.equal(third.outcome === 'already-erased' && third.alertSilences, undefined, 'nothing left to expire');
      assert.equal((await opened.registry.listOpsLog({ actions: ['alert-silences-expiry'] })).length, 1);
    });

    test('no Alertmanager configured: the certificate says so, and what Alertmanager keeps', async () => {
      const step = await erase(undefined);
      assert.equal(step?.outcome, 'not-configured');
      assert.match(step?.detail ?? '', /client="acme".*delete neither them nor alerts/);
    });
  });
}
