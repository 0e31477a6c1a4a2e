import os from 'node:os';
import { FleetError, type FleetErrorCode } from '@agent-fleet/kernel/fleet-error';
import { loadConfig, type OrchestratorConfig } from '../config.ts';
import { EXIT_CODES } from './exit-codes.ts';
import { FleetApiClient } from './fleet-api-client.ts';
import { OrchestratorClient, type AgentRuntimeKind } from './orchestrator-client.ts';

/** What the CLI touches of its process, passed in once by main.ts. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** The operator identity sent as `actor` to the ops log: user@host, reduced to what the API accepts. */
export function operatorIdentity(): string {
  return `${os.userInfo().username}@${os.hostname()}`.replace(/[^\w.@:+-]/g, '_').slice(0, 100);
}

/**
 * What every command uses: the API (the service started on first use), output in the mode `--json`
 * chose, and the exit status of a command whose result is itself a failure. The orchestrator's config is
 * read when a command first needs it, never at import.
 */
export class CliContext {
  readonly io: CliIo;
  readonly actor: string;
  #json = false;
  #exitCode = 0;
  #config: Readonly<OrchestratorConfig> | undefined;
  #transport: OrchestratorClient | undefined;

  constructor(io: CliIo, actor: string = operatorIdentity()) {
    this.io = io;
    this.actor = actor;
  }

  /** Set from the global options before a command runs. */
  useOptions(options: { json?: boolean }): void {
    this.#json = options.json === true;
  }

  get json(): boolean {
    return this.#json;
  }

  get exitCode(): number {
    return this.#exitCode;
  }

  config(): Readonly<OrchestratorConfig> {
    this.#config ??= loadConfig(this.io.env);
    return this.#config;
  }

  /** The API of the running service; starts it (on `runtime` when given) when it is not running. */
  async api(options: { runtime?: AgentRuntimeKind } = {}): Promise<FleetApiClient> {
    await this.transport().ensureRunning(options.runtime === undefined ? {} : { runtime: options.runtime });
    return new FleetApiClient(this.transport(), this.actor);
  }

  serviceRunning(): Promise<boolean> {
    return this.transport().isRunning();
  }

  /**
   * When the service is not running yet, checks the settings it would start with on `runtime`, so a
   * missing one (VAULT_ADDR for kubernetes) is one clear line instead of a dead service.
   */
  async checkRuntimeForNewService(runtime: AgentRuntimeKind): Promise<void> {
    if (await this.serviceRunning()) return;
    try {
      loadConfig({ ...this.io.env, FLEET_RUNTIME: runtime });
    } catch (error) {
      throw new FleetError('invalid_input', (error as Error).message, { cause: error });
    }
  }

  /** Prints the value as JSON with `--json`, else the human text. */
  print(value: unknown, human: () => string): void {
    this.printAs(this.#json, value, human);
  }

  printAs(json: boolean, value: unknown, human: () => string): void {
    this.io.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
  }

  warn(message: string): void {
    this.io.stderr.write(`warning: ${message}\n`);
  }

  /** The command printed its result, and that result is a failure of this kind (a broken chain, a kill not confirmed). */
  failWith(code: FleetErrorCode): void {
    this.#exitCode = EXIT_CODES[code];
  }

  private transport(): OrchestratorClient {
    const config = this.config();
    this.#transport ??= new OrchestratorClient({
      socketPath: config.api.socketPath,
      homeDir: config.homeDir,
      serviceEnv: this.io.env,
    });
    return this.#transport;
  }
}
