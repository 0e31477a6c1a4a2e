import { randomBytes } from 'node:crypto';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/** `20261204T030000Z-1a2b3c4d`: UTC second of the snapshot, then 8 random hex digits. */
const BACKUP_ID_PATTERN = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-([0-9a-f]{8})$/;

export const BACKUP_ID_RULE =
  'a backup id looks like 20261204T030000Z-1a2b3c4d (UTC time, "-", 8 hex digits)';

/** A new backup id for a snapshot taken at `at`; ids sort in time order. */
export function newBackupId(at: Date, random: () => Buffer = () => randomBytes(4)): string {
  const stamp = at
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replaceAll(/[-:]/g, '');
  return `${stamp}-${random().toString('hex').slice(0, 8)}`;
}

/** The time a backup id encodes, or null when `value` is not a backup id. */
export function backupIdTime(value: string): Date | null {
  const match = BACKUP_ID_PATTERN.exec(value);
  if (!match) return null;
  const [, year, month, day, hour, minute, second] = match;
  const iso = `${year}-${month}-${day}T${hour}:${minute}:${second}.000Z`;
  const time = new Date(iso);
  // Rejects dates that Date would roll over (2026-02-30 becomes March 2nd).
  return Number.isNaN(time.getTime()) || time.toISOString() !== iso ? null : time;
}

/** Checks a backup id from outside (a CLI argument, a file name); throws `invalid_input` otherwise. */
export function parseBackupId(value: unknown): string {
  if (typeof value !== 'string' || backupIdTime(value) === null) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : String(value);
    throw new FleetError('invalid_input', `invalid backup id ${shown}: ${BACKUP_ID_RULE}`);
  }
  return value;
}
