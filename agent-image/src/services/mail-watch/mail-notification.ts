import * as z from 'zod';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { secretsEqual } from '@agent-fleet/kernel/secret-compare';

/**
 * Push notifications as they arrive at the agent, validated. Their content is never trusted beyond
 * "something changed": the sync reads the mailbox itself, so a forged or replayed notification can at
 * worst cause one extra sync.
 */

/** Graph lifecycle events that need more than a sync. */
export type GraphLifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

export type MailNotification =
  | { kind: 'outlook'; changes: number; lifecycle: { event: GraphLifecycleEvent; subscriptionId: string }[] }
  | { kind: 'gmail'; historyId: string };

const graphItem = z
  .object({
    subscriptionId: z.string().min(1).max(200),
    clientState: z.string().max(255).nullish(),
    changeType: z.string().max(50).optional(),
    lifecycleEvent: z.enum(['reauthorizationRequired', 'subscriptionRemoved', 'missed']).optional(),
    resource: z.string().max(2000).optional(),
    subscriptionExpirationDateTime: z.string().max(64).optional(),
    tenantId: z.string().max(200).optional(),
    resourceData: z.object({ id: z.string().max(2000).optional() }).loose().optional(),
  })
  .loose();
const graphBody = z.object({ value: z.array(graphItem).min(1).max(1000) }).loose();

const pubSubBody = z
  .object({
    message: z
      .object({
        data: z.string().min(1).max(4096),
        messageId: z.string().max(200).optional(),
        publishTime: z.string().max(64).optional(),
        attributes: z.record(z.string(), z.string().max(1000)).optional(),
      })
      .loose(),
    subscription: z.string().max(500).optional(),
  })
  .loose();
const gmailData = z.object({ emailAddress: z.string().max(320), historyId: z.union([z.string().regex(/^\d{1,30}$/), z.number().int().nonnegative()]) }).loose();

function invalid(error: z.ZodError, what: string): FleetError {
  const issues = error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`);
  return new FleetError('invalid_input', `not a ${what}: ${issues.join('; ')}`);
}

/** A presented secret matches ours (constant time); nothing presented, or nothing of ours, never matches. */
export function secretMatches(presented: string | null | undefined, expected: string): boolean {
  if (typeof presented !== 'string' || presented === '' || expected === '') return false;
  return secretsEqual(presented, expected);
}

/**
 * Parses and authenticates a Graph notification batch. Every item must carry our clientState: one
 * forged item refuses the whole batch (FleetError `forbidden`; `unauthorized` when none is presented).
 */
export function parseGraphNotification(body: unknown, clientState: string): MailNotification {
  const parsed = graphBody.safeParse(body);
  if (!parsed.success) throw invalid(parsed.error, 'Graph notification batch');
  const items = parsed.data.value;
  if (items.some((item) => item.clientState === undefined || item.clientState === null || item.clientState === '')) {
    throw new FleetError('unauthorized', 'notification without clientState');
  }
  if (!items.every((item) => secretMatches(item.clientState, clientState))) throw new FleetError('forbidden', 'notification with a wrong clientState');
  const lifecycle = items.flatMap((item) => (item.lifecycleEvent === undefined ? [] : [{ event: item.lifecycleEvent, subscriptionId: item.subscriptionId }]));
  return { kind: 'outlook', changes: items.length - lifecycle.length, lifecycle };
}

/**
 * The first check of a Pub/Sub push of a Gmail notification, before its body is read: the push URL's
 * secret `token`. FleetError `unauthorized` when none is presented, `forbidden` when it is wrong.
 */
export function authenticateGmailPushToken(presentedToken: string | null, token: string): void {
  if (presentedToken === null || presentedToken === '') throw new FleetError('unauthorized', 'push without token');
  if (!secretMatches(presentedToken, token)) throw new FleetError('forbidden', 'push with a wrong token');
}

/** A Gmail notification as Pub/Sub pushed it: which mailbox changed, up to which history id. */
export interface GmailPushContent {
  emailAddress: string;
  historyId: string;
}

/** Reads an (already authenticated) Pub/Sub push of a Gmail notification. */
export function readGmailPush(body: unknown): GmailPushContent {
  const parsed = pubSubBody.safeParse(body);
  if (!parsed.success) throw invalid(parsed.error, 'Pub/Sub push message');
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(parsed.data.message.data, 'base64').toString('utf8'));
  } catch {
    throw new FleetError('invalid_input', 'not a Pub/Sub push message: message.data is not base64 JSON');
  }
  const data = gmailData.safeParse(decoded);
  if (!data.success) throw invalid(data.error, 'Gmail notification');
  return { emailAddress: data.data.emailAddress, historyId: String(data.data.historyId) };
}

/** Parses and authenticates (by the push URL's token alone) a Pub/Sub push of a Gmail notification. */
export function parseGmailNotification(body: unknown, presentedToken: string | null, token: string): MailNotification {
  authenticateGmailPushToken(presentedToken, token);
  return { kind: 'gmail', historyId: readGmailPush(body).historyId };
}

/** True when a Gmail push is about this mailbox; an unknown mailbox matches nothing. */
export function isAboutMailbox(push: GmailPushContent, mailbox: string | undefined): boolean {
  return mailbox !== undefined && push.emailAddress.toLowerCase() === mailbox.toLowerCase();
}

/** Graph's validation handshake token: echoed as text/plain, so only a bounded, printable value. */
export function parseValidationToken(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024 || !/^[\x20-\x7e]+$/.test(value)) {
    throw new FleetError('invalid_input', 'validationToken must be 1-1024 printable ASCII characters');
  }
  return value;
}
