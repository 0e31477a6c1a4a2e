import express, { type Router } from 'express';
import * as z from 'zod';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Orchestrator } from '../orchestrator.ts';
import { recordMailboxConsent } from '../services/settings/grant-status.ts';
import { parseBody } from './parse-body.ts';
import { actorSchema, decimalNumber, freeText, guardRailConfirmBodySchema } from './request-schemas.ts';

const confirm = z.array(z.string().min(1).max(100)).max(50).default([]);
const reason = freeText(1000, { multiLine: true, required: 'a reason is required' });
const changeBody = z
  .object({
    baseVersion: z.number().int().min(0),
    /** The whole document as YAML (what `fleet config show` prints). Over 1 MiB is refused by name. */
    yaml: z.string().max(4 * 1024 * 1024),
    reason,
    confirm,
    actor: actorSchema.default('api'),
  })
  .strict();
const rollbackBody = z
  // The version the rollback was decided on: without it, a rail confirmed by id would also cover changes made since.
  .object({ toVersion: z.number().int().min(1), baseVersion: z.number().int().min(0), reason, confirm, actor: actorSchema.default('api') })
  .strict();
const historyQuery = z.object({ limit: decimalNumber.pipe(z.number().min(1).max(1000)).default(100) }).strict();
const versionPath = z.object({ version: decimalNumber.pipe(z.number().min(1)) });
const grantBody = z
  .object({
    provider: z.enum(['gmail', 'outlook']),
    scopes: z.array(z.string().min(1).max(300)).max(50),
    secretVersion: z.number().int().min(1),
    actor: actorSchema.default('api'),
  })
  .strict();

/**
 * The client's settings for ops (`fleet config show|set|history|rollback|confirm`): the agent keeps the versions;
 * every change is ops-logged with its author and the guard rails it crossed. Parse, call, respond.
 */
export function createSettingsRouter(orchestrator: Orchestrator): Router {
  const router = express.Router();
  const operator = (actor: string) => ({ author: { kind: 'operator' as const, id: actor }, actor, via: 'cli' as const });

  router.get('/clients/:id/settings', async (request, response) => {
    response.json(await orchestrator.settings.show(request.params.id));
  });

  router.get('/clients/:id/settings/history', async (request, response) => {
    const query = parseBody(historyQuery, request.query);
    response.json({ versions: await orchestrator.settings.history(request.params.id, query.limit) });
  });

  router.get('/clients/:id/settings/versions/:version', async (request, response) => {
    const path = parseBody(versionPath, { version: request.params.version });
    response.json(await orchestrator.settings.version(request.params.id, path.version));
  });

  router.put('/clients/:id/settings', async (request, response) => {
    const body = parseBody(changeBody, request.body);
    response.json(
      await orchestrator.settings.change({
        clientId: request.params.id,
        baseVersion: body.baseVersion,
        document: { yaml: body.yaml },
        reason: body.reason,
        confirm: body.confirm,
        ...operator(body.actor),
      }),
    );
  });

  router.post('/clients/:id/settings/rollback', async (request, response) => {
    const body = parseBody(rollbackBody, request.body);
    response.json(
      await orchestrator.settings.rollback({
        clientId: request.params.id,
        toVersion: body.toVersion,
        baseVersion: body.baseVersion,
        reason: body.reason,
        confirm: body.confirm,
        ...operator(body.actor),
      }),
    );
  });

  // `fleet config confirm`: a rail the current settings already cross, accepted after the fact.
  router.post('/clients/:id/settings/confirmations', async (request, response) => {
    const body = parseBody(guardRailConfirmBodySchema, request.body);
    response.json(
      await orchestrator.settings.confirmGuardRail({ clientId: request.params.id, rail: body.rail, reason: body.reason, actor: body.actor, via: 'cli' }),
    );
  });

  // `fleet connect` records the scopes the consent granted: the settings compare them with what they need.
  router.post('/clients/:id/mailbox-grants', async (request, response) => {
    const body = parseBody(grantBody, request.body);
    const clientId = parseClientId(request.params.id);
    if (!(await orchestrator.registry.getClient(clientId))) throw new FleetError('not_found', `no client "${clientId}" in the registry`);
    await recordMailboxConsent(orchestrator.registry, { clientId, provider: body.provider, scopes: body.scopes, secretVersion: body.secretVersion, actor: body.actor });
    response.status(204).end();
  });

  return router;
}
