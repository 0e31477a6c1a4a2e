// A containment step or an evidence part that fails records the error's message: in the incident, the ops
// log, the CLI's output and the client's post-incident report. An error that echoes a credential (a revoke
// URL with its token, an Authorization header) must not carry it into any of them.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import {
  collectEvidence,
  type EvidenceSources,
} from '../../../orchestrator/src/services/incidents/evidence-parts.ts';
import { IncidentContainmentService } from '../../../orchestrator/src/services/incidents/incident-containment.ts';
import { reportServiceOver } from './incident-evidence-bed.ts';
import { incidentBed } from './memory-incident-bed.ts';

/** A token-shaped value built at run time (no secret-looking literal in the source). */
const token = ['ya29', 'Q'.repeat(12) + '7'.repeat(12) + 'z'.repeat(12)].join('.');
const bearer = ['Bearer', 'k'.repeat(20) + '9'.repeat(20)].join(' ');
const echoing = `revoke failed: POST https://oauth2.example/revoke?token=${token} answered 400 (sent Authorization: ${bearer})`;

void test('a failed containment step keeps what failed, without a credential its error echoed, in the record, the ops log and the report', async () => {
  const bed = incidentBed();
  const { incident } = await bed.incidents.open({
    severity: 'critical',
    summary: 'odd sends',
    clients: ['acme'],
    actor: 'ops',
  });
  const service = new IncidentContainmentService({
    incidents: bed.incidents,
    registry: bed.registry as unknown as Registry,
    clock: bed.clock,
    logger: createSilentLogger(),
    kill: { kill: () => Promise.reject(new Error(echoing)) },
    rotate: { rotate: () => Promise.reject(new Error('not asked for')) },
    oauth: { revoke: () => Promise.reject(new Error('not asked for')) },
  });
  const result = await service.contain({ id: incident.id, steps: ['kill'], actor: 'ops' });
  const detail = result.steps[0]?.detail ?? '';
  assert.equal(result.steps[0]?.outcome, 'failed');
  assert.match(
    detail,
    /^revoke failed: POST https:\/\/oauth2\.example\/revoke\?token=\[redacted\] answered 400/,
    'what failed is kept',
  );

  const report = await reportServiceOver(bed).render({ id: incident.id, actor: 'ops' });
  const everything =
    JSON.stringify([result, await bed.store.get(incident.id), bed.registry.entries]) +
    report.markdown +
    report.html;
  for (const secret of [token, bearer.split(' ')[1] ?? ''])
    assert.ok(!everything.includes(secret), 'no credential in the record, the ops log or the report');
});

void test('a credential is masked even when the error is longer than the detail kept', async () => {
  const bed = incidentBed();
  const { incident } = await bed.incidents.open({
    severity: 'high',
    summary: 'odd sends',
    clients: ['acme'],
    actor: 'ops',
  });
  // The token straddles the point where the detail is cut: a cut first would leave a fragment no rule knows.
  const long = `${'x'.repeat(488)} ${bearer} ${'y'.repeat(200)}`;
  const service = new IncidentContainmentService({
    incidents: bed.incidents,
    registry: bed.registry as unknown as Registry,
    clock: bed.clock,
    logger: createSilentLogger(),
    kill: { kill: () => Promise.reject(new Error(long)) },
    rotate: { rotate: () => Promise.reject(new Error('not asked for')) },
    oauth: { revoke: () => Promise.reject(new Error('not asked for')) },
  });
  const result = await service.contain({ id: incident.id, steps: ['kill'], actor: 'ops' });
  const detail = result.steps[0]?.detail ?? '';
  assert.ok(detail.length <= 500);
  assert.ok(!/Bearer k/.test(detail), `no fragment of the credential: ${detail.slice(470)}`);
});

void test('an evidence part that could not be collected says why, without a credential its error echoed', async () => {
  const sources: EvidenceSources = {
    registry: {
      readOpsLogPages: async function* () {},
      opsLogHeadCheckpoint: () => Promise.resolve(null),
    } as unknown as Registry,
    runtime: { inspectAgent: () => Promise.resolve(null) },
    agents: { verifyAudit: () => Promise.reject(new Error(echoing)), exportAudit: () => Promise.resolve() },
    authorize: () => Promise.resolve(),
    forensics: null,
    metricsSnapshot: () => Promise.reject(new Error(echoing)),
  };
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'incident-failure-detail-'));
  try {
    const { parts } = await collectEvidence(sources, {
      clientId: 'acme' as ClientId,
      incidentId: 'INC-1',
      actor: 'ops',
      workDir,
      incidentView: {},
    });
    const failed = parts.filter((part) => part.note.startsWith('not collected:'));
    assert.deepEqual(
      failed.map((part) => part.part),
      ['audit chain verification', 'orchestrator metrics'],
    );
    for (const part of failed) {
      assert.match(part.note, /revoke\?token=\[redacted\]/);
      assert.ok(!part.note.includes(token) && !part.note.includes(bearer.split(' ')[1] ?? ''));
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
});
