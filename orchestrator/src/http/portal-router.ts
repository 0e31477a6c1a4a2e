import express, { type Router } from 'express';
import * as z from 'zod';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Orchestrator } from '../orchestrator.ts';
import { parseBody } from './parse-body.ts';
import { actorSchema } from './request-schemas.ts';

const inviteBodySchema = z
  .object({
    email: z.string().trim().min(3).max(320),
    print: z.boolean().default(false),
    actor: actorSchema.default('api'),
  })
  .strict();

/** The ops side of the client portal: enrolment invitations (`fleet portal invite`). */
export function createPortalRouter(orchestrator: Orchestrator): Router {
  const router = express.Router();

  router.post('/clients/:id/portal-invites', async (request, response) => {
    const body = parseBody(inviteBodySchema, request.body);
    if (!orchestrator.portal) throw new FleetError('unavailable', 'the client portal is not running in this orchestrator');
    response
      .status(201)
      .json(await orchestrator.portal.invites.invite({ clientId: request.params.id, email: body.email, print: body.print, actor: body.actor }));
  });

  return router;
}
