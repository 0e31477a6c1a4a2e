import { FleetError, type FleetErrorCode } from '@agent-fleet/kernel/fleet-error';
import { loadConfig, type OrchestratorConfig } from '../config.ts';
import { EXIT_CODES } from './exit-codes.ts';
import { FleetApiClient } from './fleet-api-client.ts';
import { OrchestratorClient, type AgentRuntimeKind } from './orchestrator-client.ts';
import { readCliSession, removeCliSession, writeCliSession, type CliSession } from './session-file.ts';
import { TeamApiClient } from './team-api-client.ts';
import { terminalSafe, terminalSafeJson } from './terminal-text.ts';

/** What the CLI touches of its process, passed in once by main.ts. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** The actor the typed API client names before anyone signed in (the API takes the member from the session). */
const NOT_SIGNED_IN = 'not-signed-in';

/**
 * What every command uses: the API (the service started on first use) as the member signed in here
 * (`fleet login` keeps the session owner-only under the fleet home), output in the mode `--json` chose,
 * and the exit status of a command whose result is itself a failure. The orchestrator's config is read
 * when a command first needs it, never at import.
 */
export class CliContext {
  readonly io: CliIo;
  /** A fixed actor label (tests); else the signed-in member. The ops API never trusts it either way. */
  readonly #actor: string | undefined;
  #setupWarned = false;
  #json = false;
  #code: string | undefined;
  #exitCode = 0;
  #config: Readonly<OrchestratorConfig> | undefined;
  #transport: Promise<{ client: OrchestratorClient; session: CliSession | null }> | undefined;

  constructor(io: CliIo, actor?: string) {
    this.io = io;
    this.#actor = actor;
  }

  /** Set from the global options before a command runs. */
  useOptions(options: { json?: boolean; code?: string }): void {
    this.#json = options.json === true;
    this.#code = options.code;
  }

  get json(): boolean {
    return this.#json;
  }

  get exitCode(): number {
    return this.#exitCode;
  }

  /** The `--code` given on the command line, once: `fleet login` signs in with it instead of refreshing. */
  takeCode(): string | undefined {
    const code = this.#code;
    this.#code = undefined;
    return code;
  }

  config(): Readonly<OrchestratorConfig> {
    this.#config ??= loadConfig(this.io.env);
    return this.#config;
  }

  /**
   * The API of the running service as the signed-in member; starts the service (on `runtime` when given)
   * when it is not running. A `--code` on the command is entered first: client data opens for 15 minutes.
   */
  async api(options: { runtime?: AgentRuntimeKind } = {}): Promise<FleetApiClient> {
    const { client, session } = await this.connected(options);
    return new FleetApiClient(client, this.#actor ?? session?.member ?? NOT_SIGNED_IN);
  }

  /** The team, session and doctor routes, as the signed-in member (if any). */
  async teamApi(): Promise<TeamApiClient> {
    return new TeamApiClient((await this.connected({})).client);
  }

  /** The member signed in here, or null. */
  async session(): Promise<CliSession | null> {
    return readCliSession(this.config().homeDir);
  }

  async saveSession(session: CliSession): Promise<void> {
    await writeCliSession(this.config().homeDir, session);
    this.#transport = undefined;
  }

  async forgetSession(): Promise<void> {
    await removeCliSession(this.config().homeDir);
    this.#transport = undefined;
  }

  serviceRunning(): Promise<boolean> {
    return this.bareClient().isRunning();
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

  /** Text from the service or client mail cannot drive the terminal: see terminal-text.ts. */
  printAs(json: boolean, value: unknown, human: () => string): void {
    this.io.stdout.write(json ? `${terminalSafeJson(JSON.stringify(value, null, 2))}\n` : `${terminalSafe(human())}\n`);
  }

  /** Text printed as it is (a report body), made as inert as the rest. */
  printText(text: string): void {
    this.io.stdout.write(terminalSafe(text));
  }

  warn(message: string): void {
    this.io.stderr.write(`warning: ${terminalSafe(message)}\n`);
  }

  /** The command printed its result, and that result is a failure of this kind (a broken chain, a kill not confirmed). */
  failWith(code: FleetErrorCode): void {
    this.#exitCode = EXIT_CODES[code];
  }

  /** The command printed its result, and that result has an exit status of its own (`fleet doctor`'s DOCTOR_EXIT_CODES). */
  exitWith(status: number): void {
    this.#exitCode = status;
  }

  private async connected(options: {
    runtime?: AgentRuntimeKind;
  }): Promise<{ client: OrchestratorClient; session: CliSession | null }> {
    this.#transport ??= this.session().then((session) => ({
      client: this.bareClient(session?.token),
      session,
    }));
    const connection = await this.#transport;
    await connection.client.ensureRunning(options.runtime === undefined ? {} : { runtime: options.runtime });
    const code = this.takeCode();
    if (code !== undefined) await new TeamApiClient(connection.client).refreshSecondFactor(code);
    return connection;
  }

  /** A fresh install: a change went through as setup@socket (no member yet); say so once per command. */
  private warnSetupChange(actor: string): void {
    if (this.#setupWarned) return;
    this.#setupWarned = true;
    this.warn(
      `no team member yet: this change is logged as ${actor}. Add yourself (fleet team add <name> --email <address>); from then on every change needs fleet login`,
    );
  }

  private bareClient(sessionToken?: string): OrchestratorClient {
    const config = this.config();
    return new OrchestratorClient({
      socketPath: config.api.socketPath,
      homeDir: config.homeDir,
      serviceEnv: this.io.env,
      sessionToken,
      onActingAs: (actor) => this.warnSetupChange(actor),
      limits: { answerTimeoutMs: config.api.cliAnswerTimeoutMs, idleTimeoutMs: config.api.cliIdleTimeoutMs },
    });
  }
}
