// Provisioning with a config beyond the safe defaults used to record no confirmation: a client provisioned
// with `permissions: { mail.send: true }` failed the doctor until someone set the config back to the default
// and up again with `fleet config set --confirm`. `fleet provision --confirm <rail>` now records, once the
// client is provisioned, the confirmation the doctor reads; a rail the config does not cross is refused
// before anything is done, and a failed provisioning records nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { departuresFromSafeDefaults, withDepartures } from '../../../orchestrator/src/domain/onboarding-config-checks.ts';
import { foldRailConfirmations } from '../../../orchestrator/src/services/doctor/doctor-records.ts';
import { FREE_TEXT_AUTO_SEND_RISK } from '@agent-fleet/kernel/client-config';
import { parseClientConfigYaml, renderClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { GUARD_RAIL_ACTION } from '../../../orchestrator/src/services/settings/settings-ops-log.ts';
import { inProcessBackends } from '../../helpers/client-on-registry.ts';
import { emptyRegistryBed, failingAtContainer, provisionServiceOver, recordingStandIns } from '../../helpers/client-operation-bed.ts';
import { invalidInputMessageOf as refusal } from '../../helpers/refused.ts';

const PASS = { status: 'pass' as const, evidence: ['checked'] };

/** A config granting mail.send and raising the hourly limit: two rails beyond the safe defaults. */
function widerConfig(clientId: ClientId): string {
  return [`client: ${clientId}`, 'permissions:', '  mail.send: true', 'rateLimits:', '  perHour: 40', '  perDay: 100', ''].join('\n');
}

for (const backend of inProcessBackends) {
  describe(`provisioning records the guard rails confirmed with it (${backend.name} registry)`, () => {
    const bed = emptyRegistryBed(backend, 'provision-confirm');
    const railEntries = async (clientId: ClientId) => bed.opened.registry.listOpsLog({ clientId, actions: [GUARD_RAIL_ACTION] });

    test('the embedded default config crosses no rail: provisioned as before, nothing to confirm, nothing recorded', async () => {
      const clientId = parseClientId('pcdefault');
      const result = await provisionServiceOver(recordingStandIns([]), { registry: bed.opened.registry, homeDir: bed.homeDir }).provision({ clientId, actor: 'ops' });
      assert.equal(result.outcome, 'provisioned');
      assert.deepEqual(result.outcome === 'provisioned' ? result.guardRails : null, { confirmed: [], unconfirmed: [] });
      assert.deepEqual(await railEntries(clientId), []);
    });

    test('a confirmed rail is recorded as config set records it, and the doctor counts it; the other stays unconfirmed', async () => {
      const clientId = parseClientId('pcwider');
      const result = await provisionServiceOver(recordingStandIns([]), { registry: bed.opened.registry, homeDir: bed.homeDir }).provision({
        clientId,
        actor: 'ops-alice',
        configYaml: widerConfig(clientId),
        confirm: ['permissions.mail.send'],
      });
      assert.equal(result.outcome, 'provisioned');
      assert.deepEqual(result.outcome === 'provisioned' ? result.guardRails?.confirmed : null, ['permissions.mail.send']);
      assert.deepEqual(result.outcome === 'provisioned' ? result.guardRails?.unconfirmed.map((rail) => rail.id) : null, ['rateLimits.perHour']);

      const [entry, unconfirmed, ...more] = await railEntries(clientId);
      assert.equal(more.length, 0, 'one record per rail crossed');
      assert.deepEqual([unconfirmed?.details['rail'], unconfirmed?.outcome], ['rateLimits.perHour', 'not-confirmed'], 'the rail nobody confirmed is on record as such');
      assert.equal(entry?.actor, 'ops-alice');
      assert.equal(entry?.outcome, 'confirmed');
      assert.equal(entry?.details['rail'], 'permissions.mail.send');
      assert.equal(entry?.details['field'], 'permissions.mail.send');
      assert.match(entry?.reason ?? '', /send email from your mailbox/);

      // The doctor's reading of the same log: the scopes item passes on the confirmation, the limits item fails.
      const entries = await bed.opened.registry.listOpsLog({ clientId });
      const provisioned = entries.findIndex((each) => each.action === 'provision' && each.outcome === 'success');
      assert.ok(provisioned !== -1 && provisioned < entries.indexOf(entries.find((each) => each.action === GUARD_RAIL_ACTION)!), 'recorded after the provisioning succeeded');
      const confirmations = foldRailConfirmations(entries);
      const departures = departuresFromSafeDefaults(parseClientConfigYaml(widerConfig(clientId), 'config'), new Date());
      assert.equal(withDepartures('oauth-scopes', PASS, departures, confirmations).status, 'pass');
      assert.equal(withDepartures('rate-limits', PASS, departures, confirmations).status, 'fail');
    });

    test('a confirmation of a rail the config does not cross is refused before anything is done', async () => {
      const clientId = parseClientId('pcstray');
      const calls: string[] = [];
      const service = provisionServiceOver(recordingStandIns(calls), { registry: bed.opened.registry, homeDir: bed.homeDir });
      const message = await refusal(service.provision({ clientId, actor: 'ops', configYaml: widerConfig(clientId), confirm: ['permissions.mail.send', 'rateLimits.perDay'] }));
      assert.match(message, /does not cross rateLimits\.perDay/);
      assert.match(message, /it crosses rateLimits\.perHour, permissions\.mail\.send/);
      assert.match(await refusal(service.provision({ clientId, actor: 'ops', confirm: ['permissions.mail.send'] })), /it crosses none/);
      assert.deepEqual(calls, [], 'no step ran');
      assert.equal(await bed.opened.registry.getClient(clientId), null, 'no registry row');
      assert.deepEqual(await bed.opened.registry.listOpsLog({ clientId }), []);
    });

    test('an untrusted confirmation list is bounded: a list of rail ids, at most 50', async () => {
      const clientId = parseClientId('pcbounds');
      const service = provisionServiceOver(recordingStandIns([]), { registry: bed.opened.registry, homeDir: bed.homeDir });
      for (const confirm of ['permissions.mail.send', [42], ['permissions.mail.send; rm'], ['x'.repeat(101)], Array.from({ length: 51 }, () => 'permissions.mail.send')]) {
        await refusal(service.provision({ clientId, actor: 'ops', configYaml: widerConfig(clientId), confirm }));
      }
      assert.equal(await bed.opened.registry.getClient(clientId), null);
    });

    test('a failed provisioning records no confirmation', async () => {
      const clientId = parseClientId('pcfailed');
      const service = provisionServiceOver(failingAtContainer(), { registry: bed.opened.registry, homeDir: bed.homeDir });
      await assert.rejects(service.provision({ clientId, actor: 'ops', configYaml: widerConfig(clientId), confirm: ['permissions.mail.send', 'rateLimits.perHour'] }));
      assert.deepEqual(await railEntries(clientId), []);
    });

    test('a short onboarding window without a start begins at provisioning: its early end can be confirmed', async () => {
      const clientId = parseClientId('pcshort');
      const result = await provisionServiceOver(recordingStandIns([]), { registry: bed.opened.registry, homeDir: bed.homeDir }).provision({
        clientId,
        actor: 'ops',
        configYaml: `client: ${clientId}\nonboarding:\n  days: 7\n`,
        confirm: ['onboarding.ended_early'],
      });
      assert.equal(result.outcome, 'provisioned');
      assert.equal(foldRailConfirmations(await railEntries(clientId))('onboarding.ended_early')?.by, 'ops');
    });

    test('a free-text opt-in names who accepted it: not listed as unconfirmed', async () => {
      const clientId = parseClientId('pcfreetext');
      const yaml = renderClientConfigYaml({
        client: clientId,
        autoReply: { freeTextAutoSend: [{ type: 'acknowledgement', acceptedBy: 'owner@example.com', acceptedAt: '2026-01-05T10:00:00Z', acceptedRisk: FREE_TEXT_AUTO_SEND_RISK }] },
      });
      const result = await provisionServiceOver(recordingStandIns([]), { registry: bed.opened.registry, homeDir: bed.homeDir }).provision({ clientId, actor: 'ops', configYaml: yaml });
      assert.equal(result.outcome, 'provisioned');
      assert.deepEqual(result.outcome === 'provisioned' ? result.guardRails?.unconfirmed : null, []);
      assert.ok(foldRailConfirmations(await bed.opened.registry.listOpsLog({ clientId }))('freeText.acknowledgement') !== undefined, 'the doctor counts the opt-in');
    });
  });
}
