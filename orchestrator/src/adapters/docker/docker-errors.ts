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
  const detail = apiError.json?.message ?? apiError.message ?? String(error);
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

export function statusCodeOf(error: unknown): number | undefined {
  return (error as DockerApiError).statusCode;
}
