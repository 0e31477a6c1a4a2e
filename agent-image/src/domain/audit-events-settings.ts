import type { SettingsAuthor, SettingsVersion } from '@agent-fleet/kernel/settings-version';
import { adminActor, type AuditEvent } from './audit-events.ts';

/**
 * The audit event of a new settings version: who made it (the authenticated client admin, the
 * operator, or the system for the provisioned file), why, which fields changed and which guard rails it
 * crossed. Field values stay in the encrypted settings history; the log names the fields. Pure.
 */

const MAX_FIELDS = 100;

/** The audit actor of a settings author: `admin:<address>`, `operator:<identity>`, `system`. */
export function settingsActor(author: SettingsAuthor): string {
  if (author.kind === 'admin') return adminActor(author.id);
  return author.kind === 'operator' ? `operator:${author.id}` : 'system';
}

export function settingsChanged(version: SettingsVersion, previous: SettingsVersion | null): AuditEvent {
  const fields = [...new Set(version.changes.map((change) => change.path))];
  return {
    action_type: 'config_change',
    actor: settingsActor(version.author),
    target: 'client-config',
    parameters: {
      settings_version: version.version,
      previous_version: previous?.version ?? null,
      settings_hash: version.hash,
      config_hash: version.configHash,
      previous_hash: previous?.configHash ?? null,
      reason: version.reason.slice(0, 500),
      changed_fields: fields.slice(0, MAX_FIELDS),
      changed_field_count: fields.length,
      guard_rails: [...version.guardRails],
      rollback_of: version.rollbackOf,
      source: version.source,
      dry_run: version.config.dryRun,
    },
    approval_status: 'not_required',
    approved_by: null,
    result: 'success',
  };
}
