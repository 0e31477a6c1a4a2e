import express from 'express';
import type { Server } from 'node:http';

export interface ControlServerOptions {
  host: string;
  port: number;
  /** Readiness: the agent has its config and is able to work. */
  isReady: () => boolean;
  clientId: string;
}

/** The agent's control API: liveness and readiness for the orchestrator and the runtime. */
export function createControlApp(options: ControlServerOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_request, response) => {
    response.json({ status: 'ok', client: options.clientId });
  });
  app.get('/readyz', (_request, response) => {
    const ready = options.isReady();
    response.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', client: options.clientId });
  });
  return app;
}

export function listen(app: express.Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(server)));
  });
}
