import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IncidentEvidence } from '../../../orchestrator/src/ports/incident-store.ts';
import { chooseEvidence } from '../../../orchestrator/src/cli/evidence-choice.ts';

const bundle = (clientId: string, time: string): IncidentEvidence => ({
  clientId,
  file: `/home/fleet/incidents/INC-3/${clientId}-${time}-a1b2c3.tar.enc`,
  sha256: 'a'.repeat(64),
  bytes: 10,
  signingKeyId: 'k',
  at: '2026-12-01T10:00:00.000Z',
  by: 'jake',
});

void test('evidence-copy takes the bundle named, else the latest of the client, and never guesses between clients', () => {
  const [acmeOld, acmeNew, beta] = [bundle('acme', '20261201T100000Z'), bundle('acme', '20261202T100000Z'), bundle('beta', '20261201T110000Z')];
  assert.equal(chooseEvidence('INC-3', [acmeOld, acmeNew], {}), acmeNew, 'one client: its latest');
  assert.equal(chooseEvidence('INC-3', [acmeOld, acmeNew, beta], { client: 'acme' }), acmeNew);
  assert.equal(chooseEvidence('INC-3', [acmeOld, acmeNew, beta], { bundle: 'acme-20261201T100000Z-a1b2c3.tar.enc' }), acmeOld);
  const refusals: [Parameters<typeof chooseEvidence>[2], IncidentEvidence[], string, RegExp][] = [
    [{}, [acmeOld, beta], 'invalid_input', /bundles of acme, beta: choose one with --client or --bundle/],
    [{}, [], 'not_found', /INC-3 has no sealed evidence yet/],
    [{ client: 'gamma' }, [acmeOld, beta], 'not_found', /no bundle of gamma; its bundles: acme-20261201T100000Z-a1b2c3.tar.enc, beta-/],
    [{ bundle: 'acme-x.tar.enc' }, [acmeOld], 'not_found', /no bundle "acme-x.tar.enc"/],
    [{ bundle: 'beta-20261201T110000Z-a1b2c3.tar.enc', client: 'acme' }, [acmeOld, beta], 'invalid_input', /is beta's bundle, not acme's/],
  ];
  for (const [choice, evidence, code, message] of refusals) {
    assert.throws(() => chooseEvidence('INC-3', evidence, choice), (error: unknown) => (error as { code?: string }).code === code && message.test((error as Error).message), JSON.stringify(choice));
  }
});
