import type { Capability } from '../../domain/client-config.ts';

const SCOPE = 'https://www.googleapis.com/auth/';

/**
 * The Gmail scopes for the granted capabilities, least privilege first. Google has no draft-only scope:
 * `gmail.compose` (needed for drafts) also allows drafts.send, so the adapter itself refuses to send
 * unless `mail.send` is granted, and `gmail.send` is requested only then.
 *
 * Calendar: reading needs only busy times, so `calendar.freebusy` (no event titles, bodies or attendees);
 * writing needs `calendar.events` (create events and read back the ones we created), never the full
 * `calendar` scope, which would also let the agent change calendar settings and sharing.
 */
export function gmailScopesFor(permissions: Partial<Record<Capability, boolean>>): string[] {
  const scopes = new Set<string>();
  if (permissions['mail.read']) scopes.add(`${SCOPE}gmail.readonly`);
  if (permissions['mail.draft'] || permissions['mail.send']) scopes.add(`${SCOPE}gmail.compose`);
  if (permissions['mail.send']) scopes.add(`${SCOPE}gmail.send`);
  if (permissions['mail.label'] || permissions['mail.move']) scopes.add(`${SCOPE}gmail.modify`);
  if (permissions['calendar.read']) scopes.add(`${SCOPE}calendar.freebusy`);
  if (permissions['calendar.write']) scopes.add(`${SCOPE}calendar.events`);
  return [...scopes].sort();
}
