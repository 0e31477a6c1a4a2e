import express, { type Router } from 'express';
import * as z from 'zod';
import type { IncidentResponse } from '../services/incidents/incident-response.ts';
import { sendDownload } from './download.ts';
import { parseBody } from './parse-body.ts';
import { actorSchema, freeText } from './request-schemas.ts';

/** One line (a summary, a name) or several (a note, a root cause), in the rule of request-schemas.ts. */
const line = (max: number) => freeText(max);
const text = (max: number) => freeText(max, { multiLine: true });

export const openIncidentSchema = z
  .object({
    severity: z.enum(['critical', 'high', 'medium', 'low']),
    summary: line(500),
    clients: z.array(z.string().max(64)).max(100).default([]),
    actor: actorSchema.default('api'),
  })
  .strict();

export const containSchema = z
  .object({
    kill: z.boolean().default(false),
    rotate: z.boolean().default(false),
    revokeOauth: z.boolean().default(false),
    client: z.string().max(64).optional(),
    reason: text(480).optional(),
    actor: actorSchema.default('api'),
  })
  .strict();

export const evidenceSchema = z.object({ client: z.string().max(64).optional(), actor: actorSchema.default('api') }).strict();
export const evidenceCopyQuerySchema = z.object({ actor: actorSchema.default('api') }).strict();

export const noteSchema = z.object({ text: text(4000), assessment: z.boolean().default(false), actor: actorSchema.default('api') }).strict();

export const confirmSchema = z.object({ scope: text(2000), actor: actorSchema.default('api') }).strict();

export const notifySchema = z
  .object({
    client: z.string().max(64).optional(),
    /** When the client was told; default: now. */
    at: z.iso.datetime({ offset: true }).optional(),
    /** Who told them; default: the actor. */
    by: line(200).optional(),
    channel: z.enum(['email', 'phone', 'video-call', 'in-person', 'portal', 'letter']),
    recipient: line(300).optional(),
    actor: actorSchema.default('api'),
  })
  .strict();

export const closeSchema = z
  .object({ rootCause: text(4000), lessons: text(4000), remediation: text(4000).optional(), containmentOverride: text(1000).optional(), actor: actorSchema.default('api') })
  .strict();

export const reportSchema = z
  .object({
    actor: actorSchema.default('api'),
    client: z.string().min(1).max(63).optional(),
    /** With `client`, of an incident of several clients: show the text written for the whole incident too. */
    includeIncidentText: z.boolean().default(false),
  })
  .strict();

/** `/v1/incidents`: the incident process. No business logic here: parse, call a service, respond. */
export function createIncidentRouter(response: IncidentResponse): Router {
  const router = express.Router();

  router.get('/', async (request, reply) => {
    const all = request.query.all === 'true';
    reply.json({ incidents: await response.incidents.list({ openOnly: !all }) });
  });

  router.post('/', async (request, reply) => {
    const body = parseBody(openIncidentSchema, request.body);
    reply.status(201).json(await response.incidents.open({ severity: body.severity, summary: body.summary, clients: body.clients, actor: body.actor }));
  });

  router.get('/:id', async (request, reply) => {
    reply.json(await response.incidents.get(request.params.id));
  });

  router.post('/:id/contain', async (request, reply) => {
    const body = parseBody(containSchema, request.body);
    const steps = [...(body.rotate ? ['rotate' as const] : []), ...(body.revokeOauth ? ['revoke-oauth' as const] : []), ...(body.kill ? ['kill' as const] : [])];
    reply.json(await response.containment.contain({ id: request.params.id, steps, clientId: body.client, reason: body.reason, actor: body.actor }));
  });

  router.post('/:id/evidence', async (request, reply) => {
    const body = parseBody(evidenceSchema, request.body);
    reply.status(201).json(await response.evidence.seal({ id: request.params.id, clientId: body.client, actor: body.actor }));
  });

  router.get('/:id/evidence/:bundle', async (request, reply) => {
    const query = parseBody(evidenceCopyQuerySchema, request.query);
    const fileName = request.params.bundle.replace(/[^A-Za-z0-9._-]/g, '_').replace(/\.enc$/, '');
    await sendDownload(reply, fileName, (output) => response.evidence.copy({ id: request.params.id, bundle: request.params.bundle, actor: query.actor }, output));
  });

  router.post('/:id/notes', async (request, reply) => {
    const body = parseBody(noteSchema, request.body);
    reply.status(201).json(await response.incidents.note({ id: request.params.id, text: body.text, assessment: body.assessment, actor: body.actor }));
  });

  router.post('/:id/confirm', async (request, reply) => {
    const body = parseBody(confirmSchema, request.body);
    reply.json(await response.incidents.confirm({ id: request.params.id, scope: body.scope, actor: body.actor }));
  });

  router.post('/:id/notify', async (request, reply) => {
    const body = parseBody(notifySchema, request.body);
    reply.json(
      await response.incidents.notify({
        id: request.params.id,
        clientId: body.client,
        at: body.at,
        by: body.by,
        channel: body.channel,
        recipient: body.recipient,
        actor: body.actor,
      }),
    );
  });

  router.post('/:id/close', async (request, reply) => {
    const body = parseBody(closeSchema, request.body);
    reply.json(
      await response.incidents.close({ id: request.params.id, rootCause: body.rootCause, lessons: body.lessons, remediation: body.remediation, containmentOverride: body.containmentOverride, actor: body.actor }),
    );
  });

  router.post('/:id/report', async (request, reply) => {
    const body = parseBody(reportSchema, request.body);
    reply.json(await response.reports.render({ id: request.params.id, actor: body.actor, client: body.client, includeIncidentText: body.includeIncidentText }));
  });

  return router;
}
