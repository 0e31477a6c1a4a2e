// Sealing the evidence of an incident with several clients when one of them cannot be sealed (its key
// is gone: the client was erased meanwhile): the bundles sealed before stay recorded in the incident,
// the failed one leaves no file and no plaintext behind, and its audit records are read only under a
// grant for this incident.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { MemoryKeyWrapper } from '../../helpers/memory-key-wrapper.ts';
import { evidenceServiceOver, signerHome } from './incident-evidence-bed.ts';
import { incidentBed, START, type IncidentBed } from './memory-incident-bed.ts';

describe('evidence of an incident with several clients', () => {
  const home = signerHome('incident-evidence-');

  function evidenceService(bed: IncidentBed, keys: MemoryKeyWrapper, evidenceDir: string, exported: string[]) {
    return evidenceServiceOver(bed, {
      signer: home.signer,
      keys,
      evidenceDir,
      exportAudit: (clientId, _query, sink) => {
        exported.push(String(clientId));
        sink.write(`${JSON.stringify({ seq: 1, timestamp: START.toISOString(), action_type: 'email_sent', actor: 'agent', result: 'success' })}\n`);
        return Promise.resolve();
      },
    });
  }

  test('a client that fails keeps the bundles sealed before it recorded, and leaves nothing of its own', async () => {
    const bed = incidentBed();
    const { incident } = await bed.incidents.open({ severity: 'critical', summary: 'odd sends', clients: ['acme', 'beta'], actor: 'alice' });
    await bed.activeGrant('acme', 'alice', incident.id);
    // beta's key is gone (erased while the incident was open): its bundle cannot be encrypted.
    const keys = new MemoryKeyWrapper([parseClientId('acme')]);
    const evidenceDir = path.join(home.dir, 'partial');
    const exported: string[] = [];
    await assert.rejects(
      evidenceService(bed, keys, evidenceDir, exported).seal({ id: incident.id, actor: 'alice' }),
      (error: unknown) => isFleetError(error) && error.code === 'not_found' && /beta has no data key/.test(error.message),
    );

    const recorded = (await bed.store.get(incident.id))?.evidence ?? [];
    assert.deepEqual(recorded.map((bundle) => bundle.clientId), ['acme'], 'acme’s sealed bundle is in the incident');
    const files = await readdir(path.join(evidenceDir, incident.id));
    assert.deepEqual(files, [path.basename(recorded[0]?.file ?? '')], 'one bundle, no work directory, nothing of beta');
    assert.equal(bed.registry.entries.filter((entry) => entry.action === 'incident-evidence').length, 1);
    assert.deepEqual(exported, ['acme'], 'beta’s audit records were not read: no grant of alice names it');
  });

  test('the audit records are read under a grant for this incident only', async () => {
    const bed = incidentBed();
    const earlier = (await bed.incidents.open({ severity: 'high', summary: 'odd replies', clients: ['acme'], actor: 'alice' })).incident;
    const { incident } = await bed.incidents.open({ severity: 'critical', summary: 'odd sends', clients: ['acme'], actor: 'alice' });
    await bed.activeGrant('acme', 'alice', earlier.id);
    const exported: string[] = [];
    const sealed = await evidenceService(bed, new MemoryKeyWrapper([parseClientId('acme')]), path.join(home.dir, 'scoped'), exported).seal({ id: incident.id, actor: 'alice' });
    assert.deepEqual(exported, [], 'the grant for another incident does not open this one’s audit records');
    const audit = sealed.bundles[0]?.parts.find((part) => part.part === 'audit export');
    assert.equal(audit?.file, null);
    assert.match(audit?.note ?? '', new RegExp(`no active support grant for ${incident.id}`));
    assert.ok(!bed.registry.entries.some((entry) => entry.action === 'support-access'), 'no access logged');
  });
});
