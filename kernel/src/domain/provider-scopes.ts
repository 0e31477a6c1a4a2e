import type { Capability } from './client-config.ts';

/** The mail providers a client can connect; their OAuth scopes follow from the granted capabilities. */
export type MailProviderName = 'gmail' | 'outlook';

type Permissions = Partial<Record<Capability, boolean>>;

const GOOGLE_SCOPE = 'https://www.googleapis.com/auth/';

/**
 * The Gmail scopes for the granted capabilities, least privilege first. Google has no draft-only scope:
 * `gmail.compose` (needed for drafts) also allows drafts.send, so the adapter itself refuses to send
 * unless `mail.send` is granted, and `gmail.send` is requested only then.
 *
 * Calendar: reading needs only busy times, so `calendar.freebusy` (no event titles, bodies or attendees);
 * writing needs `calendar.events` (create events and read back the ones we created), never the full
 * `calendar` scope, which would also let the agent change calendar settings and sharing.
 */
export function gmailScopesFor(permissions: Permissions): string[] {
  const scopes = new Set<string>();
  if (permissions['mail.read']) scopes.add(`${GOOGLE_SCOPE}gmail.readonly`);
  if (permissions['mail.draft'] || permissions['mail.send']) scopes.add(`${GOOGLE_SCOPE}gmail.compose`);
  if (permissions['mail.send']) scopes.add(`${GOOGLE_SCOPE}gmail.send`);
  if (permissions['mail.label'] || permissions['mail.move']) scopes.add(`${GOOGLE_SCOPE}gmail.modify`);
  if (permissions['calendar.read']) scopes.add(`${GOOGLE_SCOPE}calendar.freebusy`);
  if (permissions['calendar.write']) scopes.add(`${GOOGLE_SCOPE}calendar.events`);
  return [...scopes].sort();
}

/**
 * Microsoft Graph delegated scopes for the granted capabilities. `Mail.Send` only when sending is
 * granted; `offline_access` always, for the refresh token.
 */
export function graphScopesFor(permissions: Permissions): string[] {
  const scopes = new Set<string>(['offline_access']);
  const writes = permissions['mail.draft'] || permissions['mail.send'] || permissions['mail.label'] || permissions['mail.move'];
  if (writes) scopes.add('Mail.ReadWrite');
  else if (permissions['mail.read']) scopes.add('Mail.Read');
  if (permissions['mail.send']) scopes.add('Mail.Send');
  if (permissions['calendar.write']) scopes.add('Calendars.ReadWrite');
  // ReadBasic is enough for free/busy (calendarView of showAs/start/end) and withholds event bodies.
  else if (permissions['calendar.read']) scopes.add('Calendars.ReadBasic');
  return [...scopes].sort();
}

/** The OAuth scopes a client's mailbox grant needs for its permissions, on its provider. */
export function providerScopesFor(provider: MailProviderName, permissions: Permissions): string[] {
  return provider === 'gmail' ? gmailScopesFor(permissions) : graphScopesFor(permissions);
}
