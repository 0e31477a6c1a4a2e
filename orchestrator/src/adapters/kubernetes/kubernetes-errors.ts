import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { CommandResult } from '../process/command-runner.ts';

/** Last meaningful line of helm/kubectl stderr, cut short: it goes into error messages and logs. */
function detailOf(result: CommandResult): string {
  const lines = result.stderr.split('\n').map((line) => line.trim()).filter(Boolean);
  const detail = lines.at(-1) ?? `exit code ${result.code}`;
  return detail.length > 500 ? `${detail.slice(0, 500)}…` : detail;
}

/**
 * Translates a failed helm/kubectl run into a FleetError by what the API server or helm said; `what` says
 * what we were doing. Unknown failures are `unavailable` and retryable: most are a cluster hiccup.
 */
export function translateCommandFailure(result: CommandResult, what: string): FleetError {
  const detail = detailOf(result);
  const text = result.stderr;
  const cause = { code: result.code, stderr: result.stderr.slice(0, 4000) };
  if (/\(NotFound\)|not found/i.test(text)) return new FleetError('not_found', `${what}: ${detail}`, { cause });
  if (/\(Forbidden\)|forbidden|denied the request/i.test(text)) return new FleetError('forbidden', `${what}: ${detail}`, { cause });
  if (/\(Unauthorized\)|Unauthorized|provide credentials/i.test(text)) return new FleetError('unauthorized', `${what}: ${detail}`, { cause });
  if (/invalid ownership metadata|\(AlreadyExists\)|already exists|\(Conflict\)/i.test(text)) {
    return new FleetError('conflict', `${what}: ${detail}`, { cause });
  }
  if (/another operation \(install\/upgrade\/rollback\) is in progress|being terminated/i.test(text)) {
    return new FleetError('busy', `${what}: ${detail}`, { cause, retryable: true });
  }
  if (/values don't meet the specifications of the schema|\(Invalid\)|is invalid/i.test(text)) {
    return new FleetError('invalid_input', `${what}: ${detail}`, { cause });
  }
  if (/timed out|context deadline exceeded|timeout/i.test(text)) return new FleetError('timeout', `${what}: ${detail}`, { cause, retryable: true });
  return new FleetError('unavailable', `${what}: ${detail}`, { cause, retryable: true });
}

/** Parses a kubectl/helm JSON answer; garbage is an internal error, never a silent empty result. */
export function parseJsonOutput(stdout: string, what: string): unknown {
  try {
    return JSON.parse(stdout) as unknown;
  } catch (error) {
    throw new FleetError('internal', `${what}: unreadable JSON from kubectl (${stdout.slice(0, 80)}…)`, { cause: error });
  }
}
