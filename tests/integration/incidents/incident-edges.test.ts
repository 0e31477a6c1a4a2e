// The incident process at its edges, through the `fleet` CLI on a real fleet: evidence without a support
// grant and after a kill, copies of it refused when the bundle is unknown, altered or gone, a containment step that fails, the link of support grants to open incidents,
// and refused input.
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { verifyExportArchive } from '../../../orchestrator/src/services/export/export-archive-verifier.ts';
import type { ContainResult } from '../../../orchestrator/src/services/incidents/incident-containment.ts';
import type { EvidenceResult } from '../../../orchestrator/src/services/incidents/incident-evidence.ts';
import type { IncidentView } from '../../../orchestrator/src/services/incidents/incident-service.ts';
import { uniqueClientId } from '../../helpers/fleet-fixture.ts';
import { startIncidentBed, type IncidentBed } from './incident-harness.ts';

const ADMIN = 'boss@client.example';

describe('incidents at their edges', () => {
  let bed: IncidentBed;
  const used: ClientId[] = [];

  before(async () => {
    bed = await startIncidentBed();
  });
  after(() => bed.close(used));

  /** A client in the registry without a container (enough for grants and refusals). */
  async function registerClient(): Promise<ClientId> {
    const clientId = uniqueClientId('ie');
    used.push(clientId);
    const configYaml = `client: ${clientId}\nadmins: [${ADMIN}]\n`;
    const claim = await bed.fleet.orchestrator.registry.claimForProvisioning(
      { id: clientId, provider: 'gmail', admins: [ADMIN], configYaml, onboardingStartedAt: new Date().toISOString() },
      `op-${clientId}`,
      new Date(),
      60_000,
    );
    assert.equal(claim.outcome, 'claimed');
    return clientId;
  }

  const partsOf = (result: EvidenceResult) => Object.fromEntries((result.bundles[0]?.parts ?? []).map((p) => [p.part, p]));

  test('evidence is sealed as it is: no audit records without a grant, no agent parts once it is killed', { timeout: 300_000 }, async () => {
    const clientId = uniqueClientId('ie');
    used.push(clientId);
    assert.equal((await bed.fleet.orchestrator.provision.provision({ clientId, actor: 'test' })).outcome, 'provisioned');
    const { incident } = await bed.cliJson<IncidentView>('incident', 'open', '--severity', 'high', '--summary', 'credential exposure', '--client', clientId);

    const running = await bed.cliJson<EvidenceResult>('incident', 'evidence', incident.id);
    const first = partsOf(running);
    assert.equal(first['audit export']?.file, null);
    assert.match(first['audit export']?.note ?? '', /support grant/);
    assert.ok(first['audit chain verification']?.file, 'the chain verification holds no client data: always sealed');

    const contained = await bed.cliJson<ContainResult>('incident', 'contain', incident.id, '--kill', '--reason', 'exposed token');
    assert.deepEqual(contained.steps.map((s) => [s.step, s.outcome]), [['kill', 'success']]);
    const stopped = await bed.cliJson<EvidenceResult>('incident', 'evidence', incident.id);
    const second = partsOf(stopped);
    assert.equal(second['audit chain verification']?.file, null);
    assert.match(second['audit chain verification']?.note ?? '', /not collected: unavailable/);
    assert.match(second['agent metrics']?.note ?? '', /not running/);
    assert.ok(second['agent logs']?.file, 'a stopped container still has its logs');
    assert.ok(second['runtime inspect']?.file);
    const work = await mkdtemp(path.join(os.tmpdir(), 'fleet-incident-edges-'));
    try {
      for (const bundle of [...running.bundles, ...stopped.bundles]) {
        const copy = path.join(work, `${path.basename(bundle.file)}.tar`);
        await bed.cliJson('incident', 'evidence-copy', incident.id, '--bundle', path.basename(bundle.file), '--out', copy);
        const verification = await verifyExportArchive(createReadStream(copy), await bed.publicKeyPem(), { clientId });
        assert.equal(verification.ok, true, JSON.stringify(verification.problems));
      }
      assert.equal((await bed.cliJson<IncidentView>('incident', 'show', incident.id)).incident.evidence.length, 2);

      // A copy is refused, and nothing is written, for a bundle that is not the incident's, one changed since it was sealed, one gone.
      const copies = () => bed.fleet.orchestrator.registry.listOpsLog({ clientId }).then((log) => log.filter((e) => e.action === 'incident-evidence-copy').length);
      const copiedBefore = await copies();
      const [olderBundle, latestBundle] = [running.bundles[0]!, stopped.bundles[0]!];
      const refusals: [string[], number, RegExp][] = [
        [['--bundle', 'someone-20261201T000000Z-abcdef.tar.enc'], 3, /has no bundle "someone-20261201T000000Z-abcdef.tar.enc"; its bundles: /],
        [['--client', 'someone-else'], 3, /has no bundle of someone-else/],
      ];
      const bytes = await readFile(latestBundle.file);
      bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 1;
      await writeFile(latestBundle.file, bytes);
      refusals.push([[], 7, /changed since it was sealed/]);
      await rm(olderBundle.file);
      refusals.push([['--bundle', path.basename(olderBundle.file)], 3, /is no longer kept/]);
      for (const [args, code, message] of refusals) {
        const out = path.join(work, 'refused.tar');
        const result = await bed.cli('incident', 'evidence-copy', incident.id, ...args, '--out', out);
        assert.equal(result.code, code, `${args.join(' ')}: ${result.err}`);
        assert.match(result.err, message);
        await assert.rejects(stat(out), { code: 'ENOENT' });
      }
      assert.equal(await copies(), copiedBefore, 'a refused copy is not logged as taken');
      assert.deepEqual((await readdir(work)).filter((name) => name.startsWith('.')), [], 'no partial file left');
    } finally {
      await rm(work, { recursive: true, force: true });
    }

    // Rotation needs a running agent: the step fails, is recorded, and the command says so (exit 6).
    const failed = await bed.cli('--json', 'incident', 'contain', incident.id, '--rotate');
    assert.equal(failed.code, 6, failed.err);
    const result = JSON.parse(failed.out) as ContainResult;
    assert.deepEqual(result.steps.map((s) => [s.step, s.outcome]), [['rotate', 'failed']]);
    assert.match(result.steps[0]?.detail ?? '', /killed/);
    const logged = (await bed.fleet.orchestrator.registry.listOpsLog({ clientId })).filter((e) => e.action === 'incident-contain').map((e) => [e.details['step'], e.outcome]);
    assert.deepEqual(logged, [['kill', 'success'], ['rotate', 'failed']]);
  });

  test('a support grant must name an open incident that concerns the client', async () => {
    const [acme, beta] = [await registerClient(), await registerClient()];
    const { incident } = await bed.cliJson<IncidentView>('incident', 'open', '--severity', 'medium', '--summary', 'odd replies', '--client', acme);
    const request = (clientId: string, id: string) => bed.cli('support', 'request', clientId, '--incident', id, '--reason', 'look at the audit log');
    const other = await request(beta, incident.id);
    assert.equal(other.code, 4);
    assert.match(other.err, new RegExp(`${incident.id} does not concern ${beta}`));
    assert.equal((await request(acme, incident.id)).code, 0);
    const fleetWide = await bed.cliJson<IncidentView>('incident', 'open', '--severity', 'low', '--summary', 'orchestrator host patched late');
    assert.equal((await request(beta, fleetWide.incident.id)).code, 0, 'an incident naming no client covers any client');

    await bed.cliJson('incident', 'close', incident.id, '--root-cause', 'a misread rule', '--lessons', 'review rules weekly');
    const closed = await request(acme, incident.id);
    assert.equal(closed.code, 4);
    assert.match(closed.err, /is closed: support access needs an open incident/);
    const list = await bed.cliJson<IncidentView[]>('incident', 'list');
    assert.ok(!list.some((view) => view.incident.id === incident.id), 'list shows the incidents not closed');
    assert.ok((await bed.cliJson<IncidentView[]>('incident', 'list', '--all')).some((view) => view.incident.id === incident.id));
  });

  test('bad input is refused with a clear line and the usual exit codes, and changes nothing', async () => {
    const clientId = await registerClient();
    const before = (await bed.fleet.orchestrator.registry.listOpsLog()).length;
    const cases: [string[], number, RegExp][] = [
      [['incident', 'open', '--severity', 'urgent', '--summary', 'x'], 2, /--severity must be one of critical, high, medium, low/],
      [['incident', 'open', '--severity', 'high', '--summary', 'x', '--client', 'no-such-client'], 3, /no client "no-such-client"/],
      [['incident', 'show', 'INC-999999'], 3, /no incident INC-999999/],
      [['incident', 'show', 'acme'], 2, /an incident id looks like INC-7/],
    ];
    for (const [args, code, message] of cases) {
      const result = await bed.cli(...args);
      assert.equal(result.code, code, `${args.join(' ')}: ${result.err}`);
      assert.match(result.err, message);
    }
    const { incident } = await bed.cliJson<IncidentView>('incident', 'open', '--severity', 'high', '--summary', 'x', '--client', clientId);
    const more: [string[], number, RegExp][] = [
      [['incident', 'contain', incident.id], 2, /choose at least one step/],
      [['incident', 'notify', incident.id, '--channel', 'pigeon'], 2, /--channel must be one of/],
      [['incident', 'notify', incident.id, '--channel', 'email', '--client', 'someone-else'], 2, /does not concern someone-else/],
      [['incident', 'notify', incident.id, '--channel', 'email', '--at', '2099-01-01T00:00:00Z'], 2, /in the future/],
      [['incident', 'confirm', incident.id, '--scope', ' '], 2, /scope/],
    ];
    for (const [args, code, message] of more) {
      const result = await bed.cli(...args);
      assert.equal(result.code, code, `${args.join(' ')}: ${result.err}`);
      assert.match(result.err, message);
    }
    const entries = (await bed.fleet.orchestrator.registry.listOpsLog()).slice(before).map((e) => e.action);
    assert.deepEqual(entries, ['incident-open'], 'only the one valid step was logged');
  });
});
