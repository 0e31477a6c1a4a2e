import { ListrLogger, ProcessOutput } from 'listr2';
import { terminalSafe } from './terminal-text.ts';

/**
 * Listr options for a progress display on the CLI's own stdout: live on a terminal, line by line
 * otherwise, none for `--json` (`to` null), where stdout must hold the JSON result and nothing else.
 */
export function progressOptions(to: NodeJS.WritableStream | null) {
  if (to === null) return { concurrent: false, exitOnError: true, renderer: 'silent' as const };
  const stream = to as NodeJS.WriteStream;
  return {
    concurrent: false,
    exitOnError: true,
    renderer: stream.isTTY === true ? ('default' as const) : ('simple' as const),
    rendererOptions: { collapseErrors: false, logger: new ListrLogger({ processOutput: new ProcessOutput(stream, stream) }) },
  };
}

/**
 * A Listr task whose failure is shown inert: Listr prints a failed task's error message as it is, and that
 * message may quote the service or client data (an archive's entry names). The error keeps its class and
 * code, so the exit status is the same.
 */
export function withInertFailure<Args extends unknown[]>(task: (...args: Args) => Promise<void>): (...args: Args) => Promise<void> {
  return async (...args) => {
    try {
      await task(...args);
    } catch (error) {
      if (error instanceof Error) error.message = terminalSafe(error.message);
      throw error;
    }
  };
}
