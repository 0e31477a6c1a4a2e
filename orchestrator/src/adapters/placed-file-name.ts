import { FleetError } from '@agent-fleet/kernel/fleet-error';

/** A file placed for an agent is a plain name in its data directory (or a ConfigMap key): never a path. */
export function checkPlacedFileName(fileName: string): void {
  if (!/^[A-Za-z0-9._-]{1,253}$/.test(fileName) || fileName === '.' || fileName === '..') {
    throw new FleetError('invalid_input', `cannot place ${JSON.stringify(fileName)}: a file name is letters, digits, ".", "_" and "-"`);
  }
}
