import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import path from 'node:path';
import { AGENT_TLS_HANDOVER_FILE, type AgentTlsBundle } from '@agent-fleet/kernel/agent-identity';
import { Registry } from 'prom-client';
import { connectorsFromSecrets } from './adapters/connectors-from-secrets.ts';
import { readTlsDirectory, redeemTlsHandover } from './adapters/vault/agent-tls-bundle.ts';
import { VaultSecretSource } from './adapters/vault/vault-secret-source.ts';
import { loadAgentEnv, type AgentEnv } from './config.ts';
import { parseClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createControlApp, listen } from './http/control-server.ts';
import { ControlTls, listenTls } from './http/control-tls.ts';
import { createMetricsApp } from './http/metrics-server.ts';
import { AgentMetrics } from './observability/agent-metrics.ts';
import { createLogger, type Logger } from '@agent-fleet/kernel/logger';
import { AgentRuntime } from './services/runtime/agent-runtime.ts';

const EXIT_CONFIG_ERROR = 78;

/**
 * The control API's first TLS identity, before any introduction: Kubernetes reads what Vault Agent
 * rendered into AGENT_TLS_DIR; Docker redeems the handover the orchestrator placed in the volume.
 */
async function bootTlsBundle(env: AgentEnv, clientId: ClientId, vaultCaPem: string | undefined, logger: Logger): Promise<AgentTlsBundle> {
  if (env.AGENT_TLS_DIR !== undefined) return readTlsDirectory(env.AGENT_TLS_DIR);
  if (env.VAULT_ADDR === undefined) throw new FleetError('invalid_input', 'no TLS identity: set AGENT_TLS_DIR, or VAULT_ADDR for the orchestrator’s handover');
  const file = path.join(env.AGENT_DATA_DIR, AGENT_TLS_HANDOVER_FILE);
  return redeemTlsHandover({ clientId, file, vaultAddr: env.VAULT_ADDR, caPem: vaultCaPem, logger });
}

async function main(): Promise<void> {
  const env = loadAgentEnv();
  const bootLogger = createLogger({ service: 'agent', level: env.LOG_LEVEL });

  let config;
  try {
    config = parseClientConfigYaml(await readFile(env.AGENT_CONFIG_PATH, 'utf8'), env.AGENT_CONFIG_PATH);
  } catch (error) {
    bootLogger.error('client config is missing or invalid; the agent will not start', { path: env.AGENT_CONFIG_PATH, error });
    process.exit(EXIT_CONFIG_ERROR);
  }
  const clientId = parseClientId(config.client);
  const logger = bootLogger.child({ client: clientId });
  const vaultCaPem = env.VAULT_CACERT === undefined ? undefined : await readFile(env.VAULT_CACERT, 'utf8');
  let controlTls: ControlTls;
  try {
    controlTls = new ControlTls(await bootTlsBundle(env, clientId, vaultCaPem, logger), { clientId, logger });
  } catch (error) {
    // Never serve the control API without this client's certificate (nor fall back to plain HTTP).
    logger.error('no TLS identity for the control API; the agent will not start', { error });
    process.exit(1);
  }

  const registry = new Registry();
  const metrics = new AgentMetrics(registry, { client: clientId, version: env.AGENT_VERSION });

  const runtime = new AgentRuntime({
    config,
    dataDir: env.AGENT_DATA_DIR,
    logger,
    metrics,
    ...(env.VAULT_ADDR === undefined ? {} : { vaultAddr: env.VAULT_ADDR }),
    placedFilesDir: env.AGENT_PLACED_FILES_DIR,
    vaultSinkFile: env.AGENT_VAULT_SINK_FILE,
    secretSource: (input) =>
      new VaultSecretSource({ clientId, ...input, logger, caPem: vaultCaPem, onTlsBundle: (bundle) => controlTls.offer(bundle) }),
    connectors: connectorsFromSecrets({
      ...(env.AGENT_GMAIL_ROOT_URL === undefined ? {} : { gmailRootUrl: env.AGENT_GMAIL_ROOT_URL }),
      ...(env.AGENT_GMAIL_TOKEN_URL === undefined ? {} : { gmailTokenUrl: env.AGENT_GMAIL_TOKEN_URL }),
      ...(env.AGENT_GRAPH_BASE_URL === undefined ? {} : { graphBaseUrl: env.AGENT_GRAPH_BASE_URL }),
      ...(env.AGENT_GRAPH_TOKEN_URL === undefined ? {} : { graphTokenUrl: env.AGENT_GRAPH_TOKEN_URL }),
      ...(env.AGENT_ANTHROPIC_BASE_URL === undefined ? {} : { anthropicBaseUrl: env.AGENT_ANTHROPIC_BASE_URL }),
      ...(env.AGENT_BULLHORN_AUTH_URL === undefined ? {} : { bullhornAuthUrl: env.AGENT_BULLHORN_AUTH_URL }),
      ...(env.AGENT_BULLHORN_LOGIN_URL === undefined ? {} : { bullhornLoginUrl: env.AGENT_BULLHORN_LOGIN_URL }),
    }),
    syncIntervalMs: env.AGENT_SYNC_INTERVAL_SECONDS * 1000,
    sweepIntervalMs: env.AGENT_SWEEP_INTERVAL_SECONDS * 1000,
    concurrency: env.AGENT_CONCURRENCY,
    portalUrl: env.AGENT_PORTAL_URL,
  });

  // The runtime implements every interface the control API depends on (ControlApi).
  const servers: Server[] = [
    await listenTls(createControlApp(runtime, logger), env.AGENT_BIND_HOST, env.AGENT_CONTROL_PORT, controlTls),
    // Prometheus scrapes plain HTTP: the exporter serves metrics only (no secrets, no control).
    await listen(createMetricsApp(registry), env.AGENT_BIND_HOST, env.AGENT_METRICS_PORT),
  ];
  logger.info('agent started; waiting for the introduction', { controlPort: env.AGENT_CONTROL_PORT, metricsPort: env.AGENT_METRICS_PORT });
  runtime.introduceFromSinkWhenPresent();

  const stop = (signal: string) => {
    logger.info('agent stopping', { signal });
    for (const server of servers) server.close();
    runtime
      .stop()
      .catch((error: unknown) => logger.error('stop failed', { error }))
      .finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  // Before the environment is loaded there is no configured logger yet: this one writes to stderr.
  createLogger({ service: 'agent', stream: process.stderr }).error('agent failed', { error });
  process.exit(1);
});
