import type { Capability, ClientConfig } from '@agent-fleet/kernel/client-config';
import { authorizesExecution, type ApprovalRecord } from '../approval.ts';
import { uncoveredHolds, type BlockedCoverage } from './approval-coverage.ts';
import { comparableAddress } from './ascii-domain.ts';
import { autoSendLimitIssues, autoSendUsage, DEFAULT_AUTO_SEND_LIMITS } from './auto-send-limits.ts';
import { compileAutoSend, sendHolds, type AutoSendContext } from './auto-send-rules.ts';
import { compileBlockList } from './block-list.ts';
import type { Decision, PolicyDecision, PolicyFacts, ReasonCode, SendWindow } from './decision.ts';
import { sendWindowDenial } from './send-window.ts';
import { domainOf } from '@agent-fleet/kernel/email-address';
import { domainsOf } from './known-contacts.ts';
import type { PolicyState } from './policy-state.ts';
import {
  isOutbound,
  isRead,
  outboundRecipients,
  parseProposedAction,
  type ActionKind,
  type ProposedAction,
} from './proposed-action.ts';
import { recipientsWithNotified, unseenRecipients, type NotifiedAttendees } from './notified-attendees.ts';
import { recipientsInWindows } from './rate-window.ts';
import { linkIn } from './link-host.ts';
import { hiddenHtmlTextIn } from './hidden-html-text.ts';
import { invisibleTextIn, unknownAddressIn } from './sent-text-content.ts';
import { compileShortenerDetector } from './url-shortener.ts';
import { partsWithInvisibleText } from './written-invisible-text.ts';
import { parseEventInstant } from '../scheduling/event-instant.ts';
import { eventStartWindowIssue } from '../scheduling/event-proposal.ts';

/**
 * The policy gate. Rules run in a fixed order:
 *   1. unparseable input            → deny (fail closed)
 *   2. persisted kill flag          → deny `killed`
 *   3. permission for the kind      → deny `permission_denied`; an event starting long ago or years
 *                                     ahead → deny `unparseable`
 *   (reads stop here: allowed, with the data age as a fact)
 *   4. dry run                      → deny `dry_run`; `dryRun` carries what would have been decided
 *   5. block list                   → needs approval `blocked_recipient`
 *   6. onboarding window            → needs approval `onboarding` (every outbound action)
 *   7. auto-send rules              → needs approval `new_contact`, `unclassified`, `type_requires_approval`,
 *                                     `type_not_auto_send`, `free_text`, `sender_unauthenticated`,
 *                                     `recipient_not_sender`, `injection_signal` (auto-send-rules.ts),
 *                                     `auto_reply_loop` (auto-send-limits.ts), `bulk`, `url_shortener`,
 *                                     `public_share`, `free_text` (a link, the address of someone the client
 *                                     does not know, or invisible text, in a calendar write's text:
 *                                     sent-text-content.ts, hidden-html-text.ts; text no reader sees in a
 *                                     mail, a draft, a file or a CRM record: written-invisible-text.ts)
 *   8. destructive actions          → needs approval `deletion`, `move` (always; archiving is not a move;
 *                                     a label that trashes or spams mail, taking SPAM off, and a file
 *                                     overwrite count)
 *   9. sending paused, rate limits  → deny `paused`, `rate_limit_hour`, `rate_limit_day`, with
 *                                     `retryable` (keep it queued) and, for limits, `pauseSending`; an
 *                                     allowed outbound action carries its `sendWindow`, so actions that
 *                                     run together are held to the limits on their sum (bundle-decision.ts)
 * Deny rules stop at the first that applies; every approval rule that applies is listed, so the approver
 * sees all of them. A valid approval for these exact arguments satisfies steps 5–8 (a blocked recipient its
 * approver was not shown as blocked excepted: approval-coverage.ts), never 1–4 or 9.
 * An update or cancel of an event reaches every attendee the calendar lists: given them (`notified`,
 * read just before it runs), the gate decides on all of them, and an approval does not cover the block
 * list, new contacts or bulk when they come from attendees its approver was not shown. An update that adds
 * people sends them the event's text it leaves as it is: given that text (`keptText`), the gate checks it
 * for links as it checks the update's own, and only an approval whose approver was shown it covers it.
 */

export type EvaluateOptions = {
  /** The approval the action runs under, if any; checked against the action's hash and expiry. */
  approval?: ApprovalRecord;
  /**
   * For a send answering a message: what code established about that message and, for a template
   * reply, the model's choice. Without it a reply never auto-sends (auto-send-rules.ts).
   */
  autoSend?: AutoSendContext;
  /**
   * For an update or cancel of an event, when it is about to run: everyone the provider notifies of it
   * (notified-attendees.ts). Without it the gate sees only the participants the change names.
   */
  notified?: NotifiedAttendees;
  /**
   * For an update that adds participants, when it is about to run: the event's text the update leaves as it
   * is (its title, location and description where the update writes none), as the provider holds it. The
   * invitations of the people added carry it: text the agent may never have written (an event a person made,
   * or one written from an invitation), checked for links as the update's own text is. Not given for an
   * update that adds no one: its notices go to attendees who have that text already. `shown`: the approval
   * the update runs under showed its approver this text (a link in it is covered only then).
   */
  keptText?: { text: string; shown: boolean };
  /**
   * For an action run under an approval: the settings in force are not the version the approval was asked
   * under, or that version is not known (the runtime compares them). Which recipients were blocked when its
   * approver decided is then not known, so a blocked recipient holds it again (approval-coverage.ts).
   * Absent: the same settings, whose block list matched the same recipients then.
   */
  approvalSettingsChanged?: boolean;
  /**
   * For an action run under an approval: the recipients the block list matched when the approval was asked
   * (recorded with it; its approver was shown them as blocked). Given, it decides which blocked recipients
   * the approval covers, and `approvalSettingsChanged` is not read (approval-coverage.ts).
   */
  approvalBlocked?: readonly string[];
};

export type PolicyEvaluator = {
  readonly config: ClientConfig;
  /** Parses untrusted input and decides. Never throws. */
  evaluate(input: unknown, state: PolicyState, now: Date, options?: EvaluateOptions): PolicyDecision;
  /** Decides an action that has already been parsed with `parseProposedAction`. */
  evaluateParsed(action: ProposedAction, state: PolicyState, now: Date, options?: EvaluateOptions): PolicyDecision;
};

const PERMISSION: Record<ActionKind, Capability> = {
  'mail.read': 'mail.read',
  'calendar.read': 'calendar.read',
  'files.read': 'files.read',
  'crm.read': 'crm.read',
  'mail.draft': 'mail.draft',
  'mail.send': 'mail.send',
  'mail.label': 'mail.label',
  'mail.delete': 'mail.delete',
  'mail.move': 'mail.move',
  'calendar.write': 'calendar.write',
  'files.share': 'files.share',
  'files.write': 'files.write',
  'files.delete': 'files.delete',
  'crm.write': 'crm.write',
};

const DAY_MS = 86_400_000;

/**
 * Labels the mailbox acts on rather than shows: Gmail's system labels TRASH (the message is deleted,
 * for good after 30 days) and SPAM (it leaves the inbox for the spam folder). Gmail resolves label names
 * case-insensitively, so "Trash" is the same label. Adding one is a deletion or a move, not a label.
 */
const ACTING_LABELS: ReadonlyMap<string, 'deletion' | 'move'> = new Map([
  ['trash', 'deletion'],
  ['spam', 'move'],
]);

/**
 * Labels whose removal acts on the mail too. Taking SPAM off is "not spam": the message leaves the spam
 * folder for the client's mail, and the provider's filter learns to let that sender through, which is
 * what a phishing email asking to be trusted wants. A move, as adding SPAM is. Taking TRASH off restores a
 * deleted message, which trains nothing and destroys nothing: left a label.
 */
const ACTING_REMOVALS: ReadonlyMap<string, 'move'> = new Map([['spam', 'move']]);

/**
 * The text of a calendar write its attendees see. A cancel's is its message (the description): Graph sends
 * it to every attendee as the cancellation's comment; title and location are not sent with a cancel.
 */
function calendarText(action: Extract<ProposedAction, { kind: 'calendar.write' }>): string {
  if (action.operation === 'cancel') return action.description ?? '';
  return `${action.title ?? ''}\n${action.location ?? ''}\n${action.description ?? ''}`;
}

/** The event text an update keeps and sends to the people it adds, when the runtime gave it; undefined otherwise. */
function keptTextOf(action: ProposedAction, options: EvaluateOptions | undefined): string | undefined {
  const adds = action.kind === 'calendar.write' && action.operation === 'update' && action.participants.length > 0;
  return adds ? options?.keptText?.text : undefined;
}

/** The deletions and moves a `mail.label` that adds and removes these labels amounts to. */
function actingLabels(added: readonly string[], removed: readonly string[]): Set<'deletion' | 'move'> {
  const effects = new Set<'deletion' | 'move'>();
  for (const [labels, acting] of [[added, ACTING_LABELS], [removed, ACTING_REMOVALS]] as const) {
    for (const label of labels) {
      const effect = acting.get(label.trim().toLowerCase());
      if (effect !== undefined) effects.add(effect);
    }
  }
  return effects;
}

function deny(reason: ReasonCode, details?: string[], facts?: PolicyFacts): PolicyDecision {
  const decision: PolicyDecision = { decision: 'deny', reasons: [reason] };
  if (details !== undefined) decision.details = details;
  if (facts !== undefined) decision.facts = facts;
  return decision;
}

/** Builds the evaluator for one config: block list, contacts and type sets are compiled once. */
export function compilePolicy(config: ClientConfig): PolicyEvaluator {
  const blockList = compileBlockList(config.blockList);
  const shorteners = compileShortenerDetector();
  // The client's own mailbox and its admins are never "new contacts".
  const seededContacts = new Set([...config.knownContacts, ...config.admins, ...(config.mailbox === undefined ? [] : [config.mailbox])]);
  const seededDomains = domainsOf(seededContacts);
  const autoSend = compileAutoSend(config);
  const onboardingStart = config.onboarding.startedAt === undefined ? undefined : Date.parse(config.onboarding.startedAt);
  const onboardingEnd = onboardingStart === undefined ? undefined : onboardingStart + config.onboarding.days * DAY_MS;
  const { perHour, perDay } = config.rateLimits;
  // Not yet a client setting: the defaults apply to every client (auto-send-limits.ts).
  const autoSendLimits = DEFAULT_AUTO_SEND_LIMITS;

  // Onboarding not yet started (no start date recorded) counts as onboarding: fail closed.
  const inOnboarding = (now: number): boolean =>
    onboardingStart === undefined || onboardingEnd === undefined || now < onboardingStart || now < onboardingEnd;

  function factsOf(action: ProposedAction, recipients: readonly string[], state: PolicyState, now: number): PolicyFacts {
    let newContacts = 0;
    let newDomains = 0;
    let seenDomains: Set<string> | undefined;
    for (const address of recipients) {
      if (!seededContacts.has(address) && !state.knownContacts.has(address)) newContacts++;
      const domain = domainOf(address);
      if (!seededDomains.has(domain) && !state.knownDomains.has(domain)) {
        seenDomains ??= new Set();
        if (!seenDomains.has(domain)) {
          seenDomains.add(domain);
          newDomains++;
        }
      }
    }
    const facts: PolicyFacts = { recipients: recipients.length, newContacts, newDomains };
    if ('oldestDataAt' in action && action.oldestDataAt !== undefined) {
      facts.dataAgeSeconds = Math.max(0, Math.floor((now - Date.parse(action.oldestDataAt)) / 1000));
    }
    return facts;
  }

  /** Steps 5–8: every approval reason that applies, in rule order. */
  function approvalReasons(
    action: ProposedAction,
    recipients: readonly string[],
    facts: PolicyFacts,
    state: PolicyState,
    now: Date,
    options: EvaluateOptions | undefined,
    details: string[],
  ): ReasonCode[] {
    const context = options?.autoSend;
    const reasons: ReasonCode[] = [];
    // A cancel reaches no one it names, but every attendee it notifies.
    const outbound = isOutbound(action) || recipients.length > 0;
    if (recipients.length > 0) {
      let blocked = 0;
      for (const address of recipients) if (blockList.match(address) !== undefined) blocked++;
      if (blocked > 0) {
        reasons.push('blocked_recipient');
        details.push(`${blocked} recipient(s) match the block list`);
      }
    }
    if (outbound && inOnboarding(now.getTime())) reasons.push('onboarding');
    if (outbound) {
      if (facts.newContacts > 0) {
        reasons.push('new_contact');
        details.push(`${facts.newContacts} recipient(s) are not known contacts`);
      }
      if (action.kind === 'mail.send') {
        const held = sendHolds(action, recipients, autoSend, context, now, details, knownTo(state, recipients));
        reasons.push(...held.reasons);
        Object.assign(facts, held.facts);
        // Whatever else holds it: the approver should know the recipient or thread was just answered automatically.
        const usage = autoSendUsage(state.autoSendHistory, recipients, context?.inbound ?? {}, now.getTime(), autoSendLimits.windowMs);
        const loop = autoSendLimitIssues(usage, autoSendLimits);
        if (loop.length > 0) {
          reasons.push('auto_reply_loop');
          details.push(...loop);
        }
      }
      if (recipients.length > config.bulkThreshold) {
        reasons.push('bulk');
        details.push(`${recipients.length} recipients exceed the bulk threshold of ${config.bulkThreshold}`);
      }
      if (action.kind === 'mail.send' && shortenerIn(action)) reasons.push('url_shortener');
      if (action.kind === 'files.share' && action.public) reasons.push('public_share');
    }
    // An update reaches the event's attendees through the provider's notices (sendUpdates=all) even
    // when it names none, and a cancel's message reaches every attendee too, so a calendar write's text
    // is checked whoever it invites.
    if (action.kind === 'calendar.write') {
      // An invitation is mail the provider sends in the client's name, with text the model wrote and no
      // template rule behind it: a link in it is how injected text phishes the client's own contacts. An
      // event created without participants is held too: adding them later sends the same text (checked
      // then as the text the update keeps, when the runtime gives it).
      const own = linkHold(calendarText(action));
      if (own !== undefined) {
        reasons.push(own);
        if (own === 'free_text') {
          details.push(
            action.operation === 'cancel'
              ? 'the cancellation message carries a link, which reaches every attendee'
              : 'the event\'s title, location or description carries a link, which reaches every attendee',
          );
        }
      }
      const kept = keptHold(action, options, details);
      if (kept !== undefined && !reasons.includes(kept)) reasons.push(kept);
      // Beyond links: the address of someone the client does not know, and text no reader sees (sent-text-content.ts).
      for (const [text, whose] of [[calendarText(action), 'the change\'s own text'], [keptTextOf(action, options) ?? '', 'the event\'s current text']] as const) {
        const unknown = unknownAddressIn(text, knownTo(state, recipients)) !== undefined;
        const invisible = invisibleTextIn(text);
        const hidden = hiddenHtmlTextIn(text);
        if (!unknown && !invisible && !hidden) continue;
        if (!reasons.includes('free_text')) reasons.push('free_text');
        if (unknown) details.push(`${whose}, which reaches attendees, carries the address of someone the client does not know`);
        if (invisible) details.push(`${whose}, which reaches attendees, carries text no reader sees (Unicode tag characters)`);
        if (hidden) details.push(`${whose}, which reaches attendees, carries text its HTML hides from readers (display:none, zero size, …)`);
      }
    }
    // Text no reader sees in a mail, a draft, a file or a CRM record, whatever else holds it: the approver
    // is told, as no one reading it sees it (written-invisible-text.ts).
    const invisible = partsWithInvisibleText(action);
    if (invisible.length > 0) {
      if (!reasons.includes('free_text')) reasons.push('free_text');
      details.push(`text no reader sees (Unicode tag characters) in the ${invisible.join(' and ')}`);
    }
    const relabel = action.kind === 'mail.label' ? actingLabels(action.add, action.remove) : new Set<string>();
    if (
      action.kind === 'mail.delete' ||
      action.kind === 'files.delete' ||
      (action.kind === 'calendar.write' && action.operation === 'cancel') ||
      (action.kind === 'crm.write' && action.operation === 'delete') ||
      relabel.has('deletion')
    ) {
      reasons.push('deletion');
    }
    // Replacing a file's content destroys what was there, as a deletion does.
    if (action.kind === 'files.write' && action.operation === 'overwrite') {
      reasons.push('deletion');
      details.push('an overwrite replaces the content of the file');
    }
    // Archiving keeps the message in the client's own mailbox (the spec holds moves *outside* it).
    if ((action.kind === 'mail.move' && action.destination.trim().toLowerCase() !== 'archive') || relabel.has('move')) reasons.push('move');
    return reasons;
  }

  function shortenerIn(action: ProposedAction): boolean {
    if (action.kind === 'mail.send') {
      return shorteners.find(action.links, action.subject) !== undefined || shorteners.find([], action.body) !== undefined;
    }
    return false;
  }

  /** Whether an address is one the client knows: a seeded or learnt contact, or one of the people the action reaches. */
  function knownTo(state: PolicyState, recipients: readonly string[]): (address: string) => boolean {
    return (address) => seededContacts.has(address) || state.knownContacts.has(address) || recipients.includes(address);
  }

  /** The hold a text sent to attendees brings: a shortened link, else any link; undefined for none. */
  function linkHold(text: string): 'url_shortener' | 'free_text' | undefined {
    if (text === '') return undefined;
    if (shorteners.find([], text) !== undefined) return 'url_shortener';
    return linkIn(text) !== undefined ? 'free_text' : undefined;
  }

  /** The hold the event text an update keeps brings to the people it adds (keptTextOf), with its detail. */
  function keptHold(action: ProposedAction, options: EvaluateOptions | undefined, details: string[] | undefined): 'url_shortener' | 'free_text' | undefined {
    const kept = keptTextOf(action, options);
    const hold = kept === undefined ? undefined : linkHold(kept);
    if (hold !== undefined) details?.push('the event\'s current text, which the update sends to the people it adds, carries a link');
    return hold;
  }

  /**
   * The holds that attendees an approver was not shown bring to an update or cancel (a blocked address, a
   * new contact, the bulk threshold crossed): no approval granted without showing them covers these.
   */
  function unseenHolds(
    action: ProposedAction,
    recipients: readonly string[],
    notified: NotifiedAttendees | undefined,
    state: PolicyState,
    details: string[],
  ): ReasonCode[] {
    const unseen = unseenRecipients(action, recipients, notified);
    if (unseen.length === 0) return [];
    const reasons: ReasonCode[] = [];
    if (unseen.some((address) => blockList.match(address) !== undefined)) reasons.push('blocked_recipient');
    if (unseen.some((address) => !seededContacts.has(address) && !state.knownContacts.has(address))) reasons.push('new_contact');
    if (recipients.length > config.bulkThreshold) reasons.push('bulk');
    if (reasons.length > 0) details.push(`the approval was granted without showing ${unseen.length} attendee(s) the change notifies (${reasons.join(', ')}): ask again`);
    return reasons;
  }

  /**
   * Whether the event text an update keeps brings a hold its approver was not shown: an approval asked
   * before the runtime read that text (the proposal's) never showed it, and does not cover it.
   */
  function unshownKeptText(action: ProposedAction, options: EvaluateOptions, state: PolicyState, recipients: readonly string[]): boolean {
    if (options.keptText?.shown === true) return false;
    const kept = keptTextOf(action, options) ?? '';
    return (
      keptHold(action, options, undefined) !== undefined ||
      unknownAddressIn(kept, knownTo(state, recipients)) !== undefined ||
      invisibleTextIn(kept) ||
      hiddenHtmlTextIn(kept)
    );
  }

  /** The blocked recipients of an action run under an approval, and those its approver was shown (approval-coverage.ts). */
  function blockedCoverage(approval: ApprovalRecord, recipients: readonly string[], options: EvaluateOptions): BlockedCoverage {
    const proposed = parseProposedAction(approval.proposedArguments);
    const shown = new Set([...(proposed.ok ? outboundRecipients(proposed.action) : []), ...(options.notified?.shown.map(comparableAddress) ?? [])]);
    // A companion's approval (companionApproval) approves arguments of another kind than the proposal, fixed
    // when the approval was asked and shown beside it; an edit never changes the kind (approveEdited).
    const approved = parseProposedAction(approval.approvedArguments);
    if (approved.ok && proposed.ok && approved.action.kind !== proposed.action.kind) for (const address of outboundRecipients(approved.action)) shown.add(address);
    return {
      blocked: recipients.filter((address) => blockList.match(address) !== undefined),
      shown,
      ...(options.approvalBlocked === undefined ? {} : { shownBlocked: new Set(options.approvalBlocked) }),
      settingsChanged: options.approvalSettingsChanged === true,
    };
  }

  /** Step 9, for an action that would otherwise execute: a denial, or the room it leaves within the limits. */
  function sendingLimits(recipients: readonly string[], state: PolicyState, now: number): PolicyDecision | SendWindow {
    if (state.paused) return { decision: 'deny', reasons: ['paused'], retryable: true };
    const needed = Math.max(recipients.length, 1);
    const usage = recipientsInWindows(state.sendHistory, now);
    const window: SendWindow = { counted: needed, roomHour: perHour - usage.lastHour, roomDay: perDay - usage.lastDay, perHour, perDay };
    return sendWindowDenial(window) ?? window;
  }

  function decide(action: ProposedAction, state: PolicyState, now: Date, options: EvaluateOptions | undefined): PolicyDecision {
    if (state.killed) return deny('killed');
    const permission = PERMISSION[action.kind];
    if (config.permissions[permission] !== true) return deny('permission_denied', [`${permission} is not granted`]);
    // The schema has no clock: a start long past, or decades away, is refused here, before any approval.
    const startIssue = action.kind === 'calendar.write' ? calendarStartIssue(action.start, now) : null;
    if (startIssue !== null) return deny('unparseable', [`start: ${startIssue}`]);

    const nowMs = now.getTime();
    const recipients = recipientsWithNotified(action, options?.notified);
    const facts = factsOf(action, recipients, state, nowMs);
    if (isRead(action)) return { decision: 'allow', reasons: ['read'], facts };

    const details: string[] = [];
    let outcome = decideWrite(action, recipients, facts, state, now, options, details);
    if (details.length > 0) outcome = { ...outcome, details: [...(outcome.details ?? []), ...details] };
    if (config.dryRun) {
      return { decision: 'deny', reasons: ['dry_run'], dryRun: { decision: outcome.decision, reasons: outcome.reasons }, facts };
    }
    return outcome;
  }

  function decideWrite(
    action: ProposedAction,
    recipients: readonly string[],
    facts: PolicyFacts,
    state: PolicyState,
    now: Date,
    options: EvaluateOptions | undefined,
    details: string[],
  ): PolicyDecision {
    const nowMs = now.getTime();
    const holds = approvalReasons(action, recipients, facts, state, now, options, details);
    const outbound = isOutbound(action) || recipients.length > 0;
    let allowReason: ReasonCode = outbound ? 'auto_send' : 'permitted';
    if (holds.length > 0 || options?.approval !== undefined) {
      if (options?.approval === undefined) return { decision: 'needs_approval', reasons: holds, facts };
      const check = authorizesExecution(options.approval, action, now);
      const uncovered = check.ok ? uncoveredHolds(options.approval, holds, blockedCoverage(options.approval, recipients, options)) : [];
      if (!check.ok) {
        details.push(`approval ${options.approval.id} does not authorise this action: ${check.reason}`);
        if (holds.length > 0) return { decision: 'needs_approval', reasons: holds, facts };
      } else if (uncovered.length > 0) {
        details.push(`approval ${options.approval.id} was granted before ${uncovered.join(', ')}: ask again`);
        return { decision: 'needs_approval', reasons: holds, facts };
      } else if (unseenHolds(action, recipients, options.notified, state, details).length > 0) {
        return { decision: 'needs_approval', reasons: holds, facts };
      } else if (unshownKeptText(action, options, state, recipients)) {
        details.push(`approval ${options.approval.id} was granted without the event's current text, which the update sends to the people it adds: ask again`);
        return { decision: 'needs_approval', reasons: holds, facts };
      } else {
        allowReason = 'approved';
      }
    }
    if (outbound) {
      const limits = sendingLimits(recipients, state, nowMs);
      if ('decision' in limits) return { ...limits, facts };
      return { decision: 'allow', reasons: [allowReason], facts, sendWindow: limits };
    }
    return { decision: 'allow' satisfies Decision, reasons: [allowReason], facts };
  }

  return {
    config,
    evaluate(input, state, now, options) {
      const parsed = parseProposedAction(input);
      if (!parsed.ok) return deny('unparseable', parsed.issues);
      return decideSafely(parsed.action, state, now, options);
    },
    evaluateParsed(action, state, now, options) {
      return decideSafely(action, state, now, options);
    },
  };

  function decideSafely(action: ProposedAction, state: PolicyState, now: Date, options: EvaluateOptions | undefined): PolicyDecision {
    if (Number.isNaN(now.getTime())) return deny('unparseable', ['the clock gave an invalid time']);
    try {
      return decide(action, state, now, options);
    } catch {
      // A rule that throws must never turn into an allow.
      return deny('unparseable', ['the action could not be evaluated']);
    }
  }
}

const compiled = new WeakMap<ClientConfig, PolicyEvaluator>();

/**
 * The gate as one pure function. The compiled form of each config object is cached, so calling this
 * repeatedly with the same (frozen) config costs one lookup.
 */
export function evaluatePolicy(
  input: unknown,
  config: ClientConfig,
  state: PolicyState,
  now: Date,
  options?: EvaluateOptions,
): PolicyDecision {
  let evaluator = compiled.get(config);
  if (evaluator === undefined) {
    evaluator = compilePolicy(config);
    compiled.set(config, evaluator);
  }
  return evaluator.evaluate(input, state, now, options);
}

/** Why an event cannot start when proposed (see eventStartWindowIssue); null without a start or when it can. */
function calendarStartIssue(start: string | undefined, now: Date): string | null {
  const instant = start === undefined ? null : parseEventInstant(start);
  return instant === null ? null : eventStartWindowIssue(instant, now);
}
