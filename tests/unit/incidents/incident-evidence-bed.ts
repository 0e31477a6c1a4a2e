// The evidence and report services of the in-memory incident bed: a temporary home with the fleet's export
// signer in it, evidence sealed there with stand-ins for the engine and the agent, and reports rendered
// from the bed (with or without sealed evidence to read).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { EncryptedFileStore, loadOrCreateMasterKey } from '../../../orchestrator/src/adapters/embedded-vault/encrypted-file-store.ts';
import type { KeyWrapper } from '../../../orchestrator/src/ports/key-wrapper.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { loadOrCreateExportSigner, type ExportSigner } from '../../../orchestrator/src/services/export/export-signing-key.ts';
import type { EvidenceSources } from '../../../orchestrator/src/services/incidents/evidence-parts.ts';
import { IncidentEvidenceService } from '../../../orchestrator/src/services/incidents/incident-evidence.ts';
import { IncidentReportService } from '../../../orchestrator/src/services/incidents/incident-report.ts';
import { START, type IncidentBed } from './memory-incident-bed.ts';

/**
 * Hooks for the enclosing describe block (or file): a temporary home (named after `prefix`) holding an
 * export signer, removed afterwards. Read `home.dir` and `home.signer` inside tests.
 */
export function signerHome(prefix: string): { readonly dir: string; readonly signer: ExportSigner } {
  let dir: string | undefined;
  let signer: ExportSigner | undefined;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    const keyDir = path.join(dir, 'export-key');
    signer = await loadOrCreateExportSigner(new EncryptedFileStore(keyDir, await loadOrCreateMasterKey(keyDir)), START);
  });
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      if (dir === undefined) throw new Error('signerHome is read before its hook ran');
      return dir;
    },
    get signer() {
      if (signer === undefined) throw new Error('signerHome is read before its hook ran');
      return signer;
    },
  };
}

export interface EvidenceOver {
  signer: ExportSigner;
  keys: KeyWrapper;
  evidenceDir: string;
  /** The agent's audit export; by default one that writes nothing. */
  exportAudit?: EvidenceSources['agents']['exportAudit'];
}

/** Evidence sealing over `bed`: no container to inspect, an agent whose audit chain verifies, no forensics. */
export function evidenceServiceOver(bed: IncidentBed, options: EvidenceOver): IncidentEvidenceService {
  return new IncidentEvidenceService({
    incidents: bed.incidents,
    sources: {
      registry: bed.registry as unknown as Registry,
      runtime: { inspectAgent: () => Promise.resolve(null) },
      agents: {
        verifyAudit: () => Promise.resolve({ verification: { valid: true }, checkpoint: null }),
        exportAudit: options.exportAudit ?? (() => Promise.resolve()),
      },
      authorize: (clientId, member, purpose, scope) => bed.support.authorize(clientId, member, purpose, scope),
      forensics: null,
      metricsSnapshot: () => Promise.resolve('fleet_up 1\n'),
    },
    signer: () => Promise.resolve(options.signer),
    keys: options.keys,
    evidenceDir: options.evidenceDir,
    clock: bed.clock,
    logger: createSilentLogger(),
  });
}

/**
 * Reports over `bed`. With `sealed`, the signer and keys its evidence was sealed with; without, no evidence
 * was sealed and neither the signer nor the keys are asked for.
 */
export function reportServiceOver(bed: IncidentBed, sealed?: { signer: ExportSigner; keys: KeyWrapper }): IncidentReportService {
  return new IncidentReportService({
    incidents: bed.incidents,
    registry: bed.registry as unknown as Registry,
    signer: sealed === undefined ? () => Promise.reject(new Error('no evidence was sealed: the signer is not asked for')) : () => Promise.resolve(sealed.signer),
    keys: sealed?.keys ?? ({} as never),
    clock: bed.clock,
    clocks: { timeZone: 'UTC' },
  });
}
