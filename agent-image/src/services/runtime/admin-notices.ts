import { createHash } from 'node:crypto';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { button, emailDocument, paragraph } from '../daily-summary/email-layout.ts';
import { inlineText, untrusted, type Inline } from '../daily-summary/inline-text.ts';
import { oneLine } from '../daily-summary/mail-quote.ts';
import type { AdminNotifier, NotifyOutcome } from './admin-notifier.ts';
import { approvalNoticeMail, portalNote } from './approval-notice-mail.ts';
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

/** Mails a notice; the same approval (or the same enrolment link) is never mailed twice. */
export async function sendAdminNotice(deps: AdminNoticeDeps, notice: AdminNotice): Promise<NotifyOutcome> {
  const url = checkedUrl(notice.url, deps.portalUrl);
  const name = deps.config.displayName ?? deps.config.client;
  if (notice.kind === 'approval') {
    const entry = deps.approval(notice.approvalId);
    if (entry === undefined) throw new FleetError('not_found', `no approval ${notice.approvalId}`);
    if (entry.record.status !== 'pending') throw new FleetError('conflict', `approval ${notice.approvalId} is ${entry.record.status}`);
    const mail = approvalNoticeMail(entry, url, name, deps.config.timezone);
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
  if (Number.isNaN(date.getTime())) return oneLine(iso, 40);
  return new Intl.DateTimeFormat('en-GB', { timeZone: timezone, dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

const REPLACES = 'Finishing the set-up replaces any sign-in you set up before: an old phone or passkey stops working.';

function enrolmentMail(url: string, displayName: string, expiresAt: string, timezone: string) {
  const expires = localTime(expiresAt, timezone);
  // The client's name is isolated wherever it stands in a sentence: a right-to-left name cannot reorder it.
  const name = untrusted(oneLine(displayName));
  const youAreAdmin: Inline[] = [
    'You are an admin of the AI assistant of ',
    name,
    '. In the client portal you approve its emails, pull its kill switch and approve support access.',
  ];
  const subject = inlineText(['Set up your sign-in to the client portal of ', name]);
  const text = [
    inlineText(youAreAdmin),
    '',
    'Set up your sign-in (a passkey, or an authenticator app) here:',
    url,
    '',
    `The link works once and expires ${expires} (${timezone}). ${REPLACES}`,
    'If you did not expect it, ignore this email: nothing changes unless the link is used.',
    portalNote(url),
  ].join('\n');
  const html = emailDocument({
    title: 'Set up your sign-in',
    preheader: inlineText(['Your link to the client portal of ', name]),
    content: [
      paragraph(youAreAdmin),
      button(url, 'Set up my sign-in'),
      paragraph(`The link works once and expires ${expires} (${timezone}). ${REPLACES}`, true),
      paragraph('If you did not expect it, ignore this email: nothing changes unless the link is used.', true),
      paragraph(portalNote(url), true),
    ].join('\n'),
    footer: ['Sent by the AI assistant of ', name, ' from its own mailbox.'],
  });
  return { subject, text, html };
}
