import type { RequestListener, Server } from 'node:http';
import type { AgentEnv } from '../config.ts';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { Logger } from '@agent-fleet/kernel/logger';
import { Registry } from 'prom-client';
import { connectorsFromSecrets } from '../adapters/connectors-from-secrets.ts';
import { VaultSecretSource } from '../adapters/vault/vault-secret-source.ts';
import { createControlApp, listen } from '../http/control-server.ts';
import type { ControlTls } from '../http/control-tls.ts';
import { createMetricsApp } from '../http/metrics-server.ts';
import { AgentMetrics } from '../observability/agent-metrics.ts';
import { AgentRuntime } from '../services/runtime/agent-runtime.ts';
import { gmailPushVerifierFor } from './gmail-push-verifier.ts';

export interface ComposeInput {
  env: AgentEnv;
  config: ClientConfig;
  clientId: ClientId;
  vaultCaPem: string | undefined;
  controlTls: ControlTls;
  logger: Logger;
}

export interface ComposedAgent {
  runtime: AgentRuntime;
  /** The control API (express), served by the already listening TLS server. */
  controlApp: RequestListener;
  /** The Prometheus exporter, listening. */
  metricsServer: Server;
}

/**
 * The agent's runtime, control app and metrics exporter, wired from their adapters. Loaded by main.ts
 * with `import()` once the control server listens: none of it is needed to answer /healthz.
 */
export async function composeAgent({ env, config, clientId, vaultCaPem, controlTls, logger }: ComposeInput): Promise<ComposedAgent> {
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
      new VaultSecretSource({ clientId, ...input, logger, caPem: vaultCaPem, onTlsBundle: (bundle) => controlTls.offer(bundle, logger) }),
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
    gmailPushVerifier: gmailPushVerifierFor(config, env.AGENT_GOOGLE_CERTS_URL),
  });

  // The runtime implements every interface the control API depends on (ControlApi); refused control tokens
  // are counted in its metrics.
  // An introduction names the Vault to redeem at: only the one this agent was started with (an unauthenticated
  // caller on its network must not point it at another).
  const controlApp = createControlApp(runtime, logger, { ...(env.VAULT_ADDR === undefined ? {} : { vaultAddr: env.VAULT_ADDR }), metrics });
  // Prometheus scrapes plain HTTP: the exporter serves metrics only (no secrets, no control).
  const metricsServer = await listen(createMetricsApp(registry, logger), env.AGENT_BIND_HOST, env.AGENT_METRICS_PORT);
  return { runtime, controlApp, metricsServer };
}
