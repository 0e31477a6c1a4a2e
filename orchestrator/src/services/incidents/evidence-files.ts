import type { Dirent } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { IncidentEvidence } from '../../ports/incident-store.ts';

/** Where sealed evidence bundles are kept in the fleet home: `<dir>/<incident>/<client>-<time>-<random>.tar.enc`. */
export const evidenceDirectory = (homeDir: string): string => path.join(homeDir, 'incidents');

/**
 * The prefix of a bundle's work directory beside it while it is sealed: the plain archive and the parts
 * collected for it are there until the bundle is encrypted (removed at the service's start when a crash
 * left one: leftover-work.ts).
 */
export const EVIDENCE_WORK_PREFIX = '.work-';

/**
 * The name of one encrypted bundle of the client (its id, the sealing time, a random suffix), so `acme`
 * never matches `acme-eu`'s. Bundles sealed before evidence was encrypted end in `.tar`.
 */
export const evidenceFileName = (clientId: ClientId, compactTime: string, suffix: string): string => `${clientId}-${compactTime}-${suffix}.tar.enc`;

/** The bundles of an incident by file name (what `fleet incident show` lists and `evidence-copy` takes). */
export const evidenceNames = (evidence: readonly IncidentEvidence[]): string[] => evidence.map((bundle) => path.basename(bundle.file));

/** The incident's bundle with this file name, if any. */
export const evidenceNamed = (evidence: readonly IncidentEvidence[], name: unknown): IncidentEvidence | undefined =>
  evidence.find((bundle) => path.basename(bundle.file) === name);

/** A bundle's name without its extension: the id its encryption header is bound to. */
export const evidenceBundleId = (fileName: string): string => path.basename(fileName).replace(/\.tar(\.enc)?$/, '');

const isBundleOf = (clientId: ClientId, name: string): boolean =>
  name.startsWith(`${clientId}-`) && /^\d{8}T\d{6}Z-[0-9a-f]{6}\.tar(\.enc)?$/.test(name.slice(clientId.length + 1));

/**
 * Deletes every sealed evidence bundle of a client, in every incident (the client's erasure or purge: a
 * bundle holds its audit export, ops-log entries and agent logs). The incidents keep each bundle's SHA-256
 * and the ops log its sealing. Returns how many were deleted.
 */
export async function deleteClientEvidence(evidenceDir: string, clientId: ClientId): Promise<number> {
  let incidents: Dirent[];
  try {
    incidents = await readdir(evidenceDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  let deleted = 0;
  for (const incident of incidents.filter((entry) => entry.isDirectory())) {
    const directory = path.join(evidenceDir, incident.name);
    for (const name of (await readdir(directory)).filter((candidate) => isBundleOf(clientId, candidate))) {
      await rm(path.join(directory, name), { force: true });
      deleted += 1;
    }
  }
  return deleted;
}
