import { createHash } from 'node:crypto';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { gateReasonText } from '@agent-fleet/kernel/gate-reason-text';
import { button, emailDocument, factTable, paragraph } from '../daily-summary/email-layout.ts';
import { oneLine, quoteFromMail } from '../daily-summary/mail-quote.ts';
import type { AdminNotifier, NotifyOutcome } from './admin-notifier.ts';
import type { StoredApproval } from './approval-store.ts';

/**
 * A notice the orchestrator asks the agent to mail to the client's admins through the client's own
 * mailbox, so that nobody at the agency sees the link: a new approval's one-tap link, or one admin's
 * portal enrolment link.
 */
export type AdminNotice =
  | { kind: 'approval'; approvalId: string; url: string }
  | { kind: 'enrolment'; email: string; url: string; expiresAt: string };

export interface AdminNoticeDeps {
  config: ClientConfig;
  notifier: Pick<AdminNotifier, 'notify'>;
  /** The approval as of now, or undefined. */
  approval(id: string): StoredApproval | undefined;
  /** The portal's origin the agent was given (AGENT_PORTAL_URL); links must point there when it is set. */
  portalUrl: string | undefined;
}

function checkedUrl(url: string, portalUrl: string | undefined): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FleetError('invalid_input', 'url must be an absolute https URL');
  }
  if (parsed.protocol !== 'https:') throw new FleetError('invalid_input', 'url must be an absolute https URL');
  if (portalUrl !== undefined && parsed.origin !== new URL(portalUrl).origin) {
    throw new FleetError('invalid_input', 'url must point to the client portal');
  }
  return parsed.href;
}

/** Where the links of these mails go, said in each: the only links in them are the portal's. */
function portalNote(url: string): string {
  return `The only link in this email goes to your client portal (${new URL(url).origin}). If a link in it leads anywhere else, do not open it.`;
}

/** Mails a notice; the same approval (or the same enrolment link) is never mailed twice. */
export async function sendAdminNotice(deps: AdminNoticeDeps, notice: AdminNotice): Promise<NotifyOutcome> {
  const url = checkedUrl(notice.url, deps.portalUrl);
  const name = deps.config.displayName ?? deps.config.client;
  if (notice.kind === 'approval') {
    const entry = deps.approval(notice.approvalId);
    if (entry === undefined) throw new FleetError('not_found', `no approval ${notice.approvalId}`);
    if (entry.record.status !== 'pending') throw new FleetError('conflict', `approval ${notice.approvalId} is ${entry.record.status}`);
    const mail = approvalMail(entry, url, name, deps.config.timezone);
    return deps.notifier.notify('approval_request', `approval:${entry.record.id}`, mail.subject, mail.text, mail.html);
  }
  const email = notice.email.trim().toLowerCase();
  if (!deps.config.admins.some((admin) => admin.toLowerCase() === email)) {
    throw new FleetError('invalid_input', 'email must be one of the client’s admins');
  }
  const mail = enrolmentMail(url, name, notice.expiresAt, deps.config.timezone);
  const key = `enrolment:${createHash('sha256').update(url).digest('hex')}`;
  return deps.notifier.notify('portal_enrolment', key, mail.subject, mail.text, mail.html, [email]);
}

function localTime(iso: string, timezone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat('en-GB', { timeZone: timezone, dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

function approvalMail(entry: StoredApproval, url: string, name: string, timezone: string) {
  const { preview, record } = entry;
  // The subject is the sender's or the model's words: quoted, with links and encoded words made inert, also in this mail's own Subject.
  const quoted = quoteFromMail(preview.subject) || '(no subject)';
  const subject = `Approval needed: ${quoted}`;
  const to = oneLine(preview.to.join(', '));
  const client = oneLine(name);
  const expires = localTime(record.expiresAt, timezone);
  const reasons = record.policyReasons.map(gateReasonText).join(' ') || 'Your settings ask for approval.';
  const text = [
    `The AI assistant of ${client} wrote an email that waits for your approval.`,
    '',
    `To: ${to}`,
    `Subject: ${quoted}`,
    `Why it needs you: ${reasons}`,
    `Decide before: ${expires} (${timezone}); after that nothing is sent.`,
    '',
    `Read the whole draft, then approve, edit or reject it in the client portal:`,
    url,
    '',
    'The link works once and expires; opening it changes nothing until you sign in and decide.',
    portalNote(url),
  ].join('\n');
  const html = emailDocument({
    title: 'An email waits for your approval',
    preheader: `To ${to}: ${quoted}`,
    content: [
      paragraph(`The AI assistant of ${client} wrote an email that waits for your approval.`),
      factTable([
        ['To', to],
        ['Subject', quoted],
        ['Why it needs you', reasons],
        ['Decide before', `${expires} (${timezone})`],
      ]),
      button(url, 'Review the draft'),
      paragraph('Opening the link changes nothing: you sign in, read the whole draft, then approve, edit or reject it.', true),
      paragraph(portalNote(url), true),
    ].join('\n'),
    footer: `Sent by the AI assistant of ${client} from its own mailbox. Nothing is sent until someone approves it.`,
  });
  return { subject, text, html };
}

function enrolmentMail(url: string, name: string, expiresAt: string, timezone: string) {
  const expires = localTime(expiresAt, timezone);
  const subject = `Set up your sign-in to the client portal of ${oneLine(name)}`;
  const text = [
    `You are an admin of the AI assistant of ${oneLine(name)}. In the client portal you approve its emails, pull its kill switch and approve support access.`,
    '',
    'Set up your sign-in (a passkey, or an authenticator app) here:',
    url,
    '',
    `The link works once and expires ${expires} (${timezone}). If you did not expect it, ignore this email.`,
  ].join('\n');
  const html = emailDocument({
    title: 'Set up your sign-in',
    preheader: `Your link to the client portal of ${oneLine(name)}`,
    content: [
      paragraph(`You are an admin of the AI assistant of ${oneLine(name)}. In the client portal you approve its emails, pull its kill switch and approve support access.`),
      button(url, 'Set up my sign-in'),
      paragraph(`The link works once and expires ${expires} (${timezone}). If you did not expect it, ignore this email.`, true),
    ].join('\n'),
    footer: `Sent by the AI assistant of ${oneLine(name)} from its own mailbox.`,
  });
  return { subject, text, html };
}
