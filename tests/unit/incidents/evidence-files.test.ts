import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { deleteClientEvidence, evidenceFileName } from '../../../orchestrator/src/services/incidents/evidence-files.ts';

void test("a client's evidence bundles go from every incident; another client's, even one whose id starts the same, stay", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'evidence-files-'));
  try {
    const acme = parseClientId('acme');
    const acmeEu = parseClientId('acme-eu');
    const files = {
      'INC-1': [evidenceFileName(acme, '20261201T100000Z', 'a1b2c3'), evidenceFileName(acmeEu, '20261201T100000Z', 'd4e5f6'), 'notes.txt'],
      'INC-2': [evidenceFileName(acme, '20261202T110000Z', '0f0f0f'), 'acme-not-a-bundle.tar'],
    };
    for (const [incident, names] of Object.entries(files)) {
      await mkdir(path.join(dir, incident));
      for (const name of names) await writeFile(path.join(dir, incident, name), 'x');
    }
    assert.equal(await deleteClientEvidence(dir, acme), 2);
    assert.deepEqual((await readdir(path.join(dir, 'INC-1'))).sort(), ['acme-eu-20261201T100000Z-d4e5f6.tar', 'notes.txt']);
    assert.deepEqual(await readdir(path.join(dir, 'INC-2')), ['acme-not-a-bundle.tar']);
    assert.equal(await deleteClientEvidence(dir, acme), 0, 'idempotent');
    assert.equal(await deleteClientEvidence(path.join(dir, 'missing'), acme), 0, 'no incidents yet');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
