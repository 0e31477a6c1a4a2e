import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { deleteClientEvidence, evidenceBundleId, evidenceFileName } from '../../../orchestrator/src/services/incidents/evidence-files.ts';

void test("a client's evidence bundles go from every incident; another client's, even one whose id starts the same, stay", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'evidence-files-'));
  try {
    const acme = parseClientId('acme');
    const acmeEu = parseClientId('acme-eu');
    const files = {
      'INC-1': [evidenceFileName(acme, '20261201T100000Z', 'a1b2c3'), evidenceFileName(acmeEu, '20261201T100000Z', 'd4e5f6'), 'notes.txt'],
      // A bundle sealed before evidence was encrypted (a plain `.tar`) goes too.
      'INC-2': [evidenceFileName(acme, '20261202T110000Z', '0f0f0f'), 'acme-20261130T090000Z-abcdef.tar', 'acme-not-a-bundle.tar'],
    };
    for (const [incident, names] of Object.entries(files)) {
      await mkdir(path.join(dir, incident));
      for (const name of names) await writeFile(path.join(dir, incident, name), 'x');
    }
    assert.equal(await deleteClientEvidence(dir, acme), 3);
    assert.deepEqual((await readdir(path.join(dir, 'INC-1'))).sort(), ['acme-eu-20261201T100000Z-d4e5f6.tar.enc', 'notes.txt']);
    assert.deepEqual(await readdir(path.join(dir, 'INC-2')), ['acme-not-a-bundle.tar']);
    assert.equal(await deleteClientEvidence(dir, acme), 0, 'idempotent');
    assert.equal(await deleteClientEvidence(path.join(dir, 'missing'), acme), 0, 'no incidents yet');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test('a bundle id is its file name without the extension, for encrypted and older bundles alike', () => {
  const acme = parseClientId('acme');
  assert.equal(evidenceFileName(acme, '20261201T100000Z', 'a1b2c3'), 'acme-20261201T100000Z-a1b2c3.tar.enc');
  assert.equal(evidenceBundleId('/home/fleet/incidents/INC-1/acme-20261201T100000Z-a1b2c3.tar.enc'), 'acme-20261201T100000Z-a1b2c3');
  assert.equal(evidenceBundleId('acme-20261201T100000Z-a1b2c3.tar'), 'acme-20261201T100000Z-a1b2c3');
});
