import type { ClientId } from '@agent-fleet/kernel/client-id';
import { CLIENT_DELETION_ACTIONS, eraseFields, isErased } from '../../domain/ops-log-chain.ts';
import type { ErasableField, OpsLogEntry } from '../../domain/ops-log-entry.ts';
import type { Registry } from '../../ports/registry.ts';
import { ERASURE_REQUEST_ACTION } from './erasure-records.ts';

/** How the ops log names a person on the client's side (a client admin in the portal, by address or digest). */
const CLIENT_PERSON_PREFIX = 'client-admin:';

/** Records of the deletion itself: kept whole, they prove when it was asked for and when it was done. */
const DELETION_RECORDS: ReadonlySet<string> = new Set([ERASURE_REQUEST_ACTION, ...CLIENT_DELETION_ACTIONS]);

/**
 * The fields of a deleted client's entry that can hold personal data: an actor on the client's side (team
 * members stay named: they answer for what they did), any free-text reason, and the details (settings
 * values, addresses, notes), but those of the deletion's own records. Fields erased before are not listed.
 */
export function personalFieldsOf(entry: OpsLogEntry): ErasableField[] {
  const candidates: ErasableField[] = [];
  if (entry.actor.startsWith(CLIENT_PERSON_PREFIX)) candidates.push('actor');
  if (entry.reason !== null) candidates.push('reason');
  if (!DELETION_RECORDS.has(entry.action) && Object.keys(entry.details).length > 0) candidates.push('details');
  return candidates.filter((field) => !isErased(entry.seals?.[field]));
}

export interface OpsLogErasure {
  /** Entries whose personal fields were erased now. */
  erased: number;
  /** Entries written before fields could be erased (their hash covers the values): left as they are. */
  unerasable: number;
}

/**
 * Erases the personal fields of every ops-log entry of a client being deleted (erasure on request, or a
 * purge: the retention period's end). The entries, their actions, times and outcomes stay, and the chain
 * still verifies. Idempotent.
 */
export async function eraseClientOpsLog(registry: Pick<Registry, 'listOpsLog' | 'saveErasedOpsLogEntries'>, clientId: ClientId, now: Date): Promise<OpsLogErasure> {
  const erased: OpsLogEntry[] = [];
  let unerasable = 0;
  for (const entry of await registry.listOpsLog({ clientId })) {
    const fields = personalFieldsOf(entry);
    if (fields.length === 0) continue;
    if (entry.seals === undefined) unerasable += 1;
    else erased.push(eraseFields(entry, fields, now));
  }
  await registry.saveErasedOpsLogEntries(erased);
  return { erased: erased.length, unerasable };
}
