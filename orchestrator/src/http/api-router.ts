import express, { type Router } from 'express';
import * as z from 'zod';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { Orchestrator } from '../orchestrator.ts';
import type { OpsLogEntry } from '../ports/registry.ts';
import { sendEntryPages } from './streamed-entries.ts';
import { planMailboxConsent } from '../services/connect-mailbox.ts';
import { readAgentReport } from '../services/agent-report.ts';
import { describeClient } from '../services/describe-client.ts';
import { verifyStoredOpsLog } from '../services/ops-log-verification.ts';
import { listApprovalsForOperator } from '../services/operator-approvals.ts';
import { createPortalRouter } from './portal-router.ts';
import { REVIEW_RESOLUTIONS, listReviewQueue, resolveReviewEntry, reviewMessageId } from '../services/review-queue.ts';
import { createDataLifecycleRouter } from './data-lifecycle-router.ts';
import { createIncidentRouter } from './incident-router.ts';
import { createSettingsRouter } from './settings-router.ts';
import { jsonBody } from './json-body.ts';
import { parseBody } from './parse-body.ts';
import {
  actorOnlySchema,
  approvalDecisionSchema,
  auditExportQuerySchema,
  mailboxConsentQuerySchema,
  deprovisionBodySchema,
  provisionBodySchema,
  actorSchema,
  reasonedActionSchema,
  secretBodySchema,
  supportRequestBodySchema,
} from './request-schemas.ts';

const reviewResolveBodySchema = z
  .object({ messageId: reviewMessageId, resolution: z.enum(REVIEW_RESOLUTIONS), actor: actorSchema.default('api') })
  .strict();

/**
 * `GET /ops-log`: every entry, or one client's (a repeated or empty `client` is refused, not read as "all"),
 * optionally only those at or after `since` and before `until` (an incident's window).
 */
const opsLogQuerySchema = z
  .object({ client: z.string().min(1).optional(), since: z.iso.datetime({ offset: true }).optional(), until: z.iso.datetime({ offset: true }).optional() })
  .strict();

/** Whether an entry's time lies in [since, until); an entry whose time does not parse is in every window. */
function inWindow(at: string, window: { since?: string | undefined; until?: string | undefined }): boolean {
  const time = Date.parse(at);
  if (Number.isNaN(time)) return true;
  return (window.since === undefined || time >= Date.parse(window.since)) && (window.until === undefined || time < Date.parse(window.until));
}

async function* entriesInWindow(pages: AsyncIterable<OpsLogEntry[]>, window: { since?: string | undefined; until?: string | undefined }): AsyncGenerator<OpsLogEntry[]> {
  for await (const page of pages) yield window.since === undefined && window.until === undefined ? page : page.filter((entry) => inWindow(entry.at, window));
}

/** Entries of the ops log the server reads at a time for `GET /ops-log`: it holds a page, not the log. */
const OPS_LOG_SHOW_PAGE_SIZE = 500;

/** The JSON API for the fleet's operations. No business logic here: parse, call a service, respond. */
export function createApiRouter(orchestrator: Orchestrator): Router {
  const router = express.Router();
  router.use(jsonBody('2mb'));

  router.get('/clients', async (_request, response) => {
    const clients = await orchestrator.registry.listClients();
    response.json({
      clients: clients.map(({ configYaml: _c, operationId: _o, operationHeartbeatAt: _h, ...client }) => client),
    });
  });

  router.get('/clients/:id', async (request, response) => {
    const description = await describeClient(orchestrator, request.params.id);
    const clientId = description.client.id;
    const [onboarding, agentReport] = await Promise.all([
      orchestrator.doctor.summaryOf(clientId),
      description.agent?.running === true ? readAgentReport(() => orchestrator.agents.status(clientId)) : undefined,
    ]);
    response.json({ ...description, onboarding, ...(agentReport === undefined ? {} : { agentReport }) });
  });

  // Progress is streamed as JSON lines, one event per step, then one line with the result or the error.
  router.post('/clients/:id/provision', async (request, response) => {
    const body = parseBody(provisionBodySchema, request.body);
    response.status(200).type('application/x-ndjson');
    const send = (line: unknown) => response.write(`${JSON.stringify(line)}\n`);
    send({ plan: orchestrator.provision.plannedSteps() });
    try {
      const result = await orchestrator.provision.provision(
        { clientId: request.params.id, configYaml: body.config, actor: body.actor, runtime: body.runtime, confirm: body.confirm },
        (event) => send({ event }),
      );
      send({ result });
    } catch (error) {
      send({ error: { code: isFleetError(error) ? error.code : 'internal', message: (error as Error).message } });
    }
    response.end();
  });

  router.post('/clients/:id/deprovision', async (request, response) => {
    const body = parseBody(deprovisionBodySchema, request.body);
    response.json(
      await orchestrator.deprovision.deprovision({
        clientId: request.params.id,
        purge: body.purge,
        reason: body.reason,
        actor: body.actor,
      }),
    );
  });

  router.post('/clients/:id/kill', async (request, response) => {
    const body = parseBody(reasonedActionSchema, request.body);
    response.json(await orchestrator.kill.kill({ clientId: request.params.id, reason: body.reason, actor: body.actor }));
  });

  router.post('/clients/:id/revive', async (request, response) => {
    const body = parseBody(reasonedActionSchema, request.body);
    response.json(await orchestrator.revive.revive({ clientId: request.params.id, reason: body.reason, actor: body.actor }));
  });

  router.post('/clients/:id/rotate', async (request, response) => {
    const body = parseBody(reasonedActionSchema, request.body);
    response.json(await orchestrator.rotate.rotate({ clientId: request.params.id, reason: body.reason, actor: body.actor }));
  });

  router.post('/clients/:id/resume', async (request, response) => {
    const body = parseBody(actorOnlySchema, request.body);
    await orchestrator.agents.resume(request.params.id, body.actor);
    response.status(204).end();
  });

  router.get('/clients/:id/secrets', async (request, response) => {
    response.json({ secrets: await orchestrator.secrets.list(request.params.id) });
  });

  router.put('/clients/:id/secrets/:name', async (request, response) => {
    const body = parseBody(secretBodySchema, request.body);
    response.json(
      await orchestrator.secrets.set({ clientId: request.params.id, name: request.params.name, value: body.value, actor: body.actor }),
    );
  });

  // The scopes `fleet connect` asks for, from the client's config; the consent runs beside the operator.
  router.get('/clients/:id/mailbox-consent', async (request, response) => {
    const query = parseBody(mailboxConsentQuerySchema, request.query);
    response.json(await planMailboxConsent(orchestrator, request.params.id, query.provider));
  });

  router.get('/clients/:id/approvals', async (request, response) => {
    const status = typeof request.query.status === 'string' ? request.query.status : 'pending';
    const actor = typeof request.query.actor === 'string' ? request.query.actor : null;
    response.json(await listApprovalsForOperator(orchestrator, request.params.id, status, actor, new Date()));
  });

  router.post('/clients/:id/approvals/:approvalId/decision', async (request, response) => {
    const { actor, ...decision } = parseBody(approvalDecisionSchema, request.body);
    response.json(await orchestrator.agents.decide(request.params.id, request.params.approvalId, decision, actor));
  });

  // The agent's review queue: message ids, reasons and ages, never content (no support grant needed).
  router.get('/clients/:id/review', async (request, response) => {
    const { registry, runtime, control, secretBackend } = orchestrator;
    response.json(await listReviewQueue({ registry, runtime, control, secrets: secretBackend.store }, request.params.id));
  });

  // A member resolves a parked message: the agent audits it (who, which, what), the ops log names the member.
  router.post('/clients/:id/review/resolve', async (request, response) => {
    const body = parseBody(reviewResolveBodySchema, request.body);
    const { registry, runtime, control, secretBackend } = orchestrator;
    response.json(
      await resolveReviewEntry({ registry, runtime, control, secrets: secretBackend.store }, request.params.id, {
        messageId: body.messageId,
        resolution: body.resolution,
        by: body.actor,
        actor: body.actor,
      }),
    );
  });

  router.get('/clients/:id/audit/verify', async (request, response) => {
    response.json(await orchestrator.agents.verifyAudit(request.params.id));
  });

  router.post('/clients/:id/audit/reanchor', async (request, response) => {
    const body = parseBody(reasonedActionSchema, request.body);
    response.json(await orchestrator.agents.reanchorAudit(request.params.id, body.reason, body.actor));
  });

  // The agent refused its volume as rolled back, and ops accept it as it is (a restore done by hand, a false alarm).
  router.post('/clients/:id/audit/accept-volume', async (request, response) => {
    const body = parseBody(reasonedActionSchema, request.body);
    response.json(await orchestrator.agents.acceptVolume(request.params.id, body.reason, body.actor));
  });

  router.get('/clients/:id/audit/export', async (request, response) => {
    const { actor, ...query } = parseBody(auditExportQuerySchema, request.query);
    // The audit log holds client data (recipients, subjects): the team reads it only under a grant.
    await orchestrator.support.authorize(request.params.id, actor, 'audit export');
    response.type(query.format === 'csv' ? 'text/csv' : 'application/x-ndjson');
    await orchestrator.agents.exportAudit(request.params.id, query, response);
    response.end();
  });

  router.get('/clients/:id/support-grants', async (request, response) => {
    response.json({ grants: await orchestrator.support.list(request.params.id) });
  });

  router.post('/clients/:id/support-grants', async (request, response) => {
    const body = parseBody(supportRequestBodySchema, request.body);
    const member = body.member ?? body.actor;
    response.status(201).json(
      await orchestrator.support.request({
        clientId: request.params.id,
        member,
        incident: body.incident,
        reason: body.reason,
        ...(body.hours === undefined ? {} : { hours: body.hours }),
        actor: body.actor,
      }),
    );
  });

  router.post('/clients/:id/support-grants/:grantId/revoke', async (request, response) => {
    const body = parseBody(actorOnlySchema, request.body);
    response.json(await orchestrator.support.revoke({ clientId: request.params.id, grantId: request.params.grantId, actor: body.actor }));
  });

  router.post('/reconcile', async (_request, response) => {
    response.json(await orchestrator.reconcile.reconcile());
  });

  router.use(createPortalRouter(orchestrator));
  router.use(createSettingsRouter(orchestrator));

  router.get('/ops-log', async (request, response) => {
    const { client, ...window } = parseBody(opsLogQuerySchema, request.query);
    const filter = client === undefined ? {} : { filter: { clientId: client } };
    await sendEntryPages(response, entriesInWindow(orchestrator.registry.readOpsLogPages({ pageSize: OPS_LOG_SHOW_PAGE_SIZE, ...filter }), window));
  });

  router.get('/ops-log/verify', async (_request, response) => {
    response.json(await verifyStoredOpsLog(orchestrator.registry));
  });

  router.use(createDataLifecycleRouter(orchestrator));
  router.use('/incidents', createIncidentRouter(orchestrator.incidents));
  return router;
}
