import type { CommandResult, CommandRunner, CommandRunOptions } from '../../../orchestrator/src/adapters/process/command-runner.ts';

export interface RecordedCall {
  /** The command line as a shell would show it: binary name (not path) and arguments. */
  line: string;
  stdin: string | undefined;
  env: Record<string, string> | undefined;
}

/**
 * Records every command line and answers with recorded helm/kubectl output, chosen by the first rule whose
 * pattern matches the line. Unmatched lines go to `delegate` (a fake cluster, or the real binaries against
 * a real cluster) or, without one, succeed with no output.
 */
export class RecordingCommandRunner implements CommandRunner {
  readonly calls: RecordedCall[] = [];
  private readonly rules: Array<{ pattern: RegExp; result: Partial<CommandResult> }> = [];
  private readonly delegate: CommandRunner | undefined;

  constructor(delegate?: CommandRunner) {
    this.delegate = delegate;
  }

  respond(pattern: RegExp, result: Partial<CommandResult>): this {
    this.rules.push({ pattern, result });
    return this;
  }

  async run(command: string, args: readonly string[], options: CommandRunOptions = {}): Promise<CommandResult> {
    const line = [command.split('/').at(-1), ...args].join(' ');
    this.calls.push({ line, stdin: options.stdin, env: options.env });
    const rule = this.rules.find((candidate) => candidate.pattern.test(line));
    if (!rule && this.delegate) return this.delegate.run(command, args, options);
    return { code: 0, stdout: '', stderr: '', ...rule?.result };
  }

  get lines(): string[] {
    return this.calls.map((call) => call.line);
  }
}

export const notFound = (what: string): Partial<CommandResult> => ({
  code: 1,
  stderr: `Error from server (NotFound): ${what} not found\n`,
});
