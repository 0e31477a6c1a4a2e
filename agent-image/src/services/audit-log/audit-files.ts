import { readdir } from 'node:fs/promises';
import { journalDirectoryExists } from './journal-directory.ts';

const FILE_PATTERN = /^audit-(\d{4}-\d{2}-\d{2})\.log$/;

/** `audit-YYYY-MM-DD.log` for the UTC day of an ISO timestamp. */
export function auditFileName(day: string): string {
  return `audit-${day}.log`;
}

/** UTC day (YYYY-MM-DD) of an ISO timestamp or date. */
export function utcDay(at: string | Date): string {
  return (typeof at === 'string' ? new Date(at) : at).toISOString().slice(0, 10);
}

export interface AuditFile {
  name: string;
  day: string;
}

/**
 * The directory's audit files, oldest day first; other files (quarantined tails) are ignored. A directory
 * that is a symbolic link or not a directory is FleetError('integrity') (journal-directory.ts).
 */
export async function listAuditFiles(directory: string): Promise<AuditFile[]> {
  if (!(await journalDirectoryExists(directory))) return [];
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: AuditFile[] = [];
  for (const name of names) {
    const match = FILE_PATTERN.exec(name);
    if (match?.[1] !== undefined) files.push({ name, day: match[1] });
  }
  return files.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
}
