import { stat } from 'node:fs/promises';
import { type AnchoredHeads, type JournalHead } from '@agent-fleet/kernel/journal-anchor';
import { join } from 'node:path';
import type { ChainBreak } from '../../domain/audit-chain.ts';
import type { EnvelopePurpose } from '../audit-log/envelope.ts';
import { journalHolding, readDurableJournalHead } from '../audit-log/journal-heads.ts';
import type { KeyRing } from '../audit-log/key-ring.ts';
import type { AnchoredJournal } from './journal-anchor-keeper.ts';
import type { runtimePaths } from './runtime-paths.ts';

/** One encrypted journal file of the client's volume, by the name its head is anchored under. */
export interface VolumeJournal {
  name: string;
  path: string;
  purpose: Exclude<EnvelopePurpose, 'audit'>;
}

/** The name the audit log's head is anchored under. */
export const AUDIT_JOURNAL = 'audit';

/** Every encrypted journal the agent keeps in the volume besides the audit log (see the stores that open them). */
export function volumeJournals(paths: ReturnType<typeof runtimePaths>): VolumeJournal[] {
  return [
    { name: 'state', path: join(paths.state, 'state.log'), purpose: 'state' },
    { name: 'approvals', path: join(paths.state, 'approvals.log'), purpose: 'state' },
    { name: 'settings', path: join(paths.state, 'settings.log'), purpose: 'settings' },
    { name: 'outbox', path: join(paths.outbox, 'outbox.log'), purpose: 'outbox' },
  ];
}

/** The operator's command that accepts a refused volume as it is (orchestrator: accept-agent-volume.ts). */
export const ACCEPT_VOLUME_COMMAND = '`fleet audit accept-volume <client> --reason …`';

/** What an operator reads when the volume no longer holds its anchored heads. */
export const ROLLBACK_ADVICE =
  'the volume was cut back or replaced by an older copy (records acknowledged before are missing), so the agent will not act. ' +
  'If an older backup was put back on purpose, restore it with `fleet restore`, which moves the anchor; otherwise keep the volume for investigation, ' +
  `and only once the loss is understood accept it with ${ACCEPT_VOLUME_COMMAND} (it resets the anchor and introduces the agent again).`;

/**
 * Whether every journal still holds the head anchored for it outside the volume: a journal that ends
 * before it, or holds another line at its seq, was rolled back. The first journal that does not is named.
 */
export async function checkJournalsHoldAnchors(journals: readonly VolumeJournal[], keys: KeyRing, heads: AnchoredHeads): Promise<{ ok: true } | { ok: false; break: ChainBreak }> {
  for (const journal of journals) {
    const anchor = heads[journal.name];
    if (anchor === undefined) continue;
    const holding = await journalHolding(journal.path, keys, journal.purpose, anchor);
    if (holding.holds) continue;
    const endsBefore = holding.head === null || holding.head.seq < anchor.seq;
    const found = endsBefore
      ? `it ends at event ${holding.head?.seq ?? 0}, before event ${anchor.seq} recorded in Vault`
      : `its event ${anchor.seq} is not the one recorded in Vault`;
    return {
      ok: false,
      break: { kind: endsBefore ? 'truncated' : 'rewritten', seq: anchor.seq, message: `the ${journal.name} journal does not hold its anchored head: ${found}; ${ROLLBACK_ADVICE}` },
    };
  }
  return { ok: true };
}

/**
 * A journal file as the keeper reads it: its durable head, read again only when the file changed size or
 * time (the last line may be large, and most intervals nothing is appended).
 */
export function fileJournal(journal: VolumeJournal, keys: KeyRing): AnchoredJournal {
  let seen: { size: number; mtimeMs: number; head: JournalHead | null } | null = null;
  return {
    name: journal.name,
    async head() {
      let info;
      try {
        info = await stat(journal.path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
      if (seen !== null && seen.size === info.size && seen.mtimeMs === info.mtimeMs) return seen.head;
      const head = await readDurableJournalHead(journal.path, keys, journal.purpose);
      seen = { size: info.size, mtimeMs: info.mtimeMs, head };
      return head;
    },
  };
}
