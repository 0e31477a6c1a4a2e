import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { SecretSource, VersionedSecret } from '../../ports/secret-source.ts';

/**
 * One secret as a connector uses it, with the store as the truth: the value in hand and the KV version it
 * had. `reload` reads the store again (when the provider refused the value in hand, or before it is used
 * again) and says whether another writer, such as an admin's `fleet secrets set`, replaced it. `writeBack`
 * stores a value the agent derived (a rotated refresh token) only while the stored secret is still the
 * version last seen here (check-and-set): another writer's newer value wins and is read instead.
 *
 * A source without versioned reads (a test double) is compared by value and written unconditionally.
 */
export class LiveSecret {
  readonly name: string;
  readonly #source: SecretSource;
  #value: string;
  /** The KV version `#value` had; null when the source does not say. */
  #version: number | null;

  private constructor(source: SecretSource, name: string, value: string, version: number | null) {
    this.#source = source;
    this.name = name;
    this.#value = value;
    this.#version = version;
  }

  /**
   * The secret as read moments ago (with every secret), its version not yet known: learnt at the first
   * `writeBack`, which yields if the store holds another value by then.
   */
  static unversioned(source: SecretSource, name: string, value: string): LiveSecret {
    return new LiveSecret(source, name, value, null);
  }

  /** The secret as stored now; `fallback` (read moments ago with every secret) when it cannot be read again. */
  static async load(source: SecretSource, name: string, fallback: string): Promise<LiveSecret> {
    if (source.readSecretVersion === undefined) return new LiveSecret(source, name, fallback, null);
    let stored: VersionedSecret | null = null;
    try {
      stored = await source.readSecretVersion(name);
    } catch (error) {
      // Connecting does not wait for the version: it is read before the first write back (writeBack).
      if (error instanceof FleetError && error.code === 'killed') throw error;
    }
    return stored === null ? new LiveSecret(source, name, fallback, null) : new LiveSecret(source, name, stored.value, stored.version);
  }

  get value(): string {
    return this.#value;
  }

  /**
   * Reads the store again. True when it now holds another value than the one in hand (which it then
   * takes); false when unchanged or no longer stored (a deleted grant leaves the provider to refuse it).
   */
  async reload(): Promise<boolean> {
    const stored = await this.#read();
    if (stored === null) return false;
    const changed = stored.value !== this.#value;
    this.#value = stored.value;
    this.#version = stored.version;
    return changed;
  }

  /**
   * Stores `value` unless another writer changed the secret since it was last read or written here:
   * `written`, or `superseded` with the other writer's value now in hand (nothing overwritten).
   */
  async writeBack(value: string): Promise<'written' | 'superseded'> {
    // Loaded without a version: learn it now, and yield to a value another writer stored since.
    if (this.#version === null && this.#source.readSecretVersion !== undefined && (await this.reload())) return 'superseded';
    const version = this.#version;
    try {
      await this.#source.writeSecret(this.name, value, version === null ? {} : { cas: version });
    } catch (error) {
      if (!(error instanceof FleetError && error.code === 'conflict')) throw error;
      await this.reload();
      return 'superseded';
    }
    this.#value = value;
    // A check-and-set write at version n makes version n + 1.
    this.#version = version === null ? null : version + 1;
    return 'written';
  }

  async #read(): Promise<{ value: string; version: number | null } | null> {
    const source = this.#source;
    if (source.readSecretVersion !== undefined) return source.readSecretVersion(this.name);
    const value = (await source.readSecretData(this.name))?.['value'];
    return value === undefined ? null : { value, version: null };
  }
}
