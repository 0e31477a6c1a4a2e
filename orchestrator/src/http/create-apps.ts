import express from 'express';
import helmet from 'helmet';
import { rateLimit } from 'express-rate-limit';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { Orchestrator } from '../orchestrator.ts';
import { authenticateOps, type OpsTransport } from './admin-auth.ts';
import { createApiRouter } from './api-router.ts';
import { createDoctorRouter } from './doctor-router.ts';
import { errorMiddleware } from './error-middleware.ts';
import { jsonBody } from './json-body.ts';
import { logOpsRefusals } from './ops-refusals.ts';
import { createTeamRouter } from './team-router.ts';

function notFound(_request: express.Request, response: express.Response): void {
  response.status(404).json({ code: 'not_found', message: 'no such endpoint' });
}

function baseApp(): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  return app;
}

/**
 * The ops API below `/v1`, on either listener: the body parsed, the caller authenticated (a member's
 * session; see admin-auth.ts), then the team, doctor and fleet routes.
 */
function opsApi(
  orchestrator: Orchestrator,
  transport: OpsTransport,
  adminTokenSha256?: string,
): express.RequestHandler[] {
  const hasActiveGrant = (clientId: string, member: string) =>
    orchestrator.support.hasActiveGrant(clientId, member).catch(() => false);
  return [
    ...jsonBody('2mb'),
    authenticateOps({
      transport,
      sessions: orchestrator.team.sessions,
      hasActiveGrant,
      teamIsEmpty: async () => (await orchestrator.team.members.count()) === 0,
      adminTokenSha256,
      onRefused: orchestrator.authFailures.api,
    }),
    createTeamRouter(orchestrator.team),
    createDoctorRouter(orchestrator.doctor),
    createApiRouter(orchestrator),
  ];
}

/**
 * The TCP app: health and metrics open (for Prometheus on loopback), the API behind members' sessions
 * (ORCHESTRATOR_ADMIN_TOKEN_SHA256, when set, is a read-only token for reads without client content).
 */
export function createTcpApp(
  orchestrator: Orchestrator,
  metrics: MetricsRegistry,
  adminTokenSha256: string | undefined,
  logger: Logger,
) {
  const app = baseApp();
  app.use(helmet());
  app.get('/metrics', async (_request, response) => {
    response.set('Content-Type', metrics.contentType);
    response.send(await metrics.metrics());
  });
  app.use(
    '/v1',
    rateLimit({ windowMs: 60_000, limit: 300, standardHeaders: 'draft-8', legacyHeaders: false }),
  );
  app.use('/v1', ...opsApi(orchestrator, 'tcp', adminTokenSha256));
  app.use(notFound);
  app.use(logOpsRefusals(orchestrator.registry, logger));
  app.use(errorMiddleware(logger));
  return app;
}

/**
 * The local socket app: its file permissions (0600, owner only) let the machine's operator read and add the
 * first team member; every change is made by a signed-in member, as on TCP.
 */
export function createSocketApp(orchestrator: Orchestrator, logger: Logger) {
  const app = baseApp();
  app.use('/v1', ...opsApi(orchestrator, 'socket'));
  app.use(notFound);
  app.use(logOpsRefusals(orchestrator.registry, logger));
  app.use(errorMiddleware(logger));
  return app;
}
