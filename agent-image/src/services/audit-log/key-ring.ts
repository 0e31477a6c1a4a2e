import { createSecretKey, type KeyObject } from 'node:crypto';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

const KEY_BYTES = 32;
const MAX_VERSION = 0xffff_ffff;

/**
 * The client's data keys by version. New records are sealed with the current (highest) version; older
 * versions stay so that records written before a rotation still decrypt. Keys never appear in logs,
 * `JSON.stringify` or `util.inspect` output.
 */
export class KeyRing {
  // KeyObjects: the key schedule is prepared once, not per record, and the bytes stay out of JS heap views.
  readonly #keys = new Map<number, KeyObject>();
  readonly currentVersion: number;

  /** `keys`: one or more `{ version, key }`, each key 32 bytes; versions are positive integers. */
  constructor(keys: ReadonlyArray<{ version: number; key: Buffer }>) {
    if (keys.length === 0) throw new FleetError('invalid_input', 'a key ring needs at least one data key');
    for (const { version, key } of keys) {
      if (!Number.isInteger(version) || version < 1 || version > MAX_VERSION) {
        throw new FleetError('invalid_input', `data key version must be an integer from 1 to ${MAX_VERSION}`);
      }
      if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
        throw new FleetError('invalid_input', `data key version ${version} must be ${KEY_BYTES} bytes (AES-256)`);
      }
      if (this.#keys.has(version)) throw new FleetError('invalid_input', `data key version ${version} is given twice`);
      this.#keys.set(version, createSecretKey(Buffer.from(key)));
    }
    this.currentVersion = Math.max(...this.#keys.keys());
  }

  /** A ring holding a single key as version 1. */
  static single(key: Buffer): KeyRing {
    return new KeyRing([{ version: 1, key }]);
  }

  /** Accepts either a ring or a bare 32-byte key (version 1). */
  static from(keyOrRing: Buffer | KeyRing): KeyRing {
    return keyOrRing instanceof KeyRing ? keyOrRing : KeyRing.single(keyOrRing);
  }

  currentKey(): KeyObject {
    return this.#keys.get(this.currentVersion) as KeyObject;
  }

  /** The key of a version, or undefined when the ring does not hold it. */
  key(version: number): KeyObject | undefined {
    return this.#keys.get(version);
  }

  versions(): number[] {
    return [...this.#keys.keys()].sort((a, b) => a - b);
  }

  toJSON(): { versions: number[]; currentVersion: number } {
    return { versions: this.versions(), currentVersion: this.currentVersion };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `KeyRing { versions: [${this.versions().join(', ')}], current: ${this.currentVersion} }`;
  }
}
