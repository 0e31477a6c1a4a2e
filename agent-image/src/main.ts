import type { Server } from 'node:http';
import path from 'node:path';
import { AGENT_TLS_HANDOVER_FILE, type AgentTlsBundle } from '@agent-fleet/kernel/agent-identity';
import { readTlsDirectory } from './adapters/vault/agent-tls-directory.ts';
import { readVaultCaFile } from './adapters/vault/vault-ca-file.ts';
import { loadAgentEnv, type AgentEnv } from './config.ts';
import { parseAgentConfigDocument } from '@agent-fleet/kernel/client-config-document';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { sealedAgentConfigClient } from '@agent-fleet/kernel/sealed-agent-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { ControlTls, listenTls } from './http/control-tls.ts';
import { HealthFrontDoor } from './http/health-front-door.ts';
import type { Logger } from '@agent-fleet/kernel/logger';
import { preloadRuntime } from './startup/runtime-preload.ts';
import { openSealedConfig, readPlainConfig, readSealedConfig, sealedConfigPath } from './startup/sealed-config-file.ts';
import { StartupClock } from './startup/startup-clock.ts';

// Startup order (issue 18): config and TLS identity from statically imported modules; then the control
// server listens and answers /healthz; only then do the logger (winston), the runtime, its adapters,
// express and the metrics exporter load (startup/runtime-preload.ts, startup/compose-agent.ts, with
// `import()`). Requests other than /healthz wait for them.

const EXIT_CONFIG_ERROR = 78;

/** The agent's logger, loaded on first use: after /healthz answers, or earlier only to report a failed start. */
function lazyLogger(env: AgentEnv | null): () => Promise<Logger> {
  let loading: Promise<Logger> | undefined;
  return () =>
    (loading ??= import('@agent-fleet/kernel/logger').then(({ createLogger }) =>
      // Without a loaded environment there is no level to honour: errors go to stderr.
      env === null ? createLogger({ service: 'agent', stream: process.stderr }) : createLogger({ service: 'agent', level: env.LOG_LEVEL }),
    ));
}

/**
 * The control API's first TLS identity, before any introduction: Kubernetes reads what Vault Agent
 * rendered into AGENT_TLS_DIR; Docker redeems the handover the orchestrator placed in the volume.
 */
async function bootTlsBundle(
  env: AgentEnv,
  clientId: ClientId,
  vaultCaPem: string | undefined,
  logger: () => Promise<Logger>,
): Promise<{ bundle: AgentTlsBundle; configKey: string | null }> {
  if (env.AGENT_TLS_DIR !== undefined) return { bundle: await readTlsDirectory(env.AGENT_TLS_DIR), configKey: null };
  const { redeemTlsHandover } = await import('./adapters/vault/agent-tls-bundle.ts');
  if (env.VAULT_ADDR === undefined) throw new FleetError('invalid_input', 'no TLS identity: set AGENT_TLS_DIR, or VAULT_ADDR for the orchestrator’s handover');
  const file = path.join(env.AGENT_DATA_DIR, AGENT_TLS_HANDOVER_FILE);
  return redeemTlsHandover({ clientId, file, vaultAddr: env.VAULT_ADDR, caPem: vaultCaPem, logger });
}

async function main(): Promise<void> {
  const clock = new StartupClock();
  const env = loadAgentEnv();
  const agentLogger = lazyLogger(env);

  // Docker: the config is sealed in the volume under a key its TLS handover carries; Kubernetes: in the clear in the pod.
  let sealed: string | null = null;
  let config: ClientConfig | undefined;
  let clientId: ClientId;
  try {
    sealed = env.AGENT_TLS_DIR === undefined ? await readSealedConfig(env.AGENT_DATA_DIR) : null;
    if (sealed === null) config = await parseAgentConfigDocument(await readPlainConfig(env.AGENT_CONFIG_PATH), env.AGENT_CONFIG_PATH);
    clientId = config === undefined ? sealedAgentConfigClient(sealed ?? '') : parseClientId(config.client);
  } catch (error) {
    (await agentLogger()).error('client config is missing or invalid; the agent will not start', { path: env.AGENT_CONFIG_PATH, error });
    process.exit(EXIT_CONFIG_ERROR);
  }
  let clientChild: Promise<Logger> | undefined;
  const clientLogger = () => (clientChild ??= agentLogger().then((logger) => logger.child({ client: clientId })));
  let vaultCaPem: string | undefined;
  try {
    vaultCaPem = env.VAULT_CACERT === undefined ? undefined : await readVaultCaFile(env.VAULT_CACERT);
  } catch (error) {
    (await clientLogger()).error("Vault's CA certificate (VAULT_CACERT) cannot be used; the agent will not start", { path: env.VAULT_CACERT, error });
    process.exit(EXIT_CONFIG_ERROR);
  }
  let controlTls: ControlTls;
  let configKey: string | null;
  try {
    const boot = await bootTlsBundle(env, clientId, vaultCaPem, clientLogger);
    controlTls = new ControlTls(boot.bundle, { clientId });
    configKey = boot.configKey;
  } catch (error) {
    // Never serve the control API without this client's certificate (nor fall back to plain HTTP).
    (await clientLogger()).error('no TLS identity for the control API; the agent will not start', { error });
    process.exit(1);
  }
  if (sealed !== null) {
    try {
      config = await openSealedConfig({ sealed, clientId, configKey, dataDir: env.AGENT_DATA_DIR, legacyConfigPath: env.AGENT_CONFIG_PATH });
    } catch (error) {
      (await clientLogger()).error('the sealed client config does not open; the agent will not start', { path: sealedConfigPath(env.AGENT_DATA_DIR), error });
      process.exit(EXIT_CONFIG_ERROR);
    }
  }
  if (config === undefined) process.exit(EXIT_CONFIG_ERROR);
  clock.end('configAndTls');

  const frontDoor = new HealthFrontDoor(clientId);
  const controlServer = await listenTls(frontDoor.listener, env.AGENT_BIND_HOST, env.AGENT_CONTROL_PORT, controlTls);
  frontDoor.watch(controlServer);
  clock.end('listen');

  let logger: Logger | undefined;
  let composed;
  try {
    await frontDoor.settled();
    await preloadRuntime(() => frontDoor.settled());
    logger = await clientLogger();
    const { composeAgent } = await import('./startup/compose-agent.ts');
    clock.end('runtimeLoad');
    composed = await composeAgent({ env, config, clientId, vaultCaPem, controlTls, logger });
  } catch (error) {
    (logger ?? (await clientLogger())).error('the agent could not be composed; it will not start', { error });
    process.exit(1);
  }
  frontDoor.open(composed.controlApp);
  clock.end('compose');
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
  main().catch(async (error: unknown) => {
    (await lazyLogger(null)()).error('agent failed', { error });
    process.exit(1);
  });
}
