// One client's evidence bundle of an incident with several clients is that client's (encrypted under its
// key, copied out under its grant, kept until its erasure): it holds neither who at the other clients was
// told, nor what was done to them, nor their support grants.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { EncryptedFileStore, loadOrCreateMasterKey } from '../../../orchestrator/src/adapters/embedded-vault/encrypted-file-store.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { loadOrCreateExportSigner, type ExportSigner } from '../../../orchestrator/src/services/export/export-signing-key.ts';
import { readBundleEntry } from '../../../orchestrator/src/services/incidents/bundle-reader.ts';
import { INCIDENT_ACTIONS } from '../../../orchestrator/src/services/incidents/incident-service.ts';
import { IncidentEvidenceService } from '../../../orchestrator/src/services/incidents/incident-evidence.ts';
import { MemoryKeyWrapper } from '../../helpers/memory-key-wrapper.ts';
import { incidentBed, START } from './memory-incident-bed.ts';

let home: string;
let signer: ExportSigner;
before(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'incident-evidence-scope-'));
  const keyDir = path.join(home, 'export-key');
  signer = await loadOrCreateExportSigner(new EncryptedFileStore(keyDir, await loadOrCreateMasterKey(keyDir)), START);
});
after(async () => {
  await rm(home, { recursive: true, force: true });
});

void test("a client's bundle holds none of the incident's other clients' notices, steps or grants", async () => {
  const bed = incidentBed();
  const { incident } = await bed.incidents.open({ severity: 'critical', summary: 'odd sends', clients: ['acme', 'beta'], actor: 'alice' });
  await bed.activeGrant('acme', 'alice', incident.id);
  await bed.activeGrant('beta', 'bob', incident.id);
  await bed.incidents.notify({ id: incident.id, clientId: 'beta', channel: 'phone', recipient: 'Dana Whitfield', actor: 'alice' });
  await bed.incidents.log(incident, INCIDENT_ACTIONS.contain, 'alice', `${incident.id}: odd sends`, { step: 'kill', detail: 'killed' }, 'beta');
  const keys = new MemoryKeyWrapper([parseClientId('acme')]);
  const service = new IncidentEvidenceService({
    incidents: bed.incidents,
    sources: {
      registry: bed.registry as unknown as Registry,
      runtime: { inspectAgent: () => Promise.resolve(null) },
      agents: { verifyAudit: () => Promise.resolve({ verification: { valid: true }, checkpoint: null }), exportAudit: () => Promise.resolve() },
      authorize: (clientId, member, purpose, scope) => bed.support.authorize(clientId, member, purpose, scope),
      forensics: null,
      metricsSnapshot: () => Promise.resolve('fleet_up 1\n'),
    },
    signer: () => Promise.resolve(signer),
    keys,
    evidenceDir: path.join(home, 'evidence'),
    clock: bed.clock,
    logger: createSilentLogger(),
  });
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
