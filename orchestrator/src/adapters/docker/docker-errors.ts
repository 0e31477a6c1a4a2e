import { FleetError } from '@agent-fleet/kernel/fleet-error';

interface DockerApiError {
  statusCode?: number;
  json?: { message?: string } | null;
  message?: string;
}

/** Translates a Docker Engine API error into a FleetError; `what` says what we were doing. */
export function translateDockerError(error: unknown, what: string): FleetError {
  if (error instanceof FleetError) return error;
  const apiError = error as DockerApiError;
  const detail = engineMessageOf(error);
  switch (apiError.statusCode) {
    case 404:
      return new FleetError('not_found', `${what}: ${detail}`, { cause: error });
    case 409:
      return new FleetError('conflict', `${what}: ${detail}`, { cause: error });
    case 400:
      return new FleetError('invalid_input', `${what}: ${detail}`, { cause: error });
    case undefined:
      return new FleetError('unavailable', `${what}: Docker engine unreachable (${detail})`, { cause: error, retryable: true });
    default:
      return new FleetError('unavailable', `${what}: ${detail}`, { cause: error, retryable: (apiError.statusCode ?? 500) >= 500 });
  }
}

/**
 * A container create's error: the engine answers 404 both for a missing image ("No such image: …") and for
 * a missing network ("network … not found"), so its message, not its status, says which is missing.
 */
export function translateCreateError(error: unknown, image: string, what: string): FleetError {
  if (statusCodeOf(error) === 404 && /\bno such image\b/i.test(engineMessageOf(error))) {
    return new FleetError('not_found', `image ${image} is not present on this host: run \`make images\``, { cause: error });
  }
  return translateDockerError(error, what);
}

/** The engine's own message, without dockerode's prefix (which names a 404 on create "no such container"). */
function engineMessageOf(error: unknown): string {
  const apiError = error as DockerApiError;
  return apiError.json?.message ?? apiError.message ?? String(error);
}

export function statusCodeOf(error: unknown): number | undefined {
  return (error as DockerApiError).statusCode;
}
