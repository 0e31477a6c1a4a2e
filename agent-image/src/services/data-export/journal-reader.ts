import { join } from 'node:path';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { openEnvelope, type EnvelopePurpose } from '../audit-log/envelope.ts';
import { COMPACTION_MARKER_SEQ, openCompactionMarker, peekLineSeq } from '../audit-log/journal-heads.ts';
import type { KeyRing } from '../audit-log/key-ring.ts';
import { lineFileLines } from '../audit-log/line-file.ts';

/**
 * The events of one encrypted journal (`state/approvals.log`, `outbox/outbox.log`), read without ever
 * writing: no compaction, no torn-tail repair, so it works on a read-only mount and beside the agent
 * that appends to it. Each line is authenticated; a gap or reorder is an integrity error, as on open. A
 * journal the agent compacted starts with a marker (sealed at seq 0, only ever the first line) naming the
 * head it replaced, and its events are numbered on from that head, as the agent's own reader expects
 * (encrypted-journal.ts). Yielded one at a time: memory holds one line, whatever the journal's size. A
 * journal file that is a link, a FIFO or anything but a regular file is an integrity error (line-file.ts).
 */
export async function* readJournal<E>(
  directory: string,
  file: string,
  purpose: Exclude<EnvelopePurpose, 'audit'>,
  keys: KeyRing,
  parse: (value: unknown) => E,
): AsyncGenerator<E> {
  let seq = 0;
  let first = true;
  for await (const line of lineFileLines(join(directory, file))) {
    if (first && peekLineSeq(line) === COMPACTION_MARKER_SEQ) {
      seq = openCompactionMarker(keys, purpose, line, file).seq;
      first = false;
      continue;
    }
    first = false;
    const opened = openEnvelope(keys, purpose, Buffer.from(line, 'base64'));
    if (opened.seq !== seq + 1) throw new FleetError('integrity', `${file}: event ${seq + 1} is missing or out of order`);
    seq = opened.seq;
    let value: unknown;
    try {
      value = JSON.parse(opened.plaintext.toString('utf8'));
    } catch (error) {
      throw new FleetError('integrity', `${file}: event ${opened.seq} is not JSON`, { cause: error });
    }
    yield parse(value);
  }
}

/** Every event of a journal (see `readJournal`), for the parts that fold them into their latest state. */
export async function readJournalEvents<E>(
  directory: string,
  file: string,
  purpose: Exclude<EnvelopePurpose, 'audit'>,
  keys: KeyRing,
  parse: (value: unknown) => E,
): Promise<E[]> {
  const events: E[] = [];
  for await (const event of readJournal(directory, file, purpose, keys, parse)) events.push(event);
  return events;
}
