import { describeChange } from '@agent-fleet/kernel/settings-diff';
import { describeAuthor } from '@agent-fleet/kernel/settings-version';
import type { SettingsChangeOutcome, SettingsView } from '../../services/settings/client-settings.ts';
import type { GrantStatus } from '../../services/settings/grant-status.ts';
import type { GuardRailConfirmOutcome } from '../../services/settings/guard-rail-confirmation.ts';
import type { VersionSummary } from '../../services/settings/settings-ops-log.ts';

/** The line `fleet config set` reads the base version from. */
export const VERSION_LINE = /^# settings-version: (\d+)\s*$/m;

/** One line on the mailbox grant against what the settings need. */
export function formatGrant(clientId: string, grant: GrantStatus): string {
  switch (grant.state) {
    case 'ok':
      return `mailbox grant: ok (${grant.provider})`;
    case 'needs_reconsent':
      return `mailbox grant: NEEDS RE-CONSENT, missing ${grant.missing.join(' ')}; run: ${grant.command}`;
    case 'narrowable':
      return `mailbox grant: holds more than needed (${grant.extra.join(' ')})${grant.narrowRequested ? '; the client asked to narrow it' : ''}; the next \`fleet connect ${clientId}\` asks only for what is needed`;
    default:
      return `mailbox grant: not recorded (run fleet connect ${clientId} to record it)`;
  }
}

/** `fleet config show`: the document as YAML under comment lines; `set` takes the same text back. */
export function formatSettingsView(view: SettingsView): string {
  const { version } = view;
  return [
    `# settings of ${view.clientId}, version ${version.version} (${version.hash.slice(0, 12)})`,
    `# made by ${describeAuthor(version.author)} at ${version.at}: ${version.reason.replace(/\s+/g, ' ')}`,
    `# ${formatGrant(view.clientId, view.grant)}`,
    `# edit, then apply with: fleet config set ${view.clientId} <file> --reason "<why>"`,
    `# settings-version: ${version.version}`,
    view.yaml.trimEnd(),
  ].join('\n');
}

export function formatSettingsHistory(clientId: string, versions: readonly VersionSummary[]): string {
  if (versions.length === 0) return `${clientId}: no settings versions`;
  const lines: string[] = [];
  for (const version of versions) {
    const rollback = version.rollbackOf === null ? '' : ` (rollback to ${version.rollbackOf})`;
    lines.push(`v${version.version}  ${version.at}  ${describeAuthor(version.author)}${rollback}  ${version.reason.replace(/\s+/g, ' ')}`);
    for (const change of version.changes.slice(0, 10)) lines.push(`    ${describeChange(change)}`);
    if (version.changes.length > 10) lines.push(`    … ${version.changes.length - 10} more field(s)`);
    if (version.guardRails.length > 0) lines.push(`    guard rails: ${version.guardRails.join(', ')}`);
  }
  return lines.join('\n');
}

export function formatSettingsChanged(outcome: SettingsChangeOutcome): string {
  const { version } = outcome;
  if (!outcome.changed) return `${outcome.clientId}: nothing changed (settings stay at version ${version.version})`;
  const rails = version.guardRails.length === 0 ? '' : `; guard rails confirmed and flagged: ${version.guardRails.join(', ')}`;
  return [`${outcome.clientId}: settings version ${version.version} applied${rails}`, formatGrant(outcome.clientId, outcome.grant)].join('\n');
}

/** `fleet config confirm`: recorded, or already on record (nothing recorded), with who and when. */
export function formatGuardRailConfirmed(outcome: GuardRailConfirmOutcome): string {
  const who = `${outcome.confirmation.by} at ${outcome.confirmation.at}`;
  if (outcome.outcome === 'already-confirmed') return `${outcome.clientId}: ${outcome.rail} is already confirmed (by ${who}); nothing recorded`;
  return `${outcome.clientId}: ${outcome.rail} confirmed by ${who} for settings version ${outcome.version} (recorded in the ops log)\n  accepted: ${outcome.risk}`;
}
