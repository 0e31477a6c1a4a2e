import express from 'express';
import helmet from 'helmet';
import { rateLimit } from 'express-rate-limit';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { Orchestrator } from '../orchestrator.ts';
import { requireAdminToken } from './admin-auth.ts';
import { createApiRouter } from './api-router.ts';
import { errorMiddleware } from './error-middleware.ts';

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

/** The TCP app: health and metrics open (for Prometheus on loopback), the API behind the admin token. */
export function createTcpApp(orchestrator: Orchestrator, metrics: MetricsRegistry, adminTokenSha256: string | undefined, logger: Logger) {
  const app = baseApp();
  app.use(helmet());
  app.get('/metrics', async (_request, response) => {
    response.set('Content-Type', metrics.contentType);
    response.send(await metrics.metrics());
  });
  app.use('/v1', rateLimit({ windowMs: 60_000, limit: 300, standardHeaders: 'draft-8', legacyHeaders: false }));
  app.use('/v1', requireAdminToken(adminTokenSha256), createApiRouter(orchestrator));
  app.use(notFound);
  app.use(errorMiddleware(logger));
  return app;
}

/** The local socket app: file permissions (0600, owner only) authenticate the caller, as with Docker's. */
export function createSocketApp(orchestrator: Orchestrator, logger: Logger) {
  const app = baseApp();
  app.use('/v1', createApiRouter(orchestrator));
  app.use(notFound);
  app.use(errorMiddleware(logger));
  return app;
}
