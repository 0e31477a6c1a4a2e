import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { createApiRouter } from '../../../orchestrator/src/http/api-router.ts';
import { errorMiddleware } from '../../../orchestrator/src/http/error-middleware.ts';
import type { Orchestrator } from '../../../orchestrator/src/orchestrator.ts';

/** The ops API's real router and error handling over `orchestrator` (a stand-in), on a loopback port. */
export async function serveApiRouter(orchestrator: Orchestrator): Promise<{ server: Server; base: string }> {
  const app = express();
  app.use('/v1', createApiRouter(orchestrator));
  app.use(errorMiddleware(createSilentLogger()));
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` };
}
