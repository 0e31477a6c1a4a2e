import express from 'express';
import type { Registry } from 'prom-client';

/** The Prometheus exporter: one route, the injected registry's text format. */
export function createMetricsApp(registry: Registry): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', async (_request, response) => {
    response.set('Content-Type', registry.contentType);
    response.send(await registry.metrics());
  });
  return app;
}
