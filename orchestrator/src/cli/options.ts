import { readFile } from 'node:fs/promises';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AgentRuntimeKind } from './orchestrator-client.ts';

export function runtimeOption(value: string): AgentRuntimeKind {
  if (value !== 'docker' && value !== 'kubernetes') {
    throw new FleetError(
      'invalid_input',
      `--runtime must be docker or kubernetes (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

/** Actions that go to the ops log say why. */
export function requiredReason(reason: string | undefined): string {
  if (!reason?.trim())
    throw new FleetError('invalid_input', 'a reason is required (--reason "…"): it goes to the ops log');
  return reason;
}

export function wholeHoursOption(value: string): number {
  const hours = Number(value);
  if (!Number.isInteger(hours))
    throw new FleetError('invalid_input', '--hours must be a whole number from 1 to 24');
  return hours;
}

export async function readConfigFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new FleetError('invalid_input', `cannot read config file ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
