import { deliverJson, json, randomId, type EmulatorResponse } from './http-emulator.ts';

/**
 * Gmail's `users.watch` / `users.stop` and the Cloud Pub/Sub push that follows, for the Gmail emulator.
 * A watch lasts 7 days; while one is active, each new inbox message is pushed to the endpoint the test
 * configured (standing in for the Pub/Sub push subscription), as Pub/Sub's push body.
 */

const TOPIC_RULE = /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/topics\/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/;
const WATCH_LIFETIME_MS = 7 * 86_400_000;

export interface GmailWatchState {
  topicName: string;
  labelIds: string[];
  labelFilterBehavior: 'include' | 'exclude';
  historyId: string;
  expiration: number;
}

export interface PushDelivery {
  url: string;
  body: { message: { data: string; messageId: string; publishTime: string }; subscription: string };
  status: number | null;
}

type GmailError = (code: number, message: string, reason: string, status: string) => EmulatorResponse;

export class GmailPush {
  /** Every push attempted, in order, with the endpoint's answer (null: no answer). */
  readonly deliveries: PushDelivery[] = [];
  #watch: GmailWatchState | null = null;
  #endpoint: string | null = null;
  #pending = new Set<Promise<void>>();
  readonly #error: GmailError;
  readonly #subscription = `projects/emulator-project/subscriptions/gmail-push-${randomId()}`;

  constructor(error: GmailError) {
    this.#error = error;
  }

  get watch(): Readonly<GmailWatchState> | null {
    return this.#watch !== null && this.#watch.expiration > Date.now() ? this.#watch : null;
  }

  /** The push endpoint of the Pub/Sub subscription (the test builds it, token included); null: none. */
  setPushEndpoint(url: string | null): void {
    this.#endpoint = url;
  }

  /** Waits until every push started so far has been answered. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** Makes the current watch expire now (the 7 days went by). */
  expireWatch(): void {
    if (this.#watch !== null) this.#watch.expiration = Date.now() - 1;
  }

  handleWatch(body: string, historyId: number): EmulatorResponse {
    let parsed: { topicName?: unknown; labelIds?: unknown; labelFilterBehavior?: unknown; labelFilterAction?: unknown };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return this.#error(400, 'Invalid JSON payload received.', 'badRequest', 'INVALID_ARGUMENT');
    }
    const topicName = parsed.topicName;
    if (typeof topicName !== 'string' || !TOPIC_RULE.test(topicName)) {
      return this.#error(400, 'Invalid topicName does not match projects/SOME-PROJECT/topics/SOME-TOPIC', 'invalidArgument', 'INVALID_ARGUMENT');
    }
    const labelIds = parsed.labelIds ?? [];
    if (!Array.isArray(labelIds) || !labelIds.every((id) => typeof id === 'string')) {
      return this.#error(400, 'Invalid labelIds', 'invalidArgument', 'INVALID_ARGUMENT');
    }
    const behavior = parsed.labelFilterBehavior ?? parsed.labelFilterAction ?? 'include';
    if (behavior !== 'include' && behavior !== 'exclude') {
      return this.#error(400, 'Invalid labelFilterBehavior', 'invalidArgument', 'INVALID_ARGUMENT');
    }
    const expiration = Date.now() + WATCH_LIFETIME_MS;
    this.#watch = { topicName, labelIds: labelIds as string[], labelFilterBehavior: behavior, historyId: String(historyId), expiration };
    return json(200, { historyId: String(historyId), expiration: String(expiration) });
  }

  handleStop(): EmulatorResponse {
    this.#watch = null;
    return { status: 204 };
  }

  /** Called by the emulator for each message added; pushes when the active watch covers its labels. */
  messageAdded(emailAddress: string, historyId: number, labelIds: string[]): void {
    const watch = this.watch;
    if (watch === null || this.#endpoint === null) return;
    const matches = watch.labelIds.length === 0 || watch.labelIds.some((label) => labelIds.includes(label));
    if ((watch.labelFilterBehavior === 'include') !== matches) return;
    const body = {
      message: {
        data: Buffer.from(JSON.stringify({ emailAddress, historyId })).toString('base64'),
        messageId: String(Math.floor(Math.random() * 1e15)),
        publishTime: new Date().toISOString(),
      },
      subscription: this.#subscription,
    };
    const delivery: PushDelivery = { url: this.#endpoint, body, status: null };
    this.deliveries.push(delivery);
    void deliverJson(delivery.url, body, delivery, this.#pending);
  }
}
