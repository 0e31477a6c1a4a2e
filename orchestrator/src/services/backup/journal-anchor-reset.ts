import type { ClientId } from '@agent-fleet/kernel/client-id';
import { JOURNAL_ANCHOR_SECRET, encodeAnchorDocument } from '@agent-fleet/kernel/journal-anchor';
import type { SecretStore } from '../../ports/secret-store.ts';


/**
 * Tells the client's agent that the next volume it opens was put there on purpose (a restore from an older
 * backup): it takes the volume as it is and records its heads, instead of refusing it as rolled back. Written
 * while the agent is stopped, after it recorded its last heads and before the backup is swapped in.
 */
export async function resetJournalAnchor(secrets: Pick<SecretStore, 'writeSecret'>, clientId: ClientId, reason: string, at: Date): Promise<void> {
  await secrets.writeSecret(clientId, JOURNAL_ANCHOR_SECRET, encodeAnchorDocument({ kind: 'reset', reason: reason.slice(0, 500), at: at.toISOString() }));
}
