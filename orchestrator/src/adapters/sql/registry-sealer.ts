import { createHmac, hkdfSync } from 'node:crypto';
import type { ErasableField, OpsLogEntry } from '../../domain/ops-log-entry.ts';
import { seal, unseal } from '../../portal/crypto/sealed-box.ts';

/** The columns of a client's row that hold its configuration, its people, and why ops last changed its state (free text). */
export type SealedClientField = 'config_yaml' | 'admins' | 'status_reason';

/** The columns of an incident that hold free text or name people at a client (its notifications, its containment steps' details). */
export type SealedIncidentField = 'summary' | 'confirmed_scope' | 'root_cause' | 'lessons' | 'remediation' | 'notifications' | 'containment' | 'containment_override';

/** The fields of an ops-log entry that name people or say what they set: sealed together, in one value per entry. */
export type SealedOpsLogFields = Pick<OpsLogEntry, ErasableField>;

/** How every sealed value starts (the sealed-box format), for SQL that tells sealed rows from plaintext ones. */
export const SEALED_PREFIX = 'ps1.';

/** How a sealed address starts: the same address always seals to the same value (see `sealAddress`). */
export const SEALED_ADDRESS_PREFIX = 'pa1.';

/** How a lookup key starts (see `lookupKey`). */
export const LOOKUP_KEY_PREFIX = 'pk1.';

const ADDRESS_PURPOSE = 'registry:portal:address';

/**
 * AES-256-GCM for what the registry holds about people and configuration: a client's configuration (the
 * YAML with its block lists and contacts), admins' addresses and status reason, each ops-log entry's
 * actor, reason and details (who did what, the settings values they set), an incident's free text and
 * whom it told, the portal's admin addresses and the team members' addresses. The spec wants
 * configuration and logs encrypted at rest, and the registry may be an outside PostgreSQL whose dumps and
 * backups leave our hands. Each value is bound to its place (a client, an incident and column, an entry's
 * sequence number, a member): copied elsewhere, it does not open. The key is not in the database.
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
  /**
   * An admin's address where the portal looks rows up by it: sealed deterministically (the nonce is a MAC
   * of the address), so equal addresses give equal values and SQL still finds them; what it shows is that
   * two rows name the same address, never which.
   */
  sealAddress(address: string): string;
  /** As `open`: an address written before sealing is returned as it is. */
  openAddress(stored: string): string;
  isSealedAddress(stored: string): boolean;
  /**
   * A team member's address, bound to the member's name. Nothing looks a member up by address, so it is
   * sealed like a client field (a fresh nonce each time), not deterministically.
   */
  sealMemberEmail(member: string, email: string): string;
  /** As `open`: an address written before sealing is returned as it is. */
  openMemberEmail(member: string, stored: string): string;
  /** A one-way key for a value only ever compared, never read back (a login throttle's subject). */
  lookupKey(value: string): string;
}

/** A sealer under a key derived from the master key (`<home>/registry-key/master.key`, kept apart from the database). */
export function registrySealer(masterKey: Buffer): RegistrySealer {
  // The derivation's label predates the ops-log fields; the purposes below keep the two kinds of value apart.
  const key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'agent-fleet registry client fields', 32));
  const addressKey = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'agent-fleet registry addresses', 32));
  const indexKey = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'agent-fleet registry lookup keys', 32));
  const clientPurpose = (clientId: string, field: SealedClientField) => `registry:clients:${clientId}:${field}`;
  const opsLogPurpose = (seq: number) => `registry:ops_log:${seq}`;
  const incidentPurpose = (incidentId: string, field: SealedIncidentField) => `registry:incidents:${incidentId}:${field}`;
  const memberPurpose = (member: string) => `registry:team_members:${member}:email`;
  return {
    seal: (clientId, field, value) => seal(key, value, clientPurpose(clientId, field)),
    open: (clientId, field, stored) => openIfSealed(key, SEALED_PREFIX, stored, clientPurpose(clientId, field)),
    isSealed: (stored) => stored.startsWith(SEALED_PREFIX),
    sealOpsLogFields: (seq, { actor, reason, details }) => seal(key, JSON.stringify({ actor, reason, details }), opsLogPurpose(seq)),
    openOpsLogFields: (seq, sealed) => JSON.parse(unseal(key, sealed, opsLogPurpose(seq)).toString('utf8')) as SealedOpsLogFields,
    sealIncidentField: (incidentId, field, value) => seal(key, value, incidentPurpose(incidentId, field)),
    openIncidentField: (incidentId, field, stored) => openIfSealed(key, SEALED_PREFIX, stored, incidentPurpose(incidentId, field)),
    sealAddress: (address) => sealDeterministically(addressKey, indexKey, address),
    openAddress: (stored) => openIfSealed(addressKey, SEALED_ADDRESS_PREFIX, stored, ADDRESS_PURPOSE),
    isSealedAddress: (stored) => stored.startsWith(SEALED_ADDRESS_PREFIX),
    sealMemberEmail: (member, email) => seal(key, email, memberPurpose(member)),
    openMemberEmail: (member, stored) => openIfSealed(key, SEALED_PREFIX, stored, memberPurpose(member)),
    lookupKey: (value) => `${LOOKUP_KEY_PREFIX}${createHmac('sha256', indexKey).update(`lookup\0${value}`).digest('base64url')}`,
  };
}

/**
 * The plaintext of a value sealed under `prefix` (the sealed-box format with its `ps1.` swapped for
 * `prefix`); a value without it was written before sealing and is returned as it is (sealed at the next
 * start).
 */
function openIfSealed(key: Buffer, prefix: string, stored: string, purpose: string): string {
  if (!stored.startsWith(prefix)) return stored;
  return unseal(key, `${SEALED_PREFIX}${stored.slice(prefix.length)}`, purpose).toString('utf8');
}

/**
 * The sealed-box format with a synthetic nonce (an HMAC of the plaintext under a second key): deterministic,
 * so usable as an equality key, and distinct plaintexts never share a nonce (short of an HMAC collision).
 */
function sealDeterministically(key: Buffer, nonceKey: Buffer, plaintext: string): string {
  const nonce = createHmac('sha256', nonceKey).update(`address\0${plaintext}`).digest().subarray(0, 12);
  return `${SEALED_ADDRESS_PREFIX}${seal(key, plaintext, ADDRESS_PURPOSE, nonce).slice(SEALED_PREFIX.length)}`;
}
