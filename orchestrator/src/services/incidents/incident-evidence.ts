import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { Clock } from '../../ports/clock.ts';
import type { IncidentEvidence } from '../../ports/incident-store.ts';
import { writeExportArchiveToFile } from '../export/export-archive-file.ts';
import { verifyExportArchive } from '../export/export-archive-verifier.ts';
import type { ExportSigner } from '../export/export-signing-key.ts';
import { sha256Of } from './bundle-reader.ts';
import { evidenceFileName } from './evidence-files.ts';
import { collectEvidence, type EvidencePart, type EvidenceSources } from './evidence-parts.ts';
import { INCIDENT_ACTIONS, type IncidentService, type IncidentView } from './incident-service.ts';
import { recordEvidence } from './incident-transitions.ts';

export interface EvidenceDependencies {
  incidents: IncidentService;
  sources: EvidenceSources;
  /** The fleet's export signer: a bundle is an export archive with a signed manifest. */
  signer(): Promise<ExportSigner>;
  /** Where bundles are kept: `<dir>/<incident>/<client>-<time>.tar`, owner-only. */
  evidenceDir: string;
  clock: Clock;
  logger: Logger;
}

export interface SealedBundle extends IncidentEvidence {
  parts: EvidencePart[];
}

export interface EvidenceResult extends IncidentView {
  bundles: SealedBundle[];
}

const compactTime = (date: Date) => date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

/**
 * `fleet incident evidence`: seals what the fleet knows of a client's side of an incident into an
 * export-format archive (signed manifest of SHA-256 digests), checks it with the offline verifier, and
 * records the archive's own digest in the incident and the hash-chained ops log.
 */
export class IncidentEvidenceService {
  private readonly deps: EvidenceDependencies;

  constructor(deps: EvidenceDependencies) {
    this.deps = deps;
  }

  async seal(request: { id: unknown; clientId?: string | undefined; actor: string }): Promise<EvidenceResult> {
    const incident = await this.deps.incidents.require(request.id);
    if (incident.clients.length === 0) {
      throw new FleetError('invalid_input', `${incident.id} names no client: an evidence bundle is sealed per affected client`);
    }
    let clients: ClientId[] = incident.clients.map((client) => parseClientId(client));
    if (request.clientId !== undefined) {
      const clientId = parseClientId(request.clientId);
      if (!clients.includes(clientId)) throw new FleetError('invalid_input', `${incident.id} does not concern ${clientId}`);
      clients = [clientId];
    }
    const signer = await this.deps.signer();
    const bundles: SealedBundle[] = [];
    for (const clientId of clients) bundles.push(await this.sealOne(incident.id, clientId, signer, request.actor));
    const updated = await this.deps.incidents.change(incident.id, (current, now) =>
      bundles.reduce((record, { parts: _parts, ...bundle }) => recordEvidence(record, bundle, now), current),
    );
    return { ...(await this.deps.incidents.view(updated)), bundles };
  }

  private async sealOne(incidentId: string, clientId: ClientId, signer: ExportSigner, actor: string): Promise<SealedBundle> {
    const directory = path.join(this.deps.evidenceDir, incidentId);
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const workDir = await mkdtemp(path.join(directory, '.work-'));
    try {
      const createdAt = this.deps.clock.now();
      const view = await this.deps.incidents.view(await this.deps.incidents.require(incidentId));
      const { entries, parts } = await collectEvidence(this.deps.sources, { clientId, incidentId, actor, workDir, incidentView: view });
      const file = path.join(directory, evidenceFileName(clientId, compactTime(createdAt), randomBytes(3).toString('hex')));
      await writeExportArchiveToFile(file, { clientId, createdAt, entries, signer, spoolDir: workDir });
      const sha256 = await sha256Of(file);
      const verification = await verifyExportArchive(createReadStream(file), signer.publicKeyPem, { clientId });
      if (!verification.ok) {
        throw new FleetError('integrity', `the sealed bundle ${file} does not verify: ${verification.problems.map((p) => p.message).join('; ')}`);
      }
      const bundle: SealedBundle = {
        clientId,
        file,
        sha256,
        bytes: (await stat(file)).size,
        signingKeyId: signer.keyId,
        at: createdAt.toISOString(),
        by: actor,
        parts,
      };
      const incident = await this.deps.incidents.require(incidentId);
      await this.deps.incidents.log(incident, INCIDENT_ACTIONS.evidence, actor, null, {
        file,
        sha256,
        bytes: bundle.bytes,
        signingKeyId: signer.keyId,
        parts: parts.map((part) => ({ part: part.part, included: part.file !== null })),
      }, clientId);
      this.deps.logger.info('incident evidence sealed', { incident: incidentId, client: clientId, sha256 });
      return bundle;
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }
}
