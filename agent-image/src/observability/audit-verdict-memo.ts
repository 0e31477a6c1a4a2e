import { closeSync, constants, fstatSync, openSync, readSync, renameSync, writeFileSync } from 'node:fs';

/** The file in the client's volume that keeps the last audit chain verdict, in the clear. */
export const AUDIT_VERDICT_FILE = 'audit-chain-verdict';

const MAX_READ_BYTES = 8;

/**
 * The last audit chain verdict, kept in the volume so that a restarted agent exports it before its
 * introduction lets it verify the chain again (an unknown verdict would resolve AuditChainBroken for that
 * while). Only a hint for the time before the next verification: the file is not protected, and whatever
 * it says is replaced by that verification. Anything but exactly `0` or `1` reads as no verdict.
 */
export class AuditVerdictMemo {
  private readonly file: string;
  private readonly onError: (error: unknown) => void;

  /** `onError` hears of a verdict that could not be kept or read (the agent works on without it). */
  constructor(file: string, onError: (error: unknown) => void) {
    this.file = file;
    this.onError = onError;
  }

  /** The verdict kept last: true when that verification passed; null when none is kept or it is unreadable. */
  read(): boolean | null {
    let fd: number;
    try {
      // Neither a symlink followed nor a FIFO waited on: the volume's files are not trusted.
      fd = openSync(this.file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.onError(error);
      return null;
    }
    try {
      if (!fstatSync(fd).isFile()) return null;
      const buffer = Buffer.alloc(MAX_READ_BYTES);
      const text = buffer.subarray(0, readSync(fd, buffer, 0, MAX_READ_BYTES, 0)).toString('latin1');
      return text === '1' ? true : text === '0' ? false : null;
    } catch (error) {
      this.onError(error);
      return null;
    } finally {
      closeSync(fd);
    }
  }

  /** Keeps a verdict, replacing the file whole (a crash leaves the old verdict or the new one). */
  write(valid: boolean): void {
    const staging = `${this.file}.tmp`;
    try {
      writeFileSync(staging, valid ? '1' : '0', { mode: 0o600 });
      renameSync(staging, this.file);
    } catch (error) {
      this.onError(error);
    }
  }
}
