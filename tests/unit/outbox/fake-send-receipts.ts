import { IDEMPOTENCY_HEADER } from '../../../agent-image/src/domain/idempotency-key.ts';
import { type OutboundMessage, type SendReceipt, type SendReceipts } from '../../../agent-image/src/ports/send-receipts.ts';

type Script = { error: unknown; afterSending: boolean } | { hang: true };

/** In-memory test double of our SendReceipts port: a mailbox whose sent folder we can inspect. */
export class FakeSendReceipts implements SendReceipts {
  readonly sent: Array<{ key: string; message: OutboundMessage; receipt: SendReceipt }> = [];
  readonly calls: string[] = [];
  private readonly sendScripts: Script[] = [];
  private readonly lookupErrors: unknown[] = [];

  /** The next send fails with `error`; with afterSending the message still goes out (a lost response). */
  failNextSend(error: unknown, options: { afterSending?: boolean } = {}): this {
    this.sendScripts.push({ error, afterSending: options.afterSending ?? false });
    return this;
  }

  /** The next send delivers the message and never answers: the process dies waiting for the provider. */
  hangAfterNextSend(): this {
    this.sendScripts.push({ hang: true });
    return this;
  }

  failNextLookup(error: unknown): this {
    this.lookupErrors.push(error);
    return this;
  }

  sendsFor(key: string): number {
    return this.sent.filter((entry) => entry.key === key).length;
  }

  async findSentByIdempotencyKey(key: string): Promise<SendReceipt | null> {
    this.calls.push(`find:${key}`);
    const error = this.lookupErrors.shift();
    if (error !== undefined) throw error;
    return this.sent.find((entry) => entry.key === key)?.receipt ?? null;
  }

  async send(message: OutboundMessage): Promise<SendReceipt> {
    const key = message.headers[IDEMPOTENCY_HEADER];
    if (key === undefined) throw new Error('test double: message without idempotency header');
    this.calls.push(`send:${key}`);
    const script = this.sendScripts.shift();
    if (script !== undefined && !('hang' in script) && !script.afterSending) throw script.error;
    const receipt = { providerMessageId: `msg-${this.sent.length + 1}`, sentAt: new Date(0).toISOString() };
    this.sent.push({ key, message, receipt });
    if (script !== undefined && 'hang' in script) return new Promise<SendReceipt>(() => undefined);
    if (script !== undefined) throw script.error;
    return receipt;
  }
}
