// The systemd unit that starts the orchestrator service at boot (`make service-install`). Agents run with
// no Docker restart policy (each start needs a fresh TLS handover from the orchestrator), so after a reboot
// the fleet stays down until the service runs again: with this unit it does, and its first reconcile pass
// starts every active client's agent (killed ones stay stopped).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOME_HELD_EXIT_CODE } from '../orchestrator/src/adapters/process/home-lock.ts';
import { SERVICE_THREADPOOL_SIZE } from '../orchestrator/src/cli/orchestrator-client.ts';

export interface SystemdUnitOptions {
  /** The repository checkout the service runs from, an absolute path. */
  repoDir: string;
  /** The fleet home (AGENT_FLEET_HOME), an absolute path. */
  homeDir: string;
  /** Optional KEY=value file with the service's other settings (VAULT_ADDR, DATABASE_URL, …). */
  environmentFile: string;
}

const SAFE_PATH = /^\/[A-Za-z0-9._/+-]*$/;

function checkedPath(name: string, value: string): string {
  if (!SAFE_PATH.test(value) || value.split('/').includes('..')) {
    throw new Error(`${name} must be an absolute path of letters, digits and . _ / + - (got ${JSON.stringify(value)})`);
  }
  return path.posix.normalize(value);
}

export function renderSystemdUnit(options: SystemdUnitOptions): string {
  const repoDir = checkedPath('the repository directory', options.repoDir);
  const homeDir = checkedPath('the fleet home', options.homeDir);
  const environmentFile = checkedPath('the environment file', options.environmentFile);
  return `[Unit]
Description=agent-fleet orchestrator service (registry, agents, secret store, reconcile)
Documentation=file://${repoDir}/README.md
Requires=docker.service
After=docker.service network-online.target
Wants=network-online.target

[Service]
Type=simple
WorkingDirectory=${repoDir}
Environment=AGENT_FLEET_HOME=${homeDir}
Environment=UV_THREADPOOL_SIZE=${SERVICE_THREADPOOL_SIZE}
EnvironmentFile=-${environmentFile}
ExecStart=${repoDir}/node_modules/.bin/node ${repoDir}/orchestrator/src/main.ts
UMask=0077
Restart=on-failure
RestartSec=5
# Another service holds the home (one a fleet command started first): not a failure to retry.
RestartPreventExitStatus=${HOME_HELD_EXIT_CODE}
KillSignal=SIGTERM
TimeoutStopSec=30

[Install]
WantedBy=multi-user.target
`;
}

function argument(name: string): string {
  const at = process.argv.indexOf(`--${name}`);
  const value = at === -1 ? undefined : process.argv[at + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`--${name} <path> is required`);
  return value;
}

if (import.meta.main) {
  try {
    process.stdout.write(
      renderSystemdUnit({
        repoDir: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..'),
        homeDir: argument('home'),
        environmentFile: argument('environment-file'),
      }),
    );
  } catch (error) {
    process.stderr.write(`systemd-unit: ${(error as Error).message}\n`);
    process.exit(2);
  }
}
