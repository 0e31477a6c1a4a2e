import express from 'express';
import type { Registry } from 'prom-client';
import type { Logger } from '@agent-fleet/kernel/logger';

/**
 * The Prometheus exporter: one route, the injected registry's text format. The port is plain HTTP on the
 * container network, so nothing else answers: every other request is a bare 404, and a failed collection a
 * bare 500 (express's own pages would echo the path, and in development show the stack and source paths).
 */
export function createMetricsApp(registry: Registry, logger?: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', async (_request, response) => {
    const text = await registry.metrics();
    response.set('Content-Type', registry.contentType);
    response.send(text);
  });
  app.use((_request: express.Request, response: express.Response) => {
    response.status(404).type('text/plain').send('not found\n');
  });
  app.use((error: unknown, _request: express.Request, response: express.Response, _next: express.NextFunction) => {
    logger?.error('collecting metrics failed', { error });
    if (response.headersSent) {
      response.destroy();
      return;
    }
    response.status(500).type('text/plain').send('metrics unavailable\n');
  });
  return app;
}
