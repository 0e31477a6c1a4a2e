/** Outcome of one external command; a non-zero `code` is a value here, the caller decides what it means. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandRunOptions {
  /** Written to the command's standard input, then closed (values and manifests travel this way, never via files). */
  stdin?: string;
  /** Extra environment on top of the runner's base environment. */
  env?: Record<string, string>;
}

/**
 * Runs external commands: helm and kubectl for the Kubernetes runtime, iptables for the client networks'
 * host firewall. A port, so tests record the exact command lines and replay recorded output, and a real run
 * spawns the binaries.
 */
export interface CommandRunner {
  run(command: string, args: readonly string[], options?: CommandRunOptions): Promise<CommandResult>;
}
