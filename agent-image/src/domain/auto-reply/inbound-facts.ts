import { normaliseAddress } from '@agent-fleet/kernel/email-address';
import { domainsOf } from '../policy/known-contacts.ts';
import { authenticateSender, type MailProviderKind, type SenderAuthReason } from '../sender-authentication/sender-verdict.ts';
import { injectionSignals, type InjectionSignal } from './injection-signals.ts';

/**
 * What code (never the model) establishes about an inbound message when it is read: whether the
 * receiving provider authenticated its sender, whether the sender is a known contact, and the injection
 * signals it shows. Kept with the message's progress, so a send that waits is judged again on the same
 * facts; recorded in the audit; the gate's auto-send rules read them. Pure.
 */
export type InboundFacts = {
  /** The From address, normalised; lower-cased as given when it does not normalise (a homoglyph domain), cut when overlong; '' when none. */
  sender: string;
  /** Whether the provider's verdict authenticates the From domain (sender-verdict.ts). */
  senderAuthenticated: boolean;
  /** Why (or why not). */
  authReason: SenderAuthReason;
  /** Whether the sender is a known contact (the client's config or learnt from its sent mail). */
  knownContact: boolean;
  /** injectionSignals() of the message; any one of them rules out an auto-send. */
  injectionSignals: InjectionSignal[];
  /** The provider thread of the message, when known (automatic replies per thread are limited). */
  thread?: string;
  /** When the provider received it, epoch milliseconds: automatic sends before it may have prompted it. */
  receivedAt?: number;
};

export type InboundMessage = {
  fromAddress: string | null;
  replyTo: readonly string[];
  subject: string;
  textBody: string;
  /** Every Authentication-Results header value, topmost first. */
  authenticationResults: readonly string[];
  /** Provider thread (conversation) id. */
  threadId?: string;
  /** When the provider received it. */
  receivedAt?: Date;
};

/** The facts of one message; `knownContacts`: normalised addresses of the client's known contacts. */
export function inboundFacts(provider: MailProviderKind, message: InboundMessage, knownContacts: ReadonlySet<string>): InboundFacts {
  const raw = (message.fromAddress ?? '').trim();
  const sender = normaliseAddress(raw) ?? unparsedSender(raw);
  const verdict = authenticateSender({ provider, fromAddress: message.fromAddress, authenticationResults: message.authenticationResults });
  return {
    sender,
    senderAuthenticated: verdict.authenticated,
    authReason: verdict.reason,
    knownContact: sender !== '' && knownContacts.has(sender),
    injectionSignals: injectionSignals(
      { subject: message.subject, textBody: message.textBody, fromAddress: message.fromAddress, replyTo: message.replyTo },
      domainsOf(knownContacts),
    ),
    ...(message.threadId === undefined || message.threadId === '' ? {} : { thread: message.threadId }),
    ...(message.receivedAt === undefined || Number.isNaN(message.receivedAt.getTime()) ? {} : { receivedAt: message.receivedAt.getTime() }),
  };
}

/**
 * The longest From kept when it is not an address, in characters. The facts are kept with the message's
 * progress, whose stored form allows 1000 (agent-state-store.ts): a longer value would be written, then
 * refused when the state is read back, and the agent would not start again. A sender writes the From
 * header, so its length is theirs to choose (a quoted local part of any length parses).
 */
export const MAX_UNPARSED_SENDER = 320;

/**
 * A From that is not an address, as kept: lower-cased, and cut with an ellipsis past MAX_UNPARSED_SENDER
 * characters (longer than any address, so the cut value still matches no contact and authenticates no one).
 */
function unparsedSender(raw: string): string {
  const characters = [...raw.toLowerCase()];
  return characters.length <= MAX_UNPARSED_SENDER ? characters.join('') : `${characters.slice(0, MAX_UNPARSED_SENDER - 1).join('')}…`;
}

/** A known contact whose address the provider could not authenticate: forged, or misconfigured. */
export function isUnauthenticatedKnownSender(facts: InboundFacts): boolean {
  return facts.knownContact && !facts.senderAuthenticated;
}
