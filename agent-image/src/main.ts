import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import path from 'node:path';
import { AGENT_TLS_HANDOVER_FILE, type AgentTlsBundle } from '@agent-fleet/kernel/agent-identity';
import { readTlsDirectory } from './adapters/vault/agent-tls-directory.ts';
import { loadAgentEnv, type AgentEnv } from './config.ts';
import { parseClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { ControlTls, listenTls } from './http/control-tls.ts';
import { createLogger, type Logger } from '@agent-fleet/kernel/logger';
import { StartupClock } from './startup/startup-clock.ts';

// Startup order (issue 18): config and TLS identity first, from statically imported modules; the runtime,
// its adapters, express and the metrics exporter (startup/compose-agent.ts) load with `import()`, started
// before the TLS identity is redeemed at Vault so that loading them overlaps the round trips (the Vault
// client itself loads only for that redemption); then both servers listen.

const EXIT_CONFIG_ERROR = 78;

/**
 * The control API's first TLS identity, before any introduction: Kubernetes reads what Vault Agent
 * rendered into AGENT_TLS_DIR; Docker redeems the handover the orchestrator placed in the volume.
 */
async function bootTlsBundle(env: AgentEnv, clientId: ClientId, vaultCaPem: string | undefined, logger: Logger): Promise<AgentTlsBundle> {
  if (env.AGENT_TLS_DIR !== undefined) return readTlsDirectory(env.AGENT_TLS_DIR);
  const { redeemTlsHandover } = await import('./adapters/vault/agent-tls-bundle.ts');
  if (env.VAULT_ADDR === undefined) throw new FleetError('invalid_input', 'no TLS identity: set AGENT_TLS_DIR, or VAULT_ADDR for the orchestrator’s handover');
  const file = path.join(env.AGENT_DATA_DIR, AGENT_TLS_HANDOVER_FILE);
  return redeemTlsHandover({ clientId, file, vaultAddr: env.VAULT_ADDR, caPem: vaultCaPem, logger });
}

async function main(): Promise<void> {
  const clock = new StartupClock();
  const env = loadAgentEnv();
  const loadComposer = () => import('./startup/compose-agent.ts');
  // With a TLS directory nothing is waited for: loaded after it, so the timings tell the phases apart.
  const early = env.AGENT_TLS_DIR === undefined ? loadComposer() : null;
  // Awaited below, after the config and TLS steps that may end the process first.
  early?.catch(() => undefined);
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
  clock.end('configAndTls');

  let composed;
  try {
    const { composeAgent } = await (early ?? loadComposer());
    clock.end('composeLoad');
    composed = await composeAgent({ env, config, clientId, vaultCaPem, controlTls, logger });
  } catch (error) {
    logger.error('the agent could not be composed; it will not start', { error });
    process.exit(1);
  }
  const controlServer = await listenTls(composed.controlApp, env.AGENT_BIND_HOST, env.AGENT_CONTROL_PORT, controlTls);
  clock.end('listen');
  const { runtime } = composed;
  const servers: Server[] = [controlServer, composed.metricsServer];
  logger.info('agent started; waiting for the introduction', {
    controlPort: env.AGENT_CONTROL_PORT,
    metricsPort: env.AGENT_METRICS_PORT,
    startup: clock.timings(),
  });
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

// Only as the process's main module: the image build imports the bundle to fill V8's compile cache
// (startup/prime-compile-cache.ts) without starting an agent.
if (import.meta.main) {
  main().catch((error: unknown) => {
    // Before the environment is loaded there is no configured logger yet: this one writes to stderr.
    createLogger({ service: 'agent', stream: process.stderr }).error('agent failed', { error });
    process.exit(1);
  });
}
