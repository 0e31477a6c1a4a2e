import { existsSync } from 'node:fs';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { SecretSource } from '../../ports/secret-source.ts';
import type { SecretSourceFactory } from './connectors.ts';
import type { IntroduceInput } from './control-api.ts';
import { SerialQueue } from '@agent-fleet/kernel/serial-queue';

export interface IntroductionsOptions {
  config: { client: string };
  secretSource: SecretSourceFactory;
  /** VAULT_ADDR from the environment; an introduction may name another. */
  vaultAddr?: string | undefined;
  /** Where the wrapped data key lives in the volume, and Vault Agent's token file (Kubernetes) or null. */
  paths: { wrappedKey: string; vaultSinkFile: string | null };
  /** True while no introduction has been adopted yet. */
  awaiting: () => boolean;
  /** True once the agent is stopping: introductions are refused. */
  stopping: () => boolean;
  /** Takes a started secret source: the first opens the volume, a later one replaces it (rotation). */
  adopt: (source: SecretSource) => Promise<void>;
  /** The secret store revoked a source's token. */
  onRevoked: (reason: string) => Promise<void>;
  logger: Logger;
}

/**
 * Turns introductions into started secret sources, one at a time: a wrapped token from the orchestrator
 * (only from this client's creation path), or Vault Agent's token file once it appears.
 */
export class Introductions {
  private readonly options: IntroductionsOptions;
  private readonly queue = new SerialQueue();
  /** The introduction being started and adopted, if any (its rejection already handled by its caller). */
  private inFlight: Promise<void> | null = null;

  constructor(options: IntroductionsOptions) {
    this.options = options;
  }

  /** The creation path a genuine introduction for this client carries. */
  get expectedCreationPath(): string {
    return `auth/token/create/fleet-${this.options.config.client}`;
  }

  /** Redeems a wrapped introduction after those before it. Errors: conflict, forbidden, invalid_input, and the adopter's. */
  introduce(input: IntroduceInput): Promise<void> {
    return this.queue.run(async () => {
      if (this.options.stopping()) throw new FleetError('conflict', 'the agent is stopping');
      if (input.creationPath !== this.expectedCreationPath) {
        throw new FleetError('forbidden', `introduction must come from ${this.expectedCreationPath}`);
      }
      const vaultAddr = input.vaultAddr ?? this.options.vaultAddr;
      if (vaultAddr === undefined) throw new FleetError('invalid_input', 'no Vault address: set VAULT_ADDR or send vaultAddr');
      await this.start(this.options.secretSource({ vaultAddr, wrappingToken: input.wrappingToken, wrappedKeyFile: this.options.paths.wrappedKey }));
    });
  }

  /** Introduces from Vault Agent's token file as soon as it exists (checked every `retryMs` until then). */
  fromSinkWhenPresent(retryMs: number): void {
    const { paths, vaultAddr, awaiting } = this.options;
    const file = paths.vaultSinkFile;
    if (file === null || vaultAddr === undefined) return;
    const attempt = (): void => {
      if (!awaiting()) return;
      if (!existsSync(file)) {
        setTimeout(attempt, retryMs).unref();
        return;
      }
      this.queue.run(() =>
        awaiting() ? this.start(this.options.secretSource({ vaultAddr, tokenFile: file, wrappedKeyFile: paths.wrappedKey })) : Promise.resolve(),
      ).catch((error: unknown) => {
        this.options.logger.warn('introduction from the Vault Agent token file failed; retrying', { error });
        if (awaiting()) setTimeout(attempt, retryMs).unref();
      });
    };
    attempt();
  }

  /**
   * Waits, at most `timeoutMs`, for the introduction in flight: a token still starting when a stop began
   * is revoked by the adopter once it has started (it sees the stop), and the process must not exit
   * before that. True when none is left in flight.
   */
  async settled(timeoutMs: number): Promise<boolean> {
    const inFlight = this.inFlight;
    if (inFlight === null) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([inFlight.then(() => true), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async start(source: SecretSource): Promise<void> {
    if (this.options.stopping()) throw new FleetError('conflict', 'the agent is stopping');
    const started = this.startAndAdopt(source);
    const tracked = started.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight = tracked;
    try {
      await started;
    } finally {
      if (this.inFlight === tracked) this.inFlight = null;
    }
  }

  private async startAndAdopt(source: SecretSource): Promise<void> {
    await source.start();
    source.onRevoked((reason) => {
      this.options.onRevoked(reason).catch((error: unknown) => this.options.logger.error('handling the vault revocation failed', { error }));
    });
    await this.options.adopt(source);
  }
}
