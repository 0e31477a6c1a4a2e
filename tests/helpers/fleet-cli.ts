import os from 'node:os';
import { PassThrough } from 'node:stream';
import { runCli } from '../../orchestrator/src/cli/program.ts';

/** What one `fleet` command printed and how it ended. */
export interface FleetCliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs the `fleet` CLI in process against the fleet home `homeDir`, capturing its output. */
export function runFleetCli(homeDir: string, ...args: string[]): Promise<FleetCliRun> {
  return runFleetCliWithEnv({ AGENT_FLEET_HOME: homeDir }, ...args);
}

/** Runs the `fleet` CLI in process with exactly the environment `env`, capturing its output. */
export async function runFleetCliWithEnv(env: Record<string, string>, ...args: string[]): Promise<FleetCliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await runCli(['node', 'fleet', ...args], { env, stdout, stderr });
  return { code, out, err };
}

/**
 * An environment whose ORCHESTRATOR_PORT is invalid on purpose: a command that got past its own checks fails
 * on loading the config and can never reach or start a service. The fleet home is `homeDir`.
 */
export function unstartableEnv(homeDir = os.tmpdir()): Record<string, string> {
  return { AGENT_FLEET_HOME: homeDir, ORCHESTRATOR_PORT: 'not-a-port' };
}

/** Runs `fleet …` in process in `unstartableEnv()`: what it printed shows how far its own checks let it go. */
export function runFleetCliBeforeService(...args: string[]): Promise<FleetCliRun> {
  return runFleetCliWithEnv(unstartableEnv(), ...args);
}
