import { FleetError } from './fleet-error.ts';

/**
 * Where an encrypted journal stands: the seq of its last event and the sha256 of that event's line as
 * stored. Lines are sealed with a fresh nonce, so an older copy of the journal, or another branch of its
 * history with as many events, never has the same line at that seq.
 */
export interface JournalHead {
  seq: number;
  hash: string;
}

/** A seq and a sha256 (hex), as a journal head is recorded. */
export function isJournalHead(value: unknown): value is JournalHead {
  const head = value as { seq?: unknown; hash?: unknown } | null;
  return (
    typeof head === 'object' &&
    head !== null &&
    Number.isSafeInteger(head.seq) &&
    (head.seq as number) >= 1 &&
    typeof head.hash === 'string' &&
    /^[0-9a-f]{64}$/.test(head.hash)
  );
}

/**
 * The client's KV secret (`fleet/data/<id>/journal-heads`, inside the path only its own policy reaches)
 * holding the heads of its journals, outside the volume: a volume cut back, or swapped for an older copy,
 * no longer reaches them. The orchestrator writes a reset there when it restores a backup, and its
 * `fleet secrets set` refuses the name.
 */
export const JOURNAL_ANCHOR_SECRET = 'journal-heads';

const FORMAT = 1;
const MAX_DOCUMENT_CHARS = 16 * 1024;
const JOURNAL_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** Every journal's anchored head by name (`audit`, `state`, `outbox`, …); a journal still empty has none. */
export type AnchoredHeads = Readonly<Record<string, JournalHead>>;

/**
 * What the secret holds: the heads the agent recorded, or a reset the orchestrator wrote when it swapped a
 * backup into the volume (the next open takes the volume as it is and records its heads).
 */
export type AnchorDocument =
  | { kind: 'heads'; heads: AnchoredHeads; at: string }
  | { kind: 'reset'; reason: string; at: string };

/** The secret's value for a document. */
export function encodeAnchorDocument(document: AnchorDocument): string {
  return document.kind === 'heads'
    ? JSON.stringify({ format: FORMAT, heads: document.heads, at: document.at })
    : JSON.stringify({ format: FORMAT, reset: { reason: document.reason, at: document.at } });
}

/**
 * The document in a secret's value. Anything else is FleetError('integrity'): an anchor that cannot be
 * read must not be taken for no anchor at all, which would accept any volume.
 */
export function parseAnchorDocument(value: string): AnchorDocument {
  const unreadable = (why: string) => new FleetError('integrity', `the journal anchor in Vault (${JOURNAL_ANCHOR_SECRET}) is unreadable: ${why}`);
  if (value.length > MAX_DOCUMENT_CHARS) throw unreadable(`longer than ${MAX_DOCUMENT_CHARS} characters`);
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    throw unreadable('not JSON');
  }
  const document = raw as { format?: unknown; heads?: unknown; reset?: unknown; at?: unknown } | null;
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw unreadable('not an object');
  if (document.format !== FORMAT) throw unreadable(`format ${String(document.format)} is not ${FORMAT}`);
  if (document.reset !== undefined) {
    const reset = document.reset as { reason?: unknown; at?: unknown } | null;
    if (typeof reset !== 'object' || reset === null || typeof reset.reason !== 'string' || typeof reset.at !== 'string') throw unreadable('a reset without reason and time');
    return { kind: 'reset', reason: reset.reason.slice(0, 500), at: reset.at.slice(0, 40) };
  }
  if (typeof document.heads !== 'object' || document.heads === null || Array.isArray(document.heads)) throw unreadable('no heads');
  const heads: Record<string, JournalHead> = {};
  for (const [name, head] of Object.entries(document.heads)) {
    if (!JOURNAL_NAME.test(name)) throw unreadable(`"${name.slice(0, 40)}" is not a journal name`);
    if (!isJournalHead(head)) throw unreadable(`the head of ${name} is not a seq and a sha256`);
    heads[name] = { seq: head.seq, hash: head.hash };
  }
  return { kind: 'heads', heads, at: typeof document.at === 'string' ? document.at.slice(0, 40) : '' };
}
