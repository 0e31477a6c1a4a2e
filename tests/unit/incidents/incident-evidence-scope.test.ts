// One client's evidence bundle of an incident with several clients is that client's (encrypted under its
// key, copied out under its grant, kept until its erasure): it holds neither who at the other clients was
// told, nor what was done to them, nor their support grants.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { readBundleEntry } from '../../../orchestrator/src/services/incidents/bundle-reader.ts';
import { INCIDENT_ACTIONS } from '../../../orchestrator/src/services/incidents/incident-service.ts';
import { MemoryKeyWrapper } from '../../helpers/memory-key-wrapper.ts';
import { evidenceServiceOver, signerHome } from './incident-evidence-bed.ts';
import { incidentBed } from './memory-incident-bed.ts';

const home = signerHome('incident-evidence-scope-');

void test("a client's bundle holds none of the incident's other clients' notices, steps or grants", async () => {
  const bed = incidentBed();
  const { incident } = await bed.incidents.open({ severity: 'critical', summary: 'odd sends', clients: ['acme', 'beta'], actor: 'alice' });
  await bed.activeGrant('acme', 'alice', incident.id);
  await bed.activeGrant('beta', 'bob', incident.id);
  await bed.incidents.notify({ id: incident.id, clientId: 'beta', channel: 'phone', recipient: 'Dana Whitfield', actor: 'alice' });
  await bed.incidents.log(incident, INCIDENT_ACTIONS.contain, 'alice', `${incident.id}: odd sends`, { step: 'kill', detail: 'killed' }, 'beta');
  const keys = new MemoryKeyWrapper([parseClientId('acme')]);
  const service = evidenceServiceOver(bed, { signer: home.signer, keys, evidenceDir: path.join(home.dir, 'evidence') });
  const sealed = await service.seal({ id: incident.id, clientId: 'acme', actor: 'alice' });
  const bundle = sealed.bundles[0];
  assert.ok(bundle);
  const record = (await readBundleEntry(bundle, 'incident/incident.json', keys))?.toString('utf8') ?? '';
  const slice = (await readBundleEntry(bundle, 'ops-log/entries.jsonl', keys))?.toString('utf8') ?? '';
  assert.match(record, /"clients": \[\s*"acme"\s*\]/);
  assert.doesNotMatch(record, /Dana Whitfield|"bob"|"beta"/);
  assert.match(slice, /"action":"incident-open"/, "the incident's own entries are in the slice");
  assert.doesNotMatch(slice, /Dana Whitfield|"bob"|"clientId":"beta"/);
});
