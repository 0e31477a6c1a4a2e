import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { compilePolicy, type PolicyEvaluator } from '../../domain/policy/evaluate-policy.ts';

/** The settings in force at one moment: a version of the client's settings and the gate compiled from it. */
export interface AppliedSettings {
  /** The settings version (0: the config file read at start, before the volume's history was opened). */
  readonly version: number;
  /** The version's hash in the history; null for version 0. */
  readonly hash: string | null;
  readonly config: ClientConfig;
  readonly gate: PolicyEvaluator;
}

/**
 * Where the runtime reads the client's settings: always the current version, replaced as a whole when a
 * new one is applied. Callers read it once per decision, so a decision never mixes two versions.
 */
export interface SettingsSource {
  /** The settings in force now. */
  current(): AppliedSettings;
}

export type SettingsListener = (next: AppliedSettings, previous: AppliedSettings) => void;

/** The runtime's settings source: a new version applies at once, to every later read. */
export class LiveSettings implements SettingsSource {
  #current: AppliedSettings;
  readonly #listeners: SettingsListener[] = [];
  readonly #onListenerError: (error: unknown) => void;

  /** `onListenerError` hears of a listener that threw (the version stays applied, the others are still told). */
  constructor(config: ClientConfig, onListenerError: (error: unknown) => void = () => undefined) {
    this.#current = { version: 0, hash: null, config, gate: compilePolicy(config) };
    this.#onListenerError = onListenerError;
  }

  current(): AppliedSettings {
    return this.#current;
  }

  /** Applies a version: every later read sees it; listeners (gauges, schedules, connections) are told. */
  apply(version: number, hash: string, config: ClientConfig): AppliedSettings {
    const previous = this.#current;
    const next: AppliedSettings = { version, hash, config, gate: compilePolicy(config) };
    this.#current = next;
    // The version is durable and in force: one follower failing (a schedule, a gauge) must not keep it
    // from the others, nor make the change it came from fail.
    for (const listener of [...this.#listeners]) {
      try {
        listener(next, previous);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
    return next;
  }

  /**
   * Called after each applied version with the new and the previous settings, until the returned
   * function is called (an opened volume's listener goes with the volume: a failed start must not
   * leave one behind for each retry).
   */
  onChange(listener: SettingsListener): () => void {
    const entry: SettingsListener = (next, previous) => listener(next, previous);
    this.#listeners.push(entry);
    return () => {
      const index = this.#listeners.indexOf(entry);
      if (index !== -1) this.#listeners.splice(index, 1);
    };
  }
}

/** Settings that never change (tools, tests of one part). */
export function fixedSettings(config: ClientConfig, version = 0): SettingsSource {
  const applied: AppliedSettings = { version, hash: null, config, gate: compilePolicy(config) };
  return { current: () => applied };
}
