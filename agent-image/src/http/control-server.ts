import express from 'express';
import type { Server } from 'node:http';
import * as z from 'zod';
import { httpStatusOf } from '@agent-fleet/kernel/error-status';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type {
  ApprovalDesk,
  AuditAccess,
  ControlApi,
  ControlAuth,
  IntroductionDesk,
  KillControl,
  StatusSource,
} from '../services/runtime/control-api.ts';
import type { ControlRouteFamily } from '../observability/agent-metrics.ts';
import { ControlAuthRefusals, type ControlAuthRefusalCounter } from './control-auth-refusals.ts';
import { requireControlToken } from './control-token-gate.ts';
import { mountDataExportRoutes, type ConfiguredSessions } from './data-export-routes.ts';
import { healthBody } from './health-front-door.ts';
import { mountAdminNoticesRoute } from './admin-notices-route.ts';
import { mountApprovalDetailRoute } from './approval-detail-route.ts';
import { mountAuditRecordsRoute } from './audit-records-route.ts';
import { mountMailNotifications } from './mail-notification-route.ts';
import { mountReviewRoute } from './review-route.ts';
import { mountSettingsRoutes } from './settings-routes.ts';
import { mountSummaryRoute } from './summary-route.ts';
import { introductionVaultAddr } from './introduction-vault.ts';
import { introductionBody, introductionBodyParser } from './introduction-body.ts';
import { jsonBodyParser } from './json-body.ts';
import { ResponseSink } from './response-sink.ts';
import { isUndecodablePath, isUnreadableBody, unreadableBodyMessage } from './unreadable-body.ts';

const who = z.string().trim().min(1).max(200);
const killBody = z.object({ reason: z.string().trim().min(1).max(1000), by: who }).strict();
const resumeBody = z.object({ by: who }).strict();
const via = z.enum(['orchestrator-api', 'portal']).optional();
const decisionBody = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('approve'), by: who, via, reason: z.string().max(1000).optional() }).strict(),
  z.object({ decision: z.literal('reject'), by: who, via, reason: z.string().max(1000).optional() }).strict(),
  z.object({ decision: z.literal('edit'), by: who, via, reason: z.string().max(1000).optional(), arguments: z.unknown() }).strict(),
]);
const approvalStatus = z.enum(['pending', 'approved', 'edited', 'rejected', 'expired']).optional();
const approvalId = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/);
const checkpointQuery = z
  .object({
    seq: z.coerce.number().int().min(1).optional(),
    hash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    /** `extension`: only whether the chain still extends the checkpoint (from its record on); default the whole chain. */
    scope: z.enum(['chain', 'extension']).default('chain'),
  })
  .refine((query) => (query.seq === undefined) === (query.hash === undefined), 'seq and hash come together')
  .refine((query) => query.scope === 'chain' || query.seq !== undefined, 'an extension check needs the checkpoint (seq and hash)');
const exportQuery = z.object({
  format: z.enum(['jsonl', 'csv']).default('jsonl'),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
});

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new FleetError('invalid_input', result.error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; '));
  }
  return result.data;
}

type Handler = (request: express.Request, response: express.Response) => Promise<void>;
type Route = (handler: Handler) => express.RequestHandler;

const wrap: Route = (handler) => (request, response, next) => {
  handler(request, response).catch(next);
};

const JSON_BODY_LIMIT = '256kb';
const jsonBody = jsonBodyParser(JSON_BODY_LIMIT);

/** Reads a JSON body into `request.body` (nothing for a request without one). */
function readJsonBody(request: express.Request, response: express.Response): Promise<void> {
  return new Promise((resolve, reject) => jsonBody(request, response, (error?: unknown) => (error ? reject(error) : resolve())));
}

/**
 * Runs `handler` only for a request bearing the control token (see ControlAuth); a refusal is reported
 * to `refusals` under `route`. With `readBody`, its JSON body is read once the token is checked: a caller
 * without it never has a body parsed.
 */
function authenticatedBy(auth: ControlAuth, refusals: ControlAuthRefusals, route: ControlRouteFamily, readBody = true): Route {
  return (handler) =>
    wrap(async (request, response) => {
      await requireControlToken(auth, request, response, route, refusals);
      if (readBody) await readJsonBody(request, response);
      await handler(request, response);
    });
}

export interface ControlAppOptions {
  /** VAULT_ADDR: the only Vault an introduction may name (see introductionVaultAddr); default none configured. */
  vaultAddr?: string | undefined;
  /** Counts refused control tokens (AgentMetrics); default none (the refusals are still logged). */
  metrics?: ControlAuthRefusalCounter | undefined;
  /** Builds the data-export sessions on first use; default from the agent's environment (see mountDataExportRoutes). */
  exportSessions?: (() => Promise<ConfiguredSessions>) | undefined;
}

/**
 * The agent's control API (agent-image/CONTROL-API.md): open /healthz, /readyz and /v1/introduce; every
 * other route needs the orchestrator's control token as a bearer token. Approval decisions arrive only
 * here, never from email content. Each group of routes depends only on its own interface of `api`.
 */
export function createControlApp(api: ControlApi, logger: Logger, options: ControlAppOptions = {}): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Every answer is about this client (its mail, approvals, audit, state) or a refusal: none may be kept by a cache.
  app.use((_request: express.Request, response: express.Response, next: express.NextFunction) => {
    response.set('Cache-Control', 'no-store');
    next();
  });
  const refusals = new ControlAuthRefusals({ logger, counter: options.metrics });
  const authenticated = (route: ControlRouteFamily) => authenticatedBy(api, refusals, route);
  mountMailNotifications(app, api);
  // The settings routes read their larger bodies themselves, also only after the token is checked.
  mountSettingsRoutes(app, authenticatedBy(api, refusals, 'settings', false), api);
  // The open routes that take a body: the wrapped introduction is their credential.
  app.post(['/v1/introduce', '/v1/data-export/session'], introductionBodyParser());
  mountOpenRoutes(app, api, options.vaultAddr);
  mountKillRoutes(app, authenticated('control'), api);
  mountApprovalRoutes(app, authenticated('approvals'), api);
  mountAuditRoutes(app, authenticated('audit'), api);
  mountStatusRoute(app, authenticated('control'), api);
  mountReviewRoute(app, authenticated('approvals'), api);
  mountApprovalDetailRoute(app, authenticated('approvals'), api);
  mountSummaryRoute(app, authenticated('settings'), api);
  mountAuditRecordsRoute(app, authenticated('audit'), api);
  mountAdminNoticesRoute(app, authenticated('control'), api);
  mountDataExportRoutes(app, api, logger, refusals, options.exportSessions);
  app.use((_request: express.Request, response: express.Response) => {
    response.status(404).json({ code: 'not_found', message: 'no such route' });
  });
  app.use((error: unknown, _request: express.Request, response: express.Response, _next: express.NextFunction) => {
    if (isUnreadableBody(error) || isUndecodablePath(error)) {
      const message = isUndecodablePath(error) ? 'the request path is not valid percent-encoding' : unreadableBodyMessage(error);
      response.status(400).json({ code: 'invalid_input', message });
      return;
    }
    const fleet = isFleetError(error) ? error : new FleetError('internal', 'internal error', { cause: error });
    const status = httpStatusOf(fleet.code);
    if (status >= 500 && fleet.code !== 'unavailable') logger.error('control request failed', { error });
    if (response.headersSent) {
      response.destroy();
      return;
    }
    // A streamed route may have labelled its answer before it failed; the error is JSON whatever it set.
    response.status(status).type('application/json').json({ code: fleet.code, message: status === 500 ? 'internal error' : fleet.message });
  });
  return app;
}

function mountOpenRoutes(app: express.Express, desk: IntroductionDesk, configuredVaultAddr: string | undefined): void {
  app.get('/healthz', (_request, response) => {
    response.json(healthBody(desk.clientId));
  });
  app.get('/readyz', (_request, response) => {
    const readiness = desk.readiness();
    if (readiness.ready) response.json({ status: 'ready', client: desk.clientId });
    else response.status(503).json({ status: 'not_ready', reason: readiness.reason, client: desk.clientId });
  });
  app.post(
    '/v1/introduce',
    wrap(async (request, response) => {
      const body = parse(introductionBody, request.body);
      const vaultAddr = introductionVaultAddr(body.vaultAddr, configuredVaultAddr);
      try {
        await desk.introduce(vaultAddr === undefined ? { wrappingToken: body.wrappingToken, creationPath: body.creationPath } : { ...body, vaultAddr });
      } catch (error) {
        // A forged or foreign introduction is refused, whatever the underlying reason.
        if (isFleetError(error) && (error.code === 'integrity' || error.code === 'forbidden' || error.code === 'killed')) {
          throw new FleetError('forbidden', error.message, { cause: error });
        }
        if (isFleetError(error) && error.code === 'not_found') throw new FleetError('invalid_input', error.message, { cause: error });
        throw error;
      }
      response.status(204).end();
    }),
  );
}

function mountKillRoutes(app: express.Express, authenticated: Route, control: KillControl): void {
  app.post(
    '/v1/kill',
    authenticated(async (request, response) => {
      const body = parse(killBody, request.body);
      await control.killAgent(body.reason, body.by);
      response.status(204).end();
    }),
  );
  app.post(
    '/v1/revive',
    authenticated(async (request, response) => {
      const body = parse(killBody, request.body);
      await control.revive(body.reason, body.by);
      response.status(204).end();
    }),
  );
  app.post(
    '/v1/resume',
    authenticated(async (request, response) => {
      const body = parse(resumeBody, request.body);
      await control.resume(body.by);
      response.status(204).end();
    }),
  );
}

function mountApprovalRoutes(app: express.Express, authenticated: Route, desk: ApprovalDesk): void {
  app.get(
    '/v1/approvals',
    authenticated(async (request, response) => {
      const status = parse(approvalStatus, request.query['status']);
      const approvals = desk.listApprovals(status).map((entry) => ({
        id: entry.record.id,
        status: entry.record.status,
        action: entry.record.actionKind,
        reasons: entry.record.policyReasons,
        createdAt: entry.record.createdAt,
        expiresAt: entry.record.expiresAt,
        proposedHash: entry.record.proposedHash,
        approvedHash: entry.record.approvedHash ?? null,
        decision: entry.record.decision ?? null,
        execution: entry.execution,
        recipients: entry.preview.to,
        cc: entry.preview.cc,
        subject: entry.preview.subject,
        bodyPreview: entry.preview.bodyPreview,
        emailType: entry.preview.emailType,
        sender: entry.preview.inbound?.sender ?? null,
        senderAuthenticated: entry.preview.inbound?.senderAuthenticated ?? null,
        injectionSignals: entry.preview.inbound?.injectionSignals ?? [],
        event: entry.preview.event ?? null,
        arguments: entry.record.proposedArguments,
      }));
      response.json({ approvals });
    }),
  );
  app.post(
    '/v1/approvals/:id/decision',
    authenticated(async (request, response) => {
      const id = parse(approvalId, request.params['id']);
      const body = parse(decisionBody, request.body);
      const decided = await desk.decide(id, body);
      response.json({ id: decided.record.id, status: decided.record.status, execution: decided.execution });
    }),
  );
}

function mountAuditRoutes(app: express.Express, authenticated: Route, audit: AuditAccess): void {
  app.get(
    '/v1/audit/head',
    authenticated(async (_request, response) => {
      const head = audit.auditHead();
      response.json(head ?? { seq: 0, hash: null });
    }),
  );
  app.get(
    '/v1/audit/verify',
    authenticated(async (request, response) => {
      const query = parse(checkpointQuery, request.query);
      const checkpoint = query.seq !== undefined && query.hash !== undefined ? { seq: query.seq, hash: query.hash } : null;
      response.json(query.scope === 'extension' && checkpoint !== null ? await audit.verifyAuditExtension(checkpoint) : await audit.verifyAudit(checkpoint));
    }),
  );
  app.get(
    '/v1/audit/export',
    authenticated(async (request, response) => {
      const query = parse(exportQuery, request.query);
      response.setHeader('Content-Type', query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
      await audit.exportAudit(query.format, new ResponseSink(response), {
        ...(query.since === undefined ? {} : { since: new Date(query.since) }),
        ...(query.until === undefined ? {} : { until: new Date(query.until) }),
      });
      response.end();
    }),
  );
}

function mountStatusRoute(app: express.Express, authenticated: Route, source: StatusSource): void {
  app.get(
    '/v1/status',
    authenticated(async (_request, response) => {
      response.json(source.status());
    }),
  );
}

export function listen(app: express.Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(server)));
  });
}
