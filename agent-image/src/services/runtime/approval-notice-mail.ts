import { gateReasonText } from '@agent-fleet/kernel/gate-reason-text';
import { actionWords } from '../daily-summary/action-words.ts';
import { button, emailDocument, factTable, paragraph } from '../daily-summary/email-layout.ts';
import { oneLine, quoteFromMail } from '../daily-summary/mail-quote.ts';
import type { StoredApproval } from './approval-store.ts';

/** How many addresses of one field the notice names; the rest are counted. */
export const NOTICE_ADDRESSES_SHOWN = 10;

export interface NoticeMail {
  subject: string;
  text: string;
  html: string;
}

/** A field of the proposed arguments (JSON from the store), or undefined. */
function fieldOf(argumentsValue: unknown, field: string): unknown {
  if (typeof argumentsValue !== 'object' || argumentsValue === null || Array.isArray(argumentsValue)) return undefined;
  return Object.hasOwn(argumentsValue, field) ? (argumentsValue as Record<string, unknown>)[field] : undefined;
}

/** A field of the proposed arguments as a list of strings, or undefined when it is not one. */
function stringsOf(argumentsValue: unknown, field: string): string[] | undefined {
  const value = fieldOf(argumentsValue, field);
  return Array.isArray(value) && value.every((entry) => typeof entry === 'string') ? value : undefined;
}

/** The recipients the block list matched when the approval was asked, lower-cased. */
type BlockedMarks = ReadonlySet<string>;

const NONE_BLOCKED: BlockedMarks = new Set();

/** Said after each blocked address, in words: the mark must not rely on colour or layout. */
export const BLOCKED_MARK = ' (on your block list)';

function blockedMarks(entry: StoredApproval): BlockedMarks {
  return new Set((entry.blockedRecipients ?? []).map((address) => address.toLowerCase()));
}

/**
 * The row naming the blocked recipients, and that approving goes to them anyway; none when nobody was
 * blocked or the approval predates the record of who was (then only the reason says so).
 */
function blockedRow(entry: StoredApproval, kind: string | undefined): [string, string][] {
  const blocked = entry.blockedRecipients ?? [];
  if (blocked.length === 0) return [];
  const them = blocked.length === 1 ? 'this address' : 'these addresses';
  const anyway =
    kind === 'mail.send' || kind === undefined
      ? `If you approve, the email is sent to ${them} anyway.`
      : kind === 'calendar.write'
        ? `If you approve, ${them} ${blocked.length === 1 ? 'is' : 'are'} notified anyway.`
        : `If you approve, it goes ahead with ${them} anyway.`;
  return [['On your block list', `${addressLine(blocked)}. ${anyway}`]];
}

/**
 * Addresses as one bounded line: the first few, then how many more and how many in all, so that a long
 * list cannot pass for one person.
 */
export function addressLine(addresses: readonly string[], blocked: BlockedMarks = NONE_BLOCKED): string {
  const shown = addresses.slice(0, NOTICE_ADDRESSES_SHOWN).map((address) => `${oneLine(address, 100)}${blocked.has(address.toLowerCase()) ? BLOCKED_MARK : ''}`);
  const more = addresses.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more (${addresses.length} in all)` : shown.join(', ');
}

function localTime(iso: string, timezone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return oneLine(iso, 40);
  return new Intl.DateTimeFormat('en-GB', { timeZone: timezone, dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

/** Where the links of these mails go, said in each: the only links in them are the portal's. */
export function portalNote(url: string): string {
  return `The only link in this email goes to your client portal (${new URL(url).origin}). If a link in it leads anywhere else, do not open it.`;
}

interface Described {
  /** The opening sentence: what waits, and that nothing happens before a decision. */
  opening: string;
  title: string;
  /** The notice's own Subject after "Approval needed: ". */
  headline: string;
  rows: [string, string][];
}

/**
 * What approving lets happen, from the held action itself: every recipient (Cc and Bcc too, since a
 * fooled model adds the stranger there), the calendar event that goes with an email, and for anything
 * other than an email what it is, so that the notice never calls a calendar change or a deletion an email.
 */
function describe(entry: StoredApproval, client: string, timezone: string): Described {
  const { preview, record } = entry;
  const kind = record.actionKind;
  const args = record.proposedArguments;
  const quoted = quoteFromMail(preview.subject);
  const marks = blockedMarks(entry);
  const line = (addresses: readonly string[]): string => addressLine(addresses, marks);
  if (kind === 'mail.send' || kind === undefined) {
    const to = stringsOf(args, 'to') ?? preview.to;
    const cc = stringsOf(args, 'cc') ?? preview.cc;
    const bcc = stringsOf(args, 'bcc') ?? [];
    const rows: [string, string][] = [['To', line(to)]];
    if (cc.length > 0) rows.push(['Cc', line(cc)]);
    if (bcc.length > 0) rows.push(['Bcc (hidden from the others)', line(bcc)]);
    rows.push(['Subject', quoted || '(no subject)']);
    const event = preview.event;
    if (event !== undefined) {
      rows.push(['Also adds to your calendar', `${quoteFromMail(event.title) || '(no title)'}, ${localTime(event.start, timezone)}`]);
      if (event.attendees.length > 0) rows.push(['The event invites', line(event.attendees)]);
    }
    return {
      opening: `The AI assistant of ${client} wrote an email that waits for your approval. Nothing is sent${event === undefined ? '' : ' and no event is added'} until someone approves it.`,
      title: 'An email waits for your approval',
      headline: quoted || '(no subject)',
      rows,
    };
  }
  if (kind === 'calendar.write') {
    const change = actionWords(kind, fieldOf(args, 'operation'));
    const event = preview.event;
    const title = quoteFromMail(event?.title ?? preview.subject) || '(no title)';
    const rows: [string, string][] = [
      ['What', change],
      ['Event', title],
    ];
    if (event !== undefined && event.start !== '') rows.push(['When', localTime(event.start, timezone)]);
    rows.push(['Notifies', preview.to.length === 0 ? 'nobody' : line(preview.to)]);
    return {
      opening: `The AI assistant of ${client} asks your approval for ${change}. Nothing changes in the calendar, and nobody is notified, until someone approves it.`,
      title: 'A calendar change waits for your approval',
      headline: `calendar change: ${title}`,
      rows,
    };
  }
  const what = actionWords(kind);
  const rows: [string, string][] = [['What', what]];
  if (preview.to.length > 0) rows.push(['Concerns', line(preview.to)]);
  if (quoted !== '') rows.push(['Subject', quoted]);
  return {
    opening: `The AI assistant of ${client} wants to do something that waits for your approval: ${what}. Nothing is done until someone approves it.`,
    title: 'An action waits for your approval',
    headline: quoted === '' ? what : `${what}: ${quoted}`,
    rows,
  };
}

/** The mail asking the client's admins to decide one pending approval through the portal link `url`. */
export function approvalNoticeMail(entry: StoredApproval, url: string, name: string, timezone: string): NoticeMail {
  const { record } = entry;
  // The subject and the event title are the sender's or the model's words: quoted, with links and encoded
  // words made inert, also in this mail's own Subject.
  const client = oneLine(name);
  const described = describe(entry, client, timezone);
  const expires = localTime(record.expiresAt, timezone);
  const reasons = record.policyReasons.map(gateReasonText).join(' ') || 'Your settings ask for approval.';
  const rows: [string, string][] = [
    ...described.rows,
    ...blockedRow(entry, record.actionKind),
    ['Why it needs you', reasons],
    ['Decide before', `${expires} (${timezone})`],
  ];
  const text = [
    described.opening,
    '',
    ...rows.map(([label, value]) => `${label}: ${value}`),
    `After ${expires} nothing happens: an approval not decided in time is never carried out.`,
    '',
    'Read it whole, then approve, edit or reject it in the client portal:',
    url,
    '',
    'The link works once and expires; opening it changes nothing until you sign in and decide.',
    portalNote(url),
  ].join('\n');
  const html = emailDocument({
    title: described.title,
    preheader: `${described.title}: ${described.headline}`,
    content: [
      paragraph(described.opening),
      factTable(rows),
      button(url, 'Review it in the portal'),
      paragraph('Opening the link changes nothing: you sign in, read it whole, then approve, edit or reject it.', true),
      paragraph(portalNote(url), true),
    ].join('\n'),
    footer: `Sent by the AI assistant of ${client} from its own mailbox. Nothing it asks about happens until someone approves it.`,
  });
  return { subject: `Approval needed: ${described.headline}`, text, html };
}
