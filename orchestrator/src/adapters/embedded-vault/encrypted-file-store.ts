import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { readRegularFile, writeFileAtomically } from '@agent-fleet/kernel/atomic-file';

const MAGIC = Buffer.from('AFV1');
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export const MASTER_KEY_FILE = 'master.key';
export const STATE_FILE = 'vault-state.enc';

/** Reads the master key, creating it (mode 0600) on first run. Refuses a key file others can read. */
export async function loadOrCreateMasterKey(dataDir: string): Promise<Buffer> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, MASTER_KEY_FILE);
  try {
    const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await handle.writeFile(randomBytes(KEY_BYTES));
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const info = await stat(path);
  if ((info.mode & 0o077) !== 0) {
    throw new FleetError(
      'integrity',
      `master key file ${path} is readable by others (mode ${(info.mode & 0o777).toString(8)}); expected 0600`,
    );
  }
  const key = await readFile(path);
  if (key.length !== KEY_BYTES)
    throw new FleetError('integrity', `master key file ${path} is not a ${KEY_BYTES}-byte key`);
  return key;
}

/**
 * One JSON document sealed with AES-256-GCM under the master key: a fresh random nonce per write, the
 * format magic as associated data, written atomically (temp file, fsync, rename, fsync of the directory).
 */
export class EncryptedFileStore {
  private readonly path: string;
  private readonly key: Buffer;

  constructor(dataDir: string, key: Buffer) {
    this.path = join(dataDir, STATE_FILE);
    this.key = key;
  }

  /**
   * The stored document, or null before the first write. Tampering or a wrong key is an integrity error, and
   * so is anything but a regular file at its path (a link, a FIFO that would hang the start, a device).
   */
  async load(): Promise<unknown> {
    const sealed = await readRegularFile(this.path);
    if (sealed === null) return null;
    if (
      sealed.length < MAGIC.length + NONCE_BYTES + TAG_BYTES ||
      !sealed.subarray(0, MAGIC.length).equals(MAGIC)
    ) {
      throw new FleetError('integrity', `${this.path} is not an embedded vault store`);
    }
    const nonce = sealed.subarray(MAGIC.length, MAGIC.length + NONCE_BYTES);
    const tag = sealed.subarray(MAGIC.length + NONCE_BYTES, MAGIC.length + NONCE_BYTES + TAG_BYTES);
    const body = sealed.subarray(MAGIC.length + NONCE_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, nonce);
    decipher.setAAD(MAGIC);
    decipher.setAuthTag(tag);
    try {
      const plain = Buffer.concat([decipher.update(body), decipher.final()]);
      return JSON.parse(plain.toString('utf8'));
    } catch (error) {
      throw new FleetError(
        'integrity',
        `${this.path} failed authentication: tampered with, or wrong master key`,
        { cause: error },
      );
    }
  }

  async save(document: unknown): Promise<void> {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(MAGIC);
    const body = Buffer.concat([cipher.update(JSON.stringify(document), 'utf8'), cipher.final()]);
    await writeFileAtomically(this.path, Buffer.concat([MAGIC, nonce, cipher.getAuthTag(), body]));
  }
}
