import { deliverJson, json, type EmulatorResponse } from './http-emulator.ts';
import { wantsImmutableIds } from './graph-message-store.ts';

/**
 * Microsoft Graph change-notification subscriptions (`/v1.0/subscriptions`) for the Graph emulator,
 * strict like Graph: the notification URLs must answer the validation handshake (echo the
 * validationToken as text/plain with 200 within 10 s) or the subscription is refused (400
 * ValidationError); the expiry must be in the future and within 10080 minutes for Outlook messages.
 * While a subscription is active, each new inbox message is POSTed to its notificationUrl; tests send
 * lifecycle events (reauthorizationRequired, subscriptionRemoved, missed) themselves.
 */

export const MESSAGE_MAX_MINUTES = 10_080;
const INBOX_RESOURCES = ["me/mailfolders('inbox')/messages", 'me/mailfolders/inbox/messages'];
const CHANGE_TYPES = ['created', 'updated', 'deleted'];

export interface GraphSubscription {
  id: string;
  resource: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  clientState: string | null;
  expirationDateTime: string;
}

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

export interface NotificationDelivery {
  subscriptionId: string;
  url: string;
  kind: 'change' | 'lifecycle';
  body: { value: Record<string, unknown>[] };
  status: number | null;
}

type GraphError = (status: number, code: string, message: string) => EmulatorResponse;

export class GraphSubscriptions {
  /** Every notification attempted, in order, with the endpoint's answer (null: no answer). */
  readonly deliveries: NotificationDelivery[] = [];
  readonly #subscriptions = new Map<string, GraphSubscription>();
  /** Subscriptions created asking for immutable ids: their notifications carry them. */
  readonly #immutableIds = new Set<string>();
  readonly #error: GraphError;
  readonly #tenant: string;
  readonly #mailbox: string;
  #pending = new Set<Promise<void>>();
  #suspended = false;
  #deletesHeld: Promise<void> | null = null;
  readonly #heldDeleteIds = new Set<string>();

  constructor(options: { error: GraphError; tenant: string; mailbox: string }) {
    this.#error = options.error;
    this.#tenant = options.tenant;
    this.#mailbox = options.mailbox;
  }

  /** Active (unexpired) subscriptions. */
  list(): GraphSubscription[] {
    return [...this.#subscriptions.values()].filter((s) => Date.parse(s.expirationDateTime) > Date.now()).map((s) => ({ ...s }));
  }

  /** While suspended, change notifications are lost (what a `missed` lifecycle event reports). */
  suspendNotifications(suspended: boolean): void {
    this.#suspended = suspended;
  }

  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** Holds every DELETE (a slow provider) until `release`; `waiting` lists the ids of those being held. */
  holdDeletes(): { waiting: () => string[]; release: () => void } {
    let release!: () => void;
    this.#deletesHeld = new Promise<void>((resolve) => (release = resolve));
    return {
      waiting: () => [...this.#heldDeleteIds],
      release: () => {
        this.#deletesHeld = null;
        release();
      },
    };
  }

  owns(path: string): boolean {
    return path === '/v1.0/subscriptions' || path.startsWith('/v1.0/subscriptions/');
  }

  async handle(method: string, path: string, body: string, prefer = ''): Promise<EmulatorResponse> {
    const id = path.startsWith('/v1.0/subscriptions/') ? decodeURIComponent(path.slice('/v1.0/subscriptions/'.length)) : null;
    if (id === null && method === 'POST') return this.#create(body, prefer);
    if (id === null && method === 'GET') return json(200, { value: this.list() });
    if (id !== null && method === 'PATCH') return this.#renew(id, body);
    if (id !== null && method === 'DELETE') {
      if (this.#deletesHeld !== null) {
        this.#heldDeleteIds.add(id);
        await this.#deletesHeld;
        this.#heldDeleteIds.delete(id);
      }
      return this.#delete(id);
    }
    if (id !== null && method === 'GET') {
      const found = this.list().find((s) => s.id === id);
      return found === undefined ? this.#notFound(id) : json(200, found);
    }
    return this.#error(405, 'MethodNotAllowed', `${method} is not allowed on subscriptions.`);
  }

  /** Sends a lifecycle event for a subscription (the only one when `id` is omitted). */
  async sendLifecycle(event: LifecycleEvent, id?: string): Promise<number | null> {
    const subscription = id === undefined ? this.list()[0] : this.#subscriptions.get(id);
    if (subscription === undefined) throw new Error('no such subscription');
    if (event === 'subscriptionRemoved') this.#subscriptions.delete(subscription.id);
    const item = {
      subscriptionId: subscription.id,
      subscriptionExpirationDateTime: subscription.expirationDateTime,
      tenantId: this.#tenant,
      clientState: subscription.clientState,
      lifecycleEvent: event,
    };
    const delivery = this.#deliver(subscription, subscription.lifecycleNotificationUrl ?? subscription.notificationUrl, 'lifecycle', item);
    await delivery;
    return this.deliveries.at(-1)?.status ?? null;
  }

  /**
   * Called by the emulator when a message lands in the inbox. As at Graph, a subscription created with
   * `Prefer: IdType="ImmutableId"` is told the message's immutable id, any other its REST id.
   */
  messageCreated(ids: { id: string; restId: string }): void {
    if (this.#suspended) return;
    for (const subscription of this.list()) {
      if (!subscription.changeType.split(',').includes('created')) continue;
      const messageId = this.#immutableIds.has(subscription.id) ? ids.id : ids.restId;
      const resource = `Users/${this.#mailbox}/Messages/${messageId}`;
      void this.#deliver(subscription, subscription.notificationUrl, 'change', {
        subscriptionId: subscription.id,
        subscriptionExpirationDateTime: subscription.expirationDateTime,
        changeType: 'created',
        resource,
        resourceData: { '@odata.type': '#Microsoft.Graph.Message', '@odata.id': resource, '@odata.etag': `W/"${messageId.slice(-8)}"`, id: messageId },
        clientState: subscription.clientState,
        tenantId: this.#tenant,
      });
    }
  }

  // ---- internals -----------------------------------------------------------------------------------

  async #create(raw: string, prefer: string): Promise<EmulatorResponse> {
    const body = parseObject(raw);
    if (body === null) return this.#error(400, 'BadRequest', 'Unable to read JSON request payload.');
    const { changeType, notificationUrl, lifecycleNotificationUrl, resource, expirationDateTime, clientState } = body;
    if (typeof changeType !== 'string' || changeType.split(',').some((t) => !CHANGE_TYPES.includes(t))) {
      return this.#error(400, 'InvalidRequest', "Invalid 'changeType' attribute.");
    }
    if (typeof resource !== 'string' || !INBOX_RESOURCES.includes(resource.replace(/^\//, '').toLowerCase())) {
      return this.#error(400, 'InvalidRequest', 'The resource is not supported by this emulator (inbox messages only).');
    }
    if (typeof notificationUrl !== 'string' || !acceptableUrl(notificationUrl)) {
      return this.#error(400, 'InvalidRequest', 'The notificationUrl must be an https URL.');
    }
    if (lifecycleNotificationUrl !== undefined && (typeof lifecycleNotificationUrl !== 'string' || !acceptableUrl(lifecycleNotificationUrl))) {
      return this.#error(400, 'InvalidRequest', 'The lifecycleNotificationUrl must be an https URL.');
    }
    if (clientState !== undefined && (typeof clientState !== 'string' || clientState.length > 128)) {
      return this.#error(400, 'InvalidRequest', 'clientState must be a string of at most 128 characters.');
    }
    const expiry = this.#checkExpiry(expirationDateTime);
    if (typeof expiry !== 'string') return expiry;
    for (const url of [notificationUrl, ...(typeof lifecycleNotificationUrl === 'string' ? [lifecycleNotificationUrl] : [])]) {
      if (!(await validates(url))) {
        return this.#error(400, 'ValidationError', 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.');
      }
    }
    const subscription: GraphSubscription = {
      id: crypto.randomUUID(),
      resource,
      changeType,
      notificationUrl,
      lifecycleNotificationUrl: typeof lifecycleNotificationUrl === 'string' ? lifecycleNotificationUrl : null,
      clientState: typeof clientState === 'string' ? clientState : null,
      expirationDateTime: expiry,
    };
    this.#subscriptions.set(subscription.id, subscription);
    if (wantsImmutableIds(prefer)) this.#immutableIds.add(subscription.id);
    return json(201, { '@odata.context': 'emulator#subscriptions/$entity', ...subscription, latestSupportedTlsVersion: 'v1_2' });
  }

  #renew(id: string, raw: string): EmulatorResponse {
    const subscription = this.list().find((s) => s.id === id);
    if (subscription === undefined) return this.#notFound(id);
    const body = parseObject(raw);
    if (body === null) return this.#error(400, 'BadRequest', 'Unable to read JSON request payload.');
    const expiry = this.#checkExpiry(body['expirationDateTime']);
    if (typeof expiry !== 'string') return expiry;
    const stored = this.#subscriptions.get(id);
    if (stored !== undefined) stored.expirationDateTime = expiry;
    return json(200, { ...subscription, expirationDateTime: expiry });
  }

  #delete(id: string): EmulatorResponse {
    if (!this.#subscriptions.delete(id)) return this.#notFound(id);
    return { status: 204 };
  }

  #checkExpiry(value: unknown): string | EmulatorResponse {
    const at = typeof value === 'string' ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(at)) return this.#error(400, 'InvalidRequest', "Invalid 'expirationDateTime'.");
    if (at <= Date.now()) return this.#error(400, 'InvalidRequest', 'Subscription expiration must be in the future.');
    if (at > Date.now() + MESSAGE_MAX_MINUTES * 60_000) {
      return this.#error(400, 'InvalidRequest', `Subscription expiration can only be ${MESSAGE_MAX_MINUTES} minutes in the future.`);
    }
    return new Date(at).toISOString();
  }

  #notFound(id: string): EmulatorResponse {
    return this.#error(404, 'ResourceNotFound', `The object was not found: subscription ${id}.`);
  }

  #deliver(subscription: GraphSubscription, url: string, kind: NotificationDelivery['kind'], item: Record<string, unknown>): Promise<void> {
    const delivery: NotificationDelivery = { subscriptionId: subscription.id, url, kind, body: { value: [item] }, status: null };
    this.deliveries.push(delivery);
    return deliverJson(url, delivery.body, delivery, this.#pending);
  }
}

/** HTTPS, or plain HTTP on loopback (where the tests' agents listen). */
function acceptableUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && ['127.0.0.1', 'localhost'].includes(url.hostname));
  } catch {
    return false;
  }
}

/** Graph's handshake: POST ?validationToken=…, expect 200 and the token echoed as text/plain within 10 s. */
async function validates(url: string): Promise<boolean> {
  const token = `Validation: Testing client application reachability for subscription Request-Id: ${crypto.randomUUID()}`;
  const target = new URL(url);
  target.searchParams.set('validationToken', token);
  try {
    const response = await fetch(target, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, signal: AbortSignal.timeout(10_000) });
    const text = await response.text();
    return response.status === 200 && String(response.headers.get('content-type')).startsWith('text/plain') && text === token;
  } catch {
    return false;
  }
}

function parseObject(raw: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
