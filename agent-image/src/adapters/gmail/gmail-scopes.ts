import type { Capability } from '../../domain/client-config.ts';

const SCOPE = 'https://www.googleapis.com/auth/';

/**
 * The Gmail scopes for the granted capabilities, least privilege first. Google has no draft-only scope:
 * `gmail.compose` (needed for drafts) also allows drafts.send, so the adapter itself refuses to send
 * unless `mail.send` is granted, and `gmail.send` is requested only then.
 */
export function gmailScopesFor(permissions: Partial<Record<Capability, boolean>>): string[] {
  const scopes = new Set<string>();
  if (permissions['mail.read']) scopes.add(`${SCOPE}gmail.readonly`);
  if (permissions['mail.draft'] || permissions['mail.send']) scopes.add(`${SCOPE}gmail.compose`);
  if (permissions['mail.send']) scopes.add(`${SCOPE}gmail.send`);
  if (permissions['mail.label'] || permissions['mail.move']) scopes.add(`${SCOPE}gmail.modify`);
  return [...scopes].sort();
}
