import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { ChainVerifier } from '../../domain/audit-chain.ts';
import type { AuditRecord } from '../../domain/audit-record.ts';

/**
 * Passes records on in chain order only while they chain: each matches its own hash and links to the one
 * before it (seq + 1, prev_hash). At the first that does not (a line deleted, moved or edited in storage),
 * it throws FleetError('integrity') naming the break, before yielding that record: an export stops there
 * instead of handing out a broken chain as a good one. Memory is bounded (ChainVerifier keeps a window).
 *
 * `fromGenesis`: the records are the whole log, so the first must be record 1. Otherwise (a read that
 * skipped older files) the first record is taken as it is and the chain is followed from it.
 */
export async function* followChain(records: AsyncIterable<AuditRecord>, options: { fromGenesis: boolean }): AsyncGenerator<AuditRecord> {
  let verifier: ChainVerifier | null = options.fromGenesis ? new ChainVerifier() : null;
  for await (const record of records) {
    verifier ??= new ChainVerifier({ anchor: record.seq > 1 ? { seq: record.seq - 1, hash: record.prev_hash } : null });
    verifier.push(record);
    const verdict = verifier.finish();
    if (!verdict.ok) {
      const { kind, seq, message } = verdict.break;
      throw new FleetError('integrity', `the audit chain is broken at record ${seq} (${kind}: ${message}); nothing from there on is exported: run \`fleet audit verify\``);
    }
    yield record;
  }
}
