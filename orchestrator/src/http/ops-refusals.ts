import type { ErrorRequestHandler } from 'express';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { Registry } from '../ports/registry.ts';
import { opsCallerOf } from './admin-auth.ts';

export const OPS_REFUSED_ACTION = 'ops-refused';

/**
 * Records every refusal of the ops API (no session, an ended one, a code too old for client data, another
 * member's support grant, a wrong sign-in code) in the hash-chained ops log with its time, the member (or
 * `anonymous`), the request and why, then passes the error on to be answered. A refusal is about the
 * caller, not a client: it carries no client id, so each client's own trail stays what happened to it.
 */
export function logOpsRefusals(registry: Registry, logger: Logger): ErrorRequestHandler {
  return (error: unknown, request, response, next) => {
    if (!isFleetError(error) || (error.code !== 'unauthorized' && error.code !== 'forbidden')) {
      next(error);
      return;
    }
    const caller = opsCallerOf(response);
    const claimed = response.locals['claimedMember'];
    const actor = caller?.principal?.member ?? (typeof claimed === 'string' ? claimed : 'anonymous');
    registry
      .appendOpsLog({
        actor,
        action: OPS_REFUSED_ACTION,
        clientId: null,
        reason: error.message.slice(0, 500),
        outcome: 'refused',
        details: {
          method: request.method,
          path: request.originalUrl.split('?')[0] ?? '',
          transport: caller?.transport ?? 'unknown',
          code: error.code,
        },
      })
      .catch((failure: unknown) => logger.error('could not record a refused ops request', { error: failure }))
      .finally(() => next(error));
  };
}
