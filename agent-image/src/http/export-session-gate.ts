import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { ControlAuth } from '../services/runtime/control-api.ts';

/** What the gate needs of the export sessions (DataExportSessions): unavailable without a session. */
export interface ExportSessionAuth {
  authenticate(bearer: string | null): Promise<void>;
}

function unauthorized(): FleetError {
  return new FleetError('unauthorized', 'missing or wrong control token');
}

function isUnavailable(error: unknown): boolean {
  return isFleetError(error) && error.code === 'unavailable';
}

/**
 * The control token check of the data-export routes, answered the same whether a session is open or not
 * until the caller is authenticated. With a session open, the session checks the token (against the hash
 * its own introduction read). Without one, the agent checks it: only a caller it authenticates learns that
 * no session is open (unavailable). A token nobody can check (no session, and the agent not introduced, as
 * in a reader container) is refused like a wrong one: answering 503 there would tell a stranger the state.
 *
 * `sessions` gives the export sessions, or null when they could not be set up (then none is open).
 */
export function exportSessionGate(sessions: () => Promise<ExportSessionAuth | null>, agent: ControlAuth): ControlAuth {
  return {
    authenticate: async (bearer) => {
      if (bearer === null) throw unauthorized();
      const current = await sessions();
      if (current !== null) {
        try {
          await current.authenticate(bearer);
          return;
        } catch (error) {
          if (!isUnavailable(error)) throw error;
        }
      }
      try {
        await agent.authenticate(bearer);
      } catch (error) {
        throw isUnavailable(error) ? unauthorized() : error;
      }
      throw new FleetError('unavailable', 'no data export session: introduce one first');
    },
  };
}
