import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { syncDirectory } from '@agent-fleet/kernel/atomic-file';
import { join } from 'node:path';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { ensureJournalDirectory } from './journal-directory.ts';
import { openLineFile } from './line-file.ts';

interface PendingLine {
  file: string;
  data: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Appends newline-terminated lines to files in one directory, durably: a promise resolves only after its
 * line has been written and fsynced. Lines queued while a write+fsync is in flight are batched into the
 * next one (group commit), and batches are written strictly in queue order, also across files, so a
 * crash never leaves a later line durable and an earlier one lost. After an I/O error the appender
 * refuses further lines: callers hold state (a hash chain) that assumed the failed lines were written.
 */
export class GroupCommitAppender {
  private readonly directory: string;
  private readonly fileMode: number;
  private queue: PendingLine[] = [];
  private flushing = false;
  private failure: unknown = null;
  private closed = false;
  private handle: { file: string; fd: FileHandle } | null = null;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => undefined;

  constructor(directory: string, options: { fileMode?: number } = {}) {
    this.directory = directory;
    this.fileMode = options.fileMode ?? 0o600;
  }

  /** Appends `line` (which must not contain a newline) to `file` in the directory. */
  append(file: string, line: string): Promise<void> {
    if (this.closed) return Promise.reject(new FleetError('conflict', 'the log is closed'));
    if (this.failure !== null) {
      return Promise.reject(new FleetError('unavailable', 'the log stopped after a write failure; reopen it', { cause: this.failure }));
    }
    if (line.includes('\n')) return Promise.reject(new FleetError('invalid_input', 'a log line cannot contain a newline'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ file, data: `${line}\n`, resolve, reject });
      if (!this.flushing) this.startFlushing();
    });
  }

  /** Waits for queued lines, then closes the open file. Later appends are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle;
    if (this.handle !== null) {
      await this.handle.fd.close();
      this.handle = null;
    }
  }

  private startFlushing(): void {
    this.flushing = true;
    this.idle = new Promise<void>((resolve) => {
      this.markIdle = resolve;
    });
    void this.flushLoop();
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.writeBatch(batch);
        for (const item of batch) item.resolve();
      } catch (error) {
        this.failure = error;
        const failed = new FleetError('unavailable', 'writing the log failed', { retryable: false, cause: error });
        for (const item of [...batch, ...this.queue]) item.reject(failed);
        this.queue = [];
      }
    }
    this.flushing = false;
    this.markIdle();
  }

  private async writeBatch(batch: PendingLine[]): Promise<void> {
    let start = 0;
    while (start < batch.length) {
      const file = (batch[start] as PendingLine).file;
      let end = start;
      while (end < batch.length && (batch[end] as PendingLine).file === file) end++;
      const fd = await this.fileHandle(file);
      const bytes = Buffer.from(batch.slice(start, end).map((item) => item.data).join(''), 'utf8');
      let offset = 0;
      while (offset < bytes.length) {
        const { bytesWritten } = await fd.write(bytes, offset, bytes.length - offset);
        offset += bytesWritten;
      }
      await fd.sync();
      start = end;
    }
  }

  private async fileHandle(file: string): Promise<FileHandle> {
    if (this.handle?.file === file) return this.handle.fd;
    if (this.handle !== null) {
      await this.handle.fd.close();
      this.handle = null;
    }
    await ensureJournalDirectory(this.directory);
    const path = join(this.directory, file);
    const fd = await openLineFile(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, this.fileMode);
    if (fd === null) throw new FleetError('unavailable', `${file} could not be created`);
    const { size } = await fd.stat();
    // A new file only survives a crash once its directory entry is durable too.
    if (size === 0) await syncDirectory(this.directory);
    this.handle = { file, fd };
    return fd;
  }
}

export { syncDirectory };
