import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { Clock } from '../../ports/clock.ts';
import type { IncidentEvidence } from '../../ports/incident-store.ts';
import type { KeyWrapper } from '../../ports/key-wrapper.ts';
import { writeExportArchiveToFile } from '../export/export-archive-file.ts';
import { verifyExportArchive } from '../export/export-archive-verifier.ts';
import type { ExportSigner } from '../export/export-signing-key.ts';
import { checkBundleDigest, openBundle, sha256Of } from './bundle-reader.ts';
import { encryptEvidence } from './evidence-cipher.ts';
import { EVIDENCE_WORK_PREFIX, evidenceBundleId, evidenceFileName, evidenceNamed, evidenceNames } from './evidence-files.ts';
import { collectEvidence, type EvidencePart, type EvidenceSources } from './evidence-parts.ts';
import { INCIDENT_ACTIONS, type IncidentService, type IncidentView } from './incident-service.ts';
import { recordEvidence } from './incident-transitions.ts';
import { incidentForClient } from './report-model.ts';

export interface EvidenceDependencies {
  incidents: IncidentService;
  sources: EvidenceSources;
  /** The fleet's export signer: a bundle is an export archive with a signed manifest. */
  signer(): Promise<ExportSigner>;
  /** Wraps each bundle's data key under its client's key (encryption at rest). */
  keys: KeyWrapper;
  /** Where bundles are kept: `<dir>/<incident>/<client>-<time>-<random>.tar.enc`, owner-only. */
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

/**
 * The incident as one client's bundle holds it: that client's steps, notices, evidence and grants only. The
 * bundle is the client's (encrypted under its key, copied out under its grant, kept until its erasure): the
 * other clients' people and what was done to them stay out, and leave with their own erasure.
 */
function clientView(view: IncidentView, clientId: ClientId): IncidentView {
  return { ...view, incident: incidentForClient(view.incident, clientId), grants: view.grants.filter((grant) => grant.clientId === clientId) };
}

const compactTime = (date: Date) => date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

/**
 * `fleet incident evidence`: seals what the fleet knows of a client's side of an incident into an
 * export-format archive (signed manifest of SHA-256 digests), checks it with the offline verifier,
 * encrypts it at rest under the client's key, and records both digests (of the file kept and of the
 * archive inside) in the incident and the hash-chained ops log. `copy` hands investigators the archive.
 */
export class IncidentEvidenceService {
  private readonly deps: EvidenceDependencies;

  constructor(deps: EvidenceDependencies) {
    this.deps = deps;
  }

  async seal(request: { id: unknown; clientId?: string | undefined; actor: string }): Promise<EvidenceResult> {
    const incident = await this.deps.incidents.require(request.id);
    // Its grants ended at the closing (the audit records would be left out) and its final report was
    // rendered from the bundles it held; a bundle already being sealed when it closed is still recorded.
    if (incident.status === 'closed') {
      throw new FleetError('conflict', `${incident.id} is closed (${incident.closedAt}): it takes no more evidence; the bundles sealed while it was open are listed by fleet incident show ${incident.id}`);
    }
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
    let updated = incident;
    // Each bundle is recorded in the incident as soon as it is sealed: when a later client's fails, the
    // ones before stay listed (to copy, to report from), not files only the ops log knows of.
    for (const clientId of clients) {
      const { parts, ...bundle } = await this.sealOne(incident.id, clientId, signer, request.actor);
      updated = await this.deps.incidents.change(incident.id, (current, now) => recordEvidence(current, bundle, now));
      bundles.push({ ...bundle, parts });
    }
    return { ...(await this.deps.incidents.view(updated)), bundles };
  }

  /**
   * Writes the plaintext archive of one bundle (named by its file name) to `sink`, for investigators: the
   * file must still hash to its recorded SHA-256 and decrypt under its client's key, and the copy is in the
   * ops log (who, which bundle) before a byte goes out. The archive verifies offline with the export key.
   */
  async copy(request: { id: unknown; bundle: unknown; actor: string }, sink: Writable): Promise<void> {
    const incident = await this.deps.incidents.require(request.id);
    const evidence = evidenceNamed(incident.evidence, request.bundle);
    if (evidence === undefined) {
      const names = evidenceNames(incident.evidence);
      throw new FleetError('not_found', `${incident.id} has no evidence bundle ${JSON.stringify(request.bundle)}${names.length === 0 ? ' (none sealed yet)' : `; its bundles: ${names.join(', ')}`}`);
    }
    const name = path.basename(evidence.file);
    const digest = await checkBundleDigest(evidence);
    if (!digest.ok && digest.gone) throw new FleetError('not_found', `${name} is no longer kept: a client's evidence is deleted at its erasure or purge`);
    if (!digest.ok) throw new FleetError('integrity', `${digest.problem}: not copied`);
    const plaintext = await openBundle(evidence, this.deps.keys);
    await this.deps.incidents.log(incident, INCIDENT_ACTIONS.evidenceCopy, request.actor, null, {
      bundle: name,
      sha256: evidence.sha256,
      ...(evidence.archiveSha256 === undefined ? {} : { archiveSha256: evidence.archiveSha256 }),
    }, evidence.clientId);
    this.deps.logger.info('incident evidence copied', { incident: incident.id, client: evidence.clientId, bundle: name });
    await pipeline(plaintext, sink);
  }

  private async sealOne(incidentId: string, clientId: ClientId, signer: ExportSigner, actor: string): Promise<SealedBundle> {
    const directory = path.join(this.deps.evidenceDir, incidentId);
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const workDir = await mkdtemp(path.join(directory, EVIDENCE_WORK_PREFIX));
    try {
      const createdAt = this.deps.clock.now();
      const view = clientView(await this.deps.incidents.view(await this.deps.incidents.require(incidentId)), clientId);
      const { entries, parts } = await collectEvidence(this.deps.sources, { clientId, incidentId, actor, workDir, incidentView: view });
      const file = path.join(directory, evidenceFileName(clientId, compactTime(createdAt), randomBytes(3).toString('hex')));
      const archive = path.join(workDir, 'bundle.tar');
      await writeExportArchiveToFile(archive, { clientId, createdAt, entries, signer, spoolDir: workDir });
      const verification = await verifyExportArchive(createReadStream(archive), signer.publicKeyPem, { clientId });
      if (!verification.ok) {
        throw new FleetError('integrity', `the sealed bundle ${file} does not verify: ${verification.problems.map((p) => p.message).join('; ')}`);
      }
      const archiveSha256 = await sha256Of(archive);
      await encryptEvidence(archive, file, { clientId, bundleId: evidenceBundleId(file), createdAt, keys: this.deps.keys });
      const sha256 = await sha256Of(file);
      const bundle: SealedBundle = {
        clientId,
        file,
        sha256,
        archiveSha256,
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
        archiveSha256,
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
