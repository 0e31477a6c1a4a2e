import { PassThrough } from 'node:stream';
import { runCli } from '../../orchestrator/src/cli/program.ts';

/** What one `fleet` command printed and how it ended. */
export interface FleetCliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs the `fleet` CLI in process against the fleet home `homeDir`, capturing its output. */
export async function runFleetCli(homeDir: string, ...args: string[]): Promise<FleetCliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await runCli(['node', 'fleet', ...args], { env: { AGENT_FLEET_HOME: homeDir }, stdout, stderr });
  return { code, out, err };
}
