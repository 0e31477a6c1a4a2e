// A closed incident takes no more evidence, as it takes no more containment or notes: its support grants
// ended at the closing (a bundle sealed now would leave the audit records out), and its final report has
// been rendered from the bundles it held. Nothing is written, recorded or logged.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { MemoryKeyWrapper } from '../../helpers/memory-key-wrapper.ts';
import { evidenceServiceOver, signerHome } from './incident-evidence-bed.ts';
import { incidentBed } from './memory-incident-bed.ts';

describe('evidence of a closed incident', () => {
  const home = signerHome('incident-evidence-closed-');

  test('is refused before anything is collected or written', async () => {
    const bed = incidentBed();
    const { incident } = await bed.incidents.open({ severity: 'high', summary: 'odd sends', clients: ['acme'], actor: 'ops' });
    await bed.incidents.close({ id: incident.id, rootCause: 'a misread rule', lessons: 'review rules weekly', actor: 'ops' });
    const evidenceDir = path.join(home.dir, 'closed');
    let exported = 0;
    const service = evidenceServiceOver(bed, {
      signer: home.signer,
      keys: new MemoryKeyWrapper([parseClientId('acme')]),
      evidenceDir,
      exportAudit: () => {
        exported += 1;
        return Promise.resolve();
      },
    });
    await assert.rejects(
      service.seal({ id: incident.id, actor: 'ops' }),
      (error: unknown) => isFleetError(error) && error.code === 'conflict' && /INC-1 is closed .*: it takes no more evidence/.test(error.message),
    );
    assert.deepEqual((await bed.store.get(incident.id))?.evidence, []);
    assert.equal(bed.registry.entries.filter((entry) => entry.action === 'incident-evidence').length, 0);
    assert.equal(exported, 0);
    await assert.rejects(readdir(evidenceDir), (error: NodeJS.ErrnoException) => error.code === 'ENOENT', 'no directory, no bundle');
  });
});
