import express, { type Router } from 'express';
import * as z from 'zod';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Orchestrator } from '../orchestrator.ts';
import { sendDownload } from './download.ts';
import { parseBody } from './parse-body.ts';
import { actorSchema } from './request-schemas.ts';

const exportQuerySchema = z
  .object({
    /** The operator exporting: needs an active support grant for the client. */
    actor: actorSchema.default('api'),
  })
  .strict();
const actorBodySchema = z.object({ actor: actorSchema.default('api') }).strict();
const restoreBodySchema = z.object({ backupId: z.string().min(1).max(100), actor: actorSchema.default('api') }).strict();
const erasureBodySchema = z
  .object({
    requestId: z.string().min(1).max(64),
    /** When the request reached the fleet (the 30-day deadline counts from it); default now. */
    receivedAt: z.iso.datetime({ offset: true }).optional(),
    actor: actorSchema.default('api'),
  })
  .strict();

/**
 * The client's data from export to erasure: complete exports (a signed tar streamed as it is written),
 * encrypted backups and restores, erasure requests and erasures with their certificates. Parse, call a
 * service, respond.
 */
export function createDataLifecycleRouter(orchestrator: Orchestrator): Router {
  const router = express.Router();
  const lifecycle = orchestrator.dataLifecycle;

  router.get('/export-key', (_request, response) => {
    response.json(lifecycle.exports.exportKey);
  });

  router.get('/clients/:id/export', async (request, response) => {
    const query = parseBody(exportQuerySchema, request.query);
    // Checked before it goes into a header: a quote or a line break in the path must be a 400, not a 500.
    const clientId = parseClientId(request.params.id);
    await sendDownload(response, `${clientId}-export.tar`, (output) =>
      lifecycle.exports.export({ clientId, requester: { kind: 'operator', member: query.actor } }, output),
    );
  });

  router.get('/clients/:id/backups', async (request, response) => {
    response.json({ backups: await lifecycle.backups.list(request.params.id) });
  });

  router.post('/clients/:id/backups', async (request, response) => {
    const body = parseBody(actorBodySchema, request.body);
    response.status(201).json(await lifecycle.backups.backup({ clientId: request.params.id, actor: body.actor }));
  });

  router.post('/clients/:id/restore', async (request, response) => {
    const body = parseBody(restoreBodySchema, request.body);
    response.json(await lifecycle.restore.restore({ clientId: request.params.id, backupId: body.backupId, actor: body.actor }));
  });

  router.post('/clients/:id/erasure-requests', async (request, response) => {
    const body = parseBody(erasureBodySchema, request.body);
    response.status(201).json(await lifecycle.erasure.recordRequest({ clientId: request.params.id, ...erasureInput(body) }));
  });

  router.post('/clients/:id/erase', async (request, response) => {
    const body = parseBody(erasureBodySchema, request.body);
    response.json(await lifecycle.erasure.erase({ clientId: request.params.id, ...erasureInput(body) }));
  });

  router.get('/erasure-requests', async (_request, response) => {
    response.json({ requests: await lifecycle.erasure.openRequests() });
  });

  return router;
}

function erasureInput(body: z.output<typeof erasureBodySchema>): { requestId: string; actor: string; receivedAt?: Date } {
  if (body.receivedAt === undefined) return { requestId: body.requestId, actor: body.actor };
  const receivedAt = new Date(body.receivedAt);
  if (Number.isNaN(receivedAt.getTime())) throw new FleetError('invalid_input', 'receivedAt is not a time');
  return { requestId: body.requestId, actor: body.actor, receivedAt };
}
