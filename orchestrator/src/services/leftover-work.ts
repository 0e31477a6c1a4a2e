import type { Dirent } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { EXPORT_SPOOL_PREFIX } from './export/entry-spool.ts';
import { EVIDENCE_WORK_PREFIX, evidenceDirectory } from './incidents/evidence-files.ts';

/** Where a client export spools its entries in the fleet home. */
export const exportSpoolDirectory = (homeDir: string): string => path.join(homeDir, 'spool');

async function directoriesIn(directory: string): Promise<Dirent[]> {
  try {
    return (await readdir(directory, { withFileTypes: true })).filter((entry) => entry.isDirectory());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Removes the work directories a service of this home left when it stopped in the middle of an export or
 * of sealing incident evidence (a crash, a kill -9, a full disk): export spools (sealed under a key that
 * died with that process, so only their space is lost) and evidence work directories (the plain archive
 * and parts before encryption: client data in the clear, which no erasure would find). Safe only while no
 * other process uses the home: the service calls it right after taking the home's lock. Returns what it
 * removed, relative to the home.
 */
export async function removeLeftoverWork(homeDir: string): Promise<string[]> {
  const leftovers: string[] = [];
  const spool = exportSpoolDirectory(homeDir);
  for (const entry of await directoriesIn(spool)) {
    if (entry.name.startsWith(EXPORT_SPOOL_PREFIX)) leftovers.push(path.join(spool, entry.name));
  }
  const evidence = evidenceDirectory(homeDir);
  for (const incident of await directoriesIn(evidence)) {
    for (const entry of await directoriesIn(path.join(evidence, incident.name))) {
      if (entry.name.startsWith(EVIDENCE_WORK_PREFIX)) leftovers.push(path.join(evidence, incident.name, entry.name));
    }
  }
  for (const leftover of leftovers) await rm(leftover, { recursive: true, force: true });
  return leftovers.map((leftover) => path.relative(homeDir, leftover));
}
