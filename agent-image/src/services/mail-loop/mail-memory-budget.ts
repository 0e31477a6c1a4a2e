import { INJECTION_SCAN_CHARS } from '../../domain/auto-reply/injection-signals.ts';
import type { MailMessage } from '../../ports/mail-provider.ts';
import { ByteSemaphore, type ByteLease } from './byte-semaphore.ts';
import { detachedHead } from './detached-text.ts';
import { MODEL_BODY_LIMIT } from './email-for-model.ts';

/**
 * How much of a body a work item keeps once the message is read: all any later stage reads of it. The
 * injection scan reads the first INJECTION_SCAN_CHARS, the model MODEL_BODY_LIMIT.
 * Only the read's digest (its audited content hash) needs the whole text, and it is taken during the read.
 */
export const HELD_TEXT_CHARS = Math.max(INJECTION_SCAN_CHARS, MODEL_BODY_LIMIT);

/**
 * What a message read is counted at until it is read (its size is known only then): the adapters read
 * messages of up to 10 MiB, whose text is at most about one UTF-16 code unit (2 bytes) per byte read.
 */
export const MESSAGE_HELD_MAX_BYTES = 20 * 1024 * 1024;
/**
 * What the messages held by the workers may take together: one counted at its largest, or many as kept
 * (a body of HELD_TEXT_CHARS and headers; only headers of megabytes come near it).
 */
export const HELD_TOTAL_BYTES = 24 * 1024 * 1024;
/** What a held message is counted beyond its text (addresses, headers, the object itself). */
const MESSAGE_OVERHEAD_BYTES = 16 * 1024;

export interface MailMemoryLimits {
  /** What the messages held by work items may take together, bytes. Default HELD_TOTAL_BYTES. */
  heldTotalBytes: number;
  /** What a message is counted while it is being read (its size is known only after). Default MESSAGE_HELD_MAX_BYTES. */
  messageHeldMaxBytes: number;
}

/**
 * The agent's memory for mail, shared by the mail loop's workers (it runs in 128 MiB). Reading a 10 MiB
 * message costs several times its size while it is downloaded and parsed (the answer as bytes and as
 * text, its decoded body, the parse; some 50-60 MiB measured for Gmail), and each worker then holds the
 * message it works on through model calls that take seconds. Unbounded, four workers reading such
 * messages, each also reading a thread, would need several hundred MiB.
 *
 * So: downloads (a message, a thread, a provider call that reads the message again) run one at a time,
 * and only what outlives a download is kept (a message's body cut to HELD_TEXT_CHARS, a thread's
 * minimised context); a message read is counted at its largest until it is read, then at what is kept,
 * until its work item ends (`release`); and the held messages together stay within `heldTotalBytes`. The
 * worst case is then one download plus `heldTotalBytes`. A worker waits for held bytes holding nothing,
 * and holding held bytes waits only for a download, which never waits on held bytes: no cycle, so no
 * deadlock. Counts only; it allocates nothing.
 */
export class MailMemoryBudget {
  readonly #held: ByteSemaphore;
  readonly #downloads = new ByteSemaphore(1);
  readonly #messageHeldMaxBytes: number;
  readonly #leases = new Map<string, ByteLease>();
  /** Items kept past the work that read them (keep), with the bytes each is counted at. */
  readonly #kept = new Map<string, number>();
  #keptBytes = 0;

  constructor(limits: Partial<MailMemoryLimits> = {}) {
    this.#held = new ByteSemaphore(limits.heldTotalBytes ?? HELD_TOTAL_BYTES);
    this.#messageHeldMaxBytes = limits.messageHeldMaxBytes ?? MESSAGE_HELD_MAX_BYTES;
  }

  /** The bytes held by items kept past their work (keep), a part of heldBytes. */
  get keptBytes(): number {
    return this.#keptBytes;
  }

  /** The bytes the held messages are counted at now. */
  get heldBytes(): number {
    return this.#held.held;
  }

  /**
   * Reads the message of work item `item` (`read`, a download) and counts it as held by the item until
   * `release(item)`. Within the download, `digest` sees the message whole; the item keeps it with its body
   * cut to HELD_TEXT_CHARS (keptForWork), so a message of megabytes is held whole only while it is read.
   * A message the item already held is given back first.
   */
  async holdMessage<T>(item: string, read: () => Promise<MailMessage>, digest: (whole: MailMessage) => T): Promise<{ message: MailMessage; digest: T }> {
    this.release(item);
    const lease = await this.#held.acquire(this.#messageHeldMaxBytes);
    try {
      const held = await this.download(async () => {
        const whole = await read();
        return { message: keptForWork(whole), digest: digest(whole) };
      });
      lease.shrinkTo(heldBytesOf(held.message));
      this.#leases.set(item, lease);
      return held;
    } catch (error) {
      lease.release();
      throw error;
    }
  }

  /** Runs a download whose result is not kept (a thread read for context, a provider call that reads a message), one at a time. */
  async download<T>(read: () => Promise<T>): Promise<T> {
    const slot = await this.#downloads.acquire(1);
    try {
      return await read();
    } finally {
      slot.release();
    }
  }

  /**
   * Keeps the message `item` holds past the work that read it, for later work on the same item (a
   * message read ahead and worked in the same pass), until `release(item)`. Kept items are held by no
   * worker, so together they never take the room of a read at its largest: a read always gets its bytes
   * once the workers' own messages are given back, and no worker waits on a kept item. Returns false,
   * giving the message back, when keeping it would take that room (or the item holds nothing).
   */
  keep(item: string): boolean {
    const lease = this.#leases.get(item);
    if (lease === undefined) return false;
    if (this.#kept.has(item)) return true;
    const room = this.#held.capacity - Math.min(this.#held.capacity, this.#messageHeldMaxBytes);
    if (this.#keptBytes + lease.bytes > room) {
      this.release(item);
      return false;
    }
    this.#kept.set(item, lease.bytes);
    this.#keptBytes += lease.bytes;
    return true;
  }

  /** The work item is over: what it held (kept or not) is given back. */
  release(item: string): void {
    const kept = this.#kept.get(item);
    if (kept !== undefined) {
      this.#kept.delete(item);
      this.#keptBytes -= kept;
    }
    const lease = this.#leases.get(item);
    if (lease === undefined) return;
    this.#leases.delete(item);
    lease.release();
  }
}

/** The message as a work item keeps it: its body cut to HELD_TEXT_CHARS, holding nothing of the rest. Pure. */
export function keptForWork(message: MailMessage): MailMessage {
  return message.textBody.length <= HELD_TEXT_CHARS ? message : { ...message, textBody: detachedHead(message.textBody, HELD_TEXT_CHARS) };
}

/** What a message read holds in memory, as counted: its strings at 2 bytes a code unit, and an overhead. Pure. */
export function heldBytesOf(message: MailMessage): number {
  const addresses = [message.from, ...message.to, ...message.cc, ...message.replyTo].reduce((sum, entry) => sum + (entry === null ? 0 : entry.address.length + (entry.name?.length ?? 0)), 0);
  const headers = [...message.authenticationResults, ...message.references].reduce((sum, value) => sum + value.length, 0);
  return 2 * (message.textBody.length + message.subject.length + addresses + headers) + MESSAGE_OVERHEAD_BYTES;
}
