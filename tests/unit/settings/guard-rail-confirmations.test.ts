// Who is on record for a departure from the safe defaults, as the doctor reads it (foldRailConfirmations):
// - a client provisioned again over its kept volume: the agent makes a version of the new config file, and
//   the settings checkpoint recorded its crossings as "made by the config file" after the confirmations
//   given with `fleet provision --confirm`, which voided them; that version is the crossing provisioning
//   recorded, so it is not recorded a second time, while a later file version crossing the rail still voids;
// - a client provisioned under an id used before: a confirmation of the earlier client (or config) counted
//   for a rail the new config crosses and nobody confirmed;
// - `fleet config confirm <client> <rail>`: a rail the settings in force cross, confirmed after the fact.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { guardRailIds } from '@agent-fleet/kernel/settings-guard-rails';
import { foldRailConfirmations } from '../../../orchestrator/src/services/doctor/doctor-records.ts';
import { confirmGuardRail } from '../../../orchestrator/src/services/settings/guard-rail-confirmation.ts';
import { checkpointSettings } from '../../../orchestrator/src/services/settings/settings-checkpoint.ts';
import { GUARD_RAIL_ACTION } from '../../../orchestrator/src/services/settings/settings-ops-log.ts';
import { inProcessBackends } from '../../helpers/client-on-registry.ts';
import { emptyRegistryBed, provisionServiceOver, recordingStandIns } from '../../helpers/client-operation-bed.ts';
import { invalidInputMessageOf as refusal } from '../../helpers/refused.ts';
import { AgentSettingsHistory, settingsDocument } from './agent-settings-history.ts';

const clock = { now: () => new Date() };
const WIDER = { permissions: { 'mail.send': true }, rateLimits: { perHour: 40, perDay: 100 } };

function widerYaml(clientId: ClientId): string {
  return [`client: ${clientId}`, 'permissions:', '  mail.send: true', 'rateLimits:', '  perHour: 40', '  perDay: 100', ''].join('\n');
}

const backend = inProcessBackends[0]!;

describe('guard-rail confirmations on record', () => {
  const bed = emptyRegistryBed(backend, 'rail-confirmations');
  const registry = () => bed.opened.registry;
  const standing = async (clientId: ClientId) => foldRailConfirmations(await registry().listOpsLog({ clientId }));
  const provision = (clientId: ClientId, confirm: string[], configYaml = widerYaml(clientId)) =>
    provisionServiceOver(recordingStandIns([]), { registry: registry(), homeDir: bed.homeDir }).provision({ clientId, actor: 'ops-alice', configYaml, confirm });
  const checkpoint = (history: AgentSettingsHistory, clientId: ClientId) =>
    checkpointSettings({ registry: registry(), settings: history.service(registry(), clientId, clock), logger: createSilentLogger() }, clientId);

  test('provisioned again over a kept volume: the confirmations given with it stand after the checkpoint records the new file version', async () => {
    const clientId = parseClientId('keptvolume');
    const history = new AgentSettingsHistory();
    history.append(settingsDocument(clientId), 'file', new Date()); // the volume's earlier life
    assert.equal((await provision(clientId, ['permissions.mail.send'])).outcome, 'provisioned');
    history.append(settingsDocument(clientId, WIDER), 'file', new Date()); // the agent takes the new file at start
    assert.equal(await checkpoint(history, clientId), 'saved');

    const confirmations = await standing(clientId);
    assert.equal(confirmations('permissions.mail.send')?.by, 'ops-alice', 'the confirmation given at provisioning stands');
    assert.equal(confirmations('rateLimits.perHour'), undefined, 'the rail nobody confirmed stays unconfirmed');
    const flags = (await registry().listOpsLog({ clientId, actions: [GUARD_RAIL_ACTION] })).map((entry) => [entry.details['rail'], entry.outcome]);
    assert.deepEqual(flags, [['permissions.mail.send', 'confirmed'], ['rateLimits.perHour', 'not-confirmed']], 'one record per crossing');
  });

  test('a later file version that crosses the rail again voids the confirmation given at provisioning', async () => {
    const clientId = parseClientId('keptlater');
    const history = new AgentSettingsHistory();
    history.append(settingsDocument(clientId), 'file', new Date());
    await provision(clientId, ['permissions.mail.send', 'rateLimits.perHour']);
    history.append(settingsDocument(clientId, WIDER), 'file', new Date());
    await checkpoint(history, clientId);
    assert.equal((await standing(clientId))('permissions.mail.send')?.by, 'ops-alice');

    history.append(settingsDocument(clientId), 'api', new Date()); // set back to the defaults
    history.append(settingsDocument(clientId, { ...WIDER, bulkThreshold: 5, rateLimits: { perHour: 30, perDay: 100 } }), 'file', new Date()); // the file edited by hand
    await checkpoint(history, clientId);
    assert.equal((await standing(clientId))('permissions.mail.send'), undefined, 'crossed again by the config file: voided');
    assert.equal((await standing(clientId))('rateLimits.perHour'), undefined);
  });

  test('a client provisioned under an id used before does not inherit the earlier confirmations', async () => {
    const clientId = parseClientId('reusedid');
    // The earlier client of this id confirmed mail.send, then was closed; the log keeps its entries.
    await registry().appendOpsLog({ actor: 'ops-carol', action: GUARD_RAIL_ACTION, clientId, reason: 'r', outcome: 'confirmed', details: { rail: 'permissions.mail.send', version: 3 } });
    assert.equal((await standing(clientId))('permissions.mail.send')?.by, 'ops-carol');
    const result = await provision(clientId, []);
    assert.deepEqual(result.outcome === 'provisioned' ? result.guardRails?.unconfirmed.map((rail) => rail.id) : null, ['rateLimits.perHour', 'permissions.mail.send']);
    assert.equal((await standing(clientId))('permissions.mail.send'), undefined, 'the new config’s mail.send was confirmed by no one');
  });

  describe('fleet config confirm', () => {
    async function confirmable(clientId: ClientId, data: Record<string, unknown>) {
      const history = new AgentSettingsHistory();
      await provision(clientId, [], `client: ${clientId}\n`);
      history.append(settingsDocument(clientId), 'file', new Date());
      // The config file edited by hand, taken by the agent at its start and not yet checkpointed.
      history.append(settingsDocument(clientId, data), 'file', new Date());
      const settings = history.service(registry(), clientId, clock);
      const confirm = (rail: string, actor = 'ops-dave', reason?: string) =>
        confirmGuardRail({ registry: registry(), settings, clock, logger: createSilentLogger() }, { clientId, rail, actor, via: 'cli', reason });
      return { history, confirm };
    }

    test('a rail the settings in force cross is recorded for the operator, after their version, and the doctor counts it', async () => {
      const clientId = parseClientId('confirmok');
      const { history, confirm } = await confirmable(clientId, WIDER);
      const outcome = await confirm('permissions.mail.send', 'ops-dave', 'the client asked for sending in writing');
      assert.equal(await checkpoint(history, clientId), 'unchanged', 'the file version was recorded before the confirmation');
      assert.equal(outcome.outcome, 'confirmed');
      assert.equal(outcome.confirmation.by, 'ops-dave');
      const confirmations = await standing(clientId);
      assert.equal(confirmations('permissions.mail.send')?.by, 'ops-dave', 'not voided by the file version recorded with it');
      assert.equal(confirmations('rateLimits.perHour'), undefined, 'only the rail named');
      const [entry] = (await registry().listOpsLog({ clientId, actions: [GUARD_RAIL_ACTION] })).filter((each) => each.outcome === 'confirmed');
      assert.equal(entry?.details['note'], 'the client asked for sending in writing');
      assert.equal(entry?.details['version'], 2);
    });

    test('confirming twice records once and says who confirmed it', async () => {
      const clientId = parseClientId('confirmtwice');
      const { confirm } = await confirmable(clientId, WIDER);
      await confirm('rateLimits.perHour', 'ops-dave');
      const again = await confirm('rateLimits.perHour', 'ops-erin');
      assert.equal(again.outcome, 'already-confirmed');
      assert.equal(again.confirmation.by, 'ops-dave');
      const confirmed = (await registry().listOpsLog({ clientId, actions: [GUARD_RAIL_ACTION] })).filter((entry) => entry.outcome === 'confirmed' && entry.details['rail'] === 'rateLimits.perHour');
      assert.equal(confirmed.length, 1);
    });

    test('a rail the settings do not cross, or an id that is no rail, is refused with the ones there are', async () => {
      const clientId = parseClientId('confirmno');
      const { confirm } = await confirmable(clientId, { permissions: { 'mail.send': true } });
      assert.match(await refusal(confirm('rateLimits.perHour')), /do not cross rateLimits\.perHour; nothing was recorded \(they cross permissions\.mail\.send\)/);
      const unknown = await refusal(confirm('permissions.mail.sendd'));
      assert.match(unknown, /"permissions\.mail\.sendd" is not a guard rail; the guard rails are: /);
      for (const rail of ['permissions.mail.send', 'rateLimits.perHour', 'approval.offer', 'freeText.acknowledgement']) assert.ok(unknown.includes(rail), rail);
      assert.deepEqual((await registry().listOpsLog({ clientId, actions: [GUARD_RAIL_ACTION] })).filter((entry) => entry.outcome === 'confirmed'), []);
    });

    test('a confirmation stands for one client only', async () => {
      const first = parseClientId('confirmone');
      const second = parseClientId('confirmtwo');
      await (await confirmable(first, WIDER)).confirm('permissions.mail.send');
      await confirmable(second, WIDER);
      assert.equal((await standing(second))('permissions.mail.send'), undefined);
    });

    test('every rail the kernel can report is one confirm accepts by name', () => {
      assert.equal(new Set(guardRailIds()).size, guardRailIds().length);
      assert.ok(guardRailIds().includes('onboarding.ended_early') && guardRailIds().includes('permissions.mail.send'));
    });
  });
});
