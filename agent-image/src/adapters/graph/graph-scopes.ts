import type { Capability } from '../../domain/client-config.ts';

/**
 * Microsoft Graph delegated scopes for the granted capabilities. `Mail.Send` only when sending is
 * granted; `offline_access` always, for the refresh token.
 */
export function graphScopesFor(permissions: Partial<Record<Capability, boolean>>): string[] {
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
