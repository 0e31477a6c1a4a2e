import { spawn } from 'node:child_process';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { CommandResult, CommandRunner, CommandRunOptions } from './command-runner.ts';

/** Output beyond this is cut: kubectl lists of thousands of objects stay well below it. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** Spawns the command without a shell (arguments are never re-parsed) and collects its output. */
export class ProcessCommandRunner implements CommandRunner {
  private readonly baseEnv: Record<string, string>;

  /** `baseEnv` is the whole environment the commands see (KUBECONFIG, HOME, PATH); nothing else leaks in. */
  constructor(baseEnv: Record<string, string>) {
    this.baseEnv = baseEnv;
  }

  run(command: string, args: readonly string[], options: CommandRunOptions = {}): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, {
        env: { ...this.baseEnv, ...options.env },
        stdio: ['pipe', 'pipe', 'pipe'],
        shell: false,
      });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let size = 0;
      const collect = (into: Buffer[]) => (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_OUTPUT_BYTES) into.push(chunk);
      };
      child.stdout.on('data', collect(stdout));
      child.stderr.on('data', collect(stderr));
      child.on('error', (error: NodeJS.ErrnoException) => {
        const code = error.code === 'ENOENT' ? 'not_found' : 'unavailable';
        reject(new FleetError(code, `cannot run ${command}: ${error.message}`, { cause: error }));
      });
      child.on('close', (code, signal) => {
        resolve({
          code: code ?? (signal ? 128 : 1),
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
        });
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.stdin ?? '');
    });
  }
}
