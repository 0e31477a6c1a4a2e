import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { normaliseAddress } from '@agent-fleet/kernel/email-address';
import type { InjectionSignal } from '../auto-reply/injection-signals.ts';
import { compileTemplates, renderTemplateReply, type TemplateSet } from '../auto-reply/render-reply.ts';
import type { FreeSlot } from '../auto-reply/slot-validators.ts';
import type { PolicyFacts, ReasonCode } from './decision.ts';
import { freeTextContentIssues } from './free-text-content.ts';
import { registrableDomainOf } from './link-host.ts';
import type { ProposedAction } from './proposed-action.ts';
import { slotContentIssues } from './template-backstop.ts';
import { sameTemplateBody, sameTemplateSubject } from './template-text.ts';

/**
 * The auto-send rules of a `mail.send` (step 7 of the gate). A send goes out without approval only when
 *   - its type is an auto-send type, and
 *   - its text is a template reply the gate renders again from the model's choice and the trusted
 *     facts below, every slot validated, and finds identical, white space included (template-text.ts;
 *     no attachment, no link field), with no link, address or hidden character its template text does
 *     not hold (template-backstop.ts, behind the slot validators) — or the client opted the type in to
 *     free text explicitly (autoReply.freeTextAutoSend), the send answers a message whose facts the
 *     runtime supplied (the opt-in covers replies, never new messages), attaches no file, names no one
 *     the client does not know, links nowhere but under the client's own domain and the recipients', and
 *     hides no text (free-text-content.ts), and
 *   - when it answers a message: the facts are of the message it answers (their message id is its
 *     `inReplyTo`), the sender is authenticated (sender-verdict.ts), the recipients are exactly that
 *     sender, and the message showed no injection signal.
 * Each failing condition is an approval reason, so the approver sees them all.
 */

/** What code (never the model) established about the message a send answers. */
export type InboundFacts = {
  /**
   * Provider id of the message these facts are of. A send is judged on them only when its `inReplyTo`
   * names this message: facts of one message never clear a reply to another (a mix-up of the runtime's, or
   * a proposal pairing a reply with a cleaner message's facts). Absent: the facts are tied to no message,
   * and no reply auto-sends on them.
   */
  messageId?: string;
  /** The From address of the message answered. */
  senderAddress: string;
  /** Whether the receiving provider's verdict authenticates that address (authenticateSender). */
  senderAuthenticated: boolean;
  /** injectionSignals() of the message. */
  injectionSignals: readonly InjectionSignal[];
  /** The provider thread of the message, when known: automatic replies per thread are limited (auto-send-limits.ts). */
  thread?: string;
  /** When the provider received the message, epoch milliseconds, when known (auto-send-limits.ts). */
  receivedAt?: number;
};

/** The trusted inputs of a template's slots; the client's language, signature and zone come from its config. */
export type TemplateFacts = {
  /** Subject of the message answered, as received. */
  originalSubject: string;
  /**
   * In this order: the contact record's name, then the From display name (null where not known). Only the
   * first is the client's; of the display name a reply may use the first word only (slot-validators.ts).
   */
  nameSources: readonly (string | null | undefined)[];
  /** Free slots of the client's own calendar that the reply may offer. */
  freeSlots: readonly FreeSlot[];
};

export type AutoSendContext = {
  inbound: InboundFacts;
  /** Present when the model chose a template: its choice (untrusted) and the facts it is checked against. */
  templateReply?: { choice: unknown; facts: TemplateFacts };
};

export type CompiledAutoSend = {
  readonly templates: TemplateSet;
  readonly autoSendTypes: ReadonlySet<string>;
  readonly alwaysApprovalTypes: ReadonlySet<string>;
  readonly freeTextTypes: ReadonlySet<string>;
  /** The registrable name of the client's own mailbox domain, where it has one: free text may link under it. */
  readonly ownLinkDomains: ReadonlySet<string>;
  readonly config: ClientConfig;
};

export function compileAutoSend(config: ClientConfig): CompiledAutoSend {
  return {
    templates: compileTemplates(config.autoReply),
    autoSendTypes: new Set<string>(config.autoSendTypes),
    alwaysApprovalTypes: new Set<string>(config.alwaysApprovalTypes),
    freeTextTypes: new Set<string>(config.autoReply.freeTextAutoSend.map((entry) => entry.type)),
    ownLinkDomains: registrableDomains(config.mailbox === undefined ? [] : [config.mailbox]),
    config,
  };
}

/** The registrable names of the domains of these addresses (link-host.ts), those that have one. */
function registrableDomains(addresses: readonly string[]): Set<string> {
  const domains = new Set<string>();
  for (const address of addresses) {
    const registrable = registrableDomainOf(address.slice(address.lastIndexOf('@') + 1));
    if (registrable !== null) domains.add(registrable);
  }
  return domains;
}

/**
 * The context a send is judged on as a reply: the one given when its facts are of the message the send
 * answers (InboundFacts.messageId is its inReplyTo), else none, with why in `details`. Without a context,
 * a send that is not a new message, or one with facts, is held (sendHolds).
 */
function answeredContext(send: Send, context: AutoSendContext | undefined, details: string[]): AutoSendContext | undefined {
  if (context === undefined) return undefined;
  const { messageId } = context.inbound;
  if (messageId !== undefined && send.inReplyTo === messageId) return context;
  details.push(
    messageId === undefined
      ? 'the facts given about the message answered do not say which message they are of'
      : send.inReplyTo === undefined
        ? 'the send names no message it answers, but comes with the facts of one'
        : 'the facts given are of another message than the one the send answers',
  );
  return undefined;
}

type Send = Extract<ProposedAction, { kind: 'mail.send' }>;

/** Why the send is not the template reply the model chose; empty when it is. */
function templateIssues(send: Send, compiled: CompiledAutoSend, context: AutoSendContext, now: Date): string[] {
  const chosen = context.templateReply;
  if (chosen === undefined) return ['no template was chosen'];
  const { config } = compiled;
  const rendered = renderTemplateReply(chosen.choice, compiled.templates, {
    language: config.autoReply.language,
    timeZone: config.timezone,
    signature: config.autoReply.signature,
    ...chosen.facts,
    now,
  });
  if (!rendered.ok) return rendered.issues;
  const template = compiled.templates.get(rendered.reply.templateId);
  const issues = slotContentIssues(rendered.reply, { templateBody: template?.body ?? '', signature: config.autoReply.signature });
  if (rendered.reply.type !== send.emailType) issues.push(`the template answers ${rendered.reply.type}, the send is classified ${send.emailType ?? 'unclassified'}`);
  if (!sameTemplateSubject(rendered.reply.subject, send.subject) || !sameTemplateBody(rendered.reply.body, send.body)) {
    issues.push('the subject or body differs from the rendered template');
  }
  if (send.attachments.length > 0 || send.links.length > 0) issues.push('a template reply carries no attachment or link');
  return issues;
}

/** Step 7 for a send: the reasons to hold it, with details and the facts for metrics and audit. */
export function sendHolds(
  send: Send,
  recipients: readonly string[],
  compiled: CompiledAutoSend,
  given: AutoSendContext | undefined,
  now: Date,
  details: string[],
  isKnown: (address: string) => boolean,
): { reasons: ReasonCode[]; facts: Partial<PolicyFacts> } {
  const reasons: ReasonCode[] = [];
  const facts: Partial<PolicyFacts> = {};
  const context = answeredContext(send, given, details);
  const type = send.emailType;
  if (type === undefined) reasons.push('unclassified');
  else if (compiled.alwaysApprovalTypes.has(type)) reasons.push('type_requires_approval');
  else if (!compiled.autoSendTypes.has(type)) reasons.push('type_not_auto_send');
  else {
    const issues = context === undefined ? ['no template was chosen'] : templateIssues(send, compiled, context, now);
    facts.templateReply = issues.length === 0;
    if (issues.length > 0 && !compiled.freeTextTypes.has(type)) {
      reasons.push('free_text');
      details.push(`not a validated template reply: ${issues.slice(0, 3).join('; ')}`);
    } else if (issues.length > 0 && context === undefined) {
      // The opt-in is consent to free-text *replies*, checked against the message answered (below). A send
      // answering no message the runtime read (a new message, or a reply whose facts it was not given) has
      // none of those checks: free text there would mail any known contact, links and all, unseen.
      reasons.push('free_text');
      details.push('free text may auto-send only as a reply to a message the agent read; this send answers none');
    } else if (issues.length > 0 && send.attachments.length > 0) {
      // The opt-in accepts text the model writes; an attachment is a file of the client's (from its drive or
      // its mail) leaving in the client's name, which no one looked at.
      reasons.push('free_text');
      details.push('free text may auto-send, but not with an attachment');
    } else if (issues.length > 0) {
      const linkDomains = new Set([...compiled.ownLinkDomains, ...registrableDomains(recipients)]);
      const carried = freeTextContentIssues(send, isKnown, linkDomains);
      if (carried.length > 0) {
        reasons.push('free_text');
        details.push(`free text may auto-send, but not when ${carried.slice(0, 2).join('; ')}`);
      }
    }
  }
  // A reply: only to its authenticated sender, and only when the message did not try to steer us.
  if (send.inReplyTo !== undefined || given !== undefined) {
    const inbound = context?.inbound;
    const sender = inbound === undefined ? undefined : normaliseAddress(inbound.senderAddress);
    facts.senderAuthenticated = inbound?.senderAuthenticated === true && sender !== undefined;
    if (!facts.senderAuthenticated) {
      reasons.push('sender_unauthenticated');
      details.push(inbound === undefined ? 'no verdict on the sender of the message answered' : 'the sender of the message answered is not authenticated (SPF/DKIM/DMARC)');
    }
    if (sender === undefined || recipients.length !== 1 || recipients[0] !== sender) {
      reasons.push('recipient_not_sender');
      details.push('a reply goes to the sender of the message answered and no one else');
    }
    const signals = inbound?.injectionSignals ?? [];
    facts.injectionSignals = signals.length;
    if (signals.length > 0) {
      reasons.push('injection_signal');
      details.push(`the message answered shows: ${signals.join(', ')}`);
    }
  }
  return { reasons, facts };
}
