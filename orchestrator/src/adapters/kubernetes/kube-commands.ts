import type { Logger } from '@agent-fleet/kernel/logger';
import type { CommandResult, CommandRunner } from '../process/command-runner.ts';
import { translateCommandFailure } from './kubernetes-errors.ts';

export interface KubeCommandsOptions {
  runner: CommandRunner;
  helmPath: string;
  kubectlPath: string;
  /** kubeconfig context; undefined means the current context (or in-cluster config). */
  kubeContext?: string | undefined;
  logger: Logger;
}

/** Release records live in ConfigMaps: the orchestrator then needs no access to Secrets at all. */
const HELM_ENV = { HELM_DRIVER: 'configmap' };

/** Runs kubectl and helm against the configured context, logging each run; failures become FleetErrors. */
export class KubeCommands {
  private readonly options: KubeCommandsOptions;

  constructor(options: KubeCommandsOptions) {
    this.options = options;
  }

  /** kubectl with `args`; a non-zero exit is a FleetError saying `what` failed. */
  async kubectl(args: string[], what: string, stdin?: string): Promise<CommandResult> {
    const result = await this.kubectlResult(args, stdin);
    if (result.code !== 0) throw translateCommandFailure(result, what);
    return result;
  }

  /** kubectl with `args`, its exit code left to the caller. */
  kubectlResult(args: string[], stdin?: string): Promise<CommandResult> {
    return this.run(this.options.kubectlPath, this.withContext(args), stdin);
  }

  /** helm with `args` (ConfigMap release storage); a non-zero exit is a FleetError saying `what` failed. */
  async helm(args: string[], what: string, stdin?: string): Promise<CommandResult> {
    const context = this.options.kubeContext ? ['--kube-context', this.options.kubeContext] : [];
    const result = await this.run(this.options.helmPath, [...args, ...context], stdin, HELM_ENV);
    if (result.code !== 0) throw translateCommandFailure(result, what);
    return result;
  }

  private withContext(args: string[]): string[] {
    return this.options.kubeContext ? ['--context', this.options.kubeContext, ...args] : args;
  }

  private async run(command: string, args: string[], stdin?: string, env?: Record<string, string>): Promise<CommandResult> {
    this.options.logger.debug('running', { command, args });
    const started = Date.now();
    const result = await this.options.runner.run(command, args, {
      ...(stdin === undefined ? {} : { stdin }),
      ...(env === undefined ? {} : { env }),
    });
    this.options.logger.debug('ran', { command, args, exitCode: result.code, durationMs: Date.now() - started });
    return result;
  }
}
