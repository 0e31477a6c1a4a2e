import { hkdfSync } from 'node:crypto';
import type { ErasableField, OpsLogEntry } from '../../domain/ops-log-entry.ts';
import { seal, unseal } from '../../portal/crypto/sealed-box.ts';

/** The columns of a client's row that hold its configuration, its people, and why ops last changed its state (free text). */
export type SealedClientField = 'config_yaml' | 'admins' | 'status_reason';

/** The columns of an incident that hold free text or name people at a client (its notifications, its containment steps' details). */
export type SealedIncidentField = 'summary' | 'confirmed_scope' | 'root_cause' | 'lessons' | 'remediation' | 'notifications' | 'containment';

/** The fields of an ops-log entry that name people or say what they set: sealed together, in one value per entry. */
export type SealedOpsLogFields = Pick<OpsLogEntry, ErasableField>;

/** How every sealed value starts (the sealed-box format), for SQL that tells sealed rows from plaintext ones. */
export const SEALED_PREFIX = 'ps1.';

/**
 * AES-256-GCM for what the registry holds about people and configuration: a client's configuration (the
 * YAML with its block lists and contacts) and admins' addresses, each ops-log entry's actor, reason and
 * details (who did what, the settings values they set), and an incident's free text and whom it told. The spec wants configuration and logs encrypted at
 * rest, and the registry may be an outside PostgreSQL whose dumps and backups leave our hands. Each value
 * is bound to its place (a client, an incident and column, an entry's sequence number): copied elsewhere, it does not
 * open. The key is not in the database.
 */
export interface RegistrySealer {
  seal(clientId: string, field: SealedClientField, value: string): string;
  /** The plaintext of a stored value; a value written before sealing (no `ps1.` prefix) is returned as it is. */
  open(clientId: string, field: SealedClientField, stored: string): string;
  isSealed(stored: string): boolean;
  sealOpsLogFields(seq: number, fields: SealedOpsLogFields): string;
  /** The fields sealed for entry `seq`; sealed for another entry, altered, or under another key: an integrity error. */
  openOpsLogFields(seq: number, sealed: string): SealedOpsLogFields;
  sealIncidentField(incidentId: string, field: SealedIncidentField, value: string): string;
  /** As `open`: a value written before sealing is returned as it is. */
  openIncidentField(incidentId: string, field: SealedIncidentField, stored: string): string;
}

/** A sealer under a key derived from the master key (`<home>/registry-key/master.key`, kept apart from the database). */
export function registrySealer(masterKey: Buffer): RegistrySealer {
  // The derivation's label predates the ops-log fields; the purposes below keep the two kinds of value apart.
  const key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'agent-fleet registry client fields', 32));
  const clientPurpose = (clientId: string, field: SealedClientField) => `registry:clients:${clientId}:${field}`;
  const opsLogPurpose = (seq: number) => `registry:ops_log:${seq}`;
  const incidentPurpose = (incidentId: string, field: SealedIncidentField) => `registry:incidents:${incidentId}:${field}`;
  const isSealed = (stored: string) => stored.startsWith(SEALED_PREFIX);
  return {
    seal: (clientId, field, value) => seal(key, value, clientPurpose(clientId, field)),
    open: (clientId, field, stored) => (isSealed(stored) ? unseal(key, stored, clientPurpose(clientId, field)).toString('utf8') : stored),
    isSealed,
    sealOpsLogFields: (seq, { actor, reason, details }) => seal(key, JSON.stringify({ actor, reason, details }), opsLogPurpose(seq)),
    openOpsLogFields: (seq, sealed) => JSON.parse(unseal(key, sealed, opsLogPurpose(seq)).toString('utf8')) as SealedOpsLogFields,
    sealIncidentField: (incidentId, field, value) => seal(key, value, incidentPurpose(incidentId, field)),
    openIncidentField: (incidentId, field, stored) =>
      isSealed(stored) ? unseal(key, stored, incidentPurpose(incidentId, field)).toString('utf8') : stored,
  };
}
