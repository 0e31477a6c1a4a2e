import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { loadAgentEnv } from './config.ts';
import { parseClientConfigYaml } from './domain/client-config-file.ts';
import { createControlApp, listen } from './http/control-server.ts';
import { createMetricsApp } from './http/metrics-server.ts';
import { createLogger } from './observability/logger.ts';

const EXIT_CONFIG_ERROR = 78;

async function main(): Promise<void> {
  const env = loadAgentEnv();
  const bootLogger = createLogger({ service: 'agent', level: env.LOG_LEVEL });

  let configText: string;
  try {
    configText = await readFile(env.AGENT_CONFIG_PATH, 'utf8');
  } catch (error) {
    bootLogger.error('cannot read client config', { path: env.AGENT_CONFIG_PATH, reason: (error as Error).message });
    process.exit(EXIT_CONFIG_ERROR);
  }
  let config;
  try {
    config = parseClientConfigYaml(configText, env.AGENT_CONFIG_PATH);
  } catch (error) {
    bootLogger.error('client config is invalid; the agent will not start', { reason: (error as Error).message });
    process.exit(EXIT_CONFIG_ERROR);
  }
  const logger = bootLogger.child({ client: config.client });

  const registry = new Registry();
  registry.setDefaultLabels({ client: config.client });
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'fleet_agent_info',
    help: 'Agent build and runtime information; always 1.',
    labelNames: ['version'],
    registers: [registry],
  }).set({ version: env.AGENT_VERSION }, 1);

  const servers: Server[] = [
    await listen(
      createControlApp({ host: env.AGENT_BIND_HOST, port: env.AGENT_CONTROL_PORT, isReady: () => true, clientId: config.client }),
      env.AGENT_BIND_HOST,
      env.AGENT_CONTROL_PORT,
    ),
    await listen(createMetricsApp(registry), env.AGENT_BIND_HOST, env.AGENT_METRICS_PORT),
  ];
  logger.info('agent started', { controlPort: env.AGENT_CONTROL_PORT, metricsPort: env.AGENT_METRICS_PORT });

  const stop = (signal: string) => {
    logger.info('agent stopping', { signal });
    for (const server of servers) server.close();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'error', message: 'agent failed', reason: String(error) })}\n`);
  process.exit(1);
});
