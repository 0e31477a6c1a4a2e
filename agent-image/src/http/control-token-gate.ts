import type express from 'express';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { ControlRouteFamily } from '../observability/agent-metrics.ts';
import type { ControlAuth } from '../services/runtime/control-api.ts';
import { presentedBearer } from './bearer-token.ts';
import type { ControlAuthRefusals } from './control-auth-refusals.ts';

/**
 * Lets the request through only with the control token (`auth`). A refused one is reported to
 * `refusals`, and its answer closes the connection: a caller without the token can neither trickle the
 * body it announced into a kept-alive connection nor try again on the same one.
 */
export async function requireControlToken(
  auth: ControlAuth,
  request: express.Request,
  response: express.Response,
  route: ControlRouteFamily,
  refusals: ControlAuthRefusals,
): Promise<void> {
  const presented = presentedBearer(request);
  try {
    await auth.authenticate(presented.token);
  } catch (error) {
    if (isFleetError(error) && error.code === 'unauthorized') {
      refusals.refused(request, route, presented.token === null ? presented.reason : 'wrong');
      response.set('Connection', 'close');
    }
    throw error;
  }
}
