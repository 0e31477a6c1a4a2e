import { join } from 'node:path';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { openEnvelope, type EnvelopePurpose } from '../audit-log/envelope.ts';
import type { KeyRing } from '../audit-log/key-ring.ts';
import { completeLines } from './line-stream.ts';

/**
 * The events of one encrypted journal (`state/approvals.log`, `outbox/outbox.log`), read without ever
 * writing: no compaction, no torn-tail repair, so it works on a read-only mount and beside the agent
 * that appends to it. Each line is authenticated; a gap or reorder is an integrity error, as on open.
 */
export async function readJournal<E>(
  directory: string,
  file: string,
  purpose: Exclude<EnvelopePurpose, 'audit'>,
  keys: KeyRing,
  parse: (value: unknown) => E,
): Promise<E[]> {
  const events: E[] = [];
  let seq = 0;
  for await (const line of completeLines(join(directory, file))) {
    const opened = openEnvelope(keys, purpose, Buffer.from(line, 'base64'));
    if (opened.seq !== seq + 1) throw new FleetError('integrity', `${file}: event ${seq + 1} is missing or out of order`);
    seq = opened.seq;
    let value: unknown;
    try {
      value = JSON.parse(opened.plaintext.toString('utf8'));
    } catch (error) {
      throw new FleetError('integrity', `${file}: event ${opened.seq} is not JSON`, { cause: error });
    }
    events.push(parse(value));
  }
  return events;
}
