// Encrypted journals of small numbered notes in temporary directories, for tests of the journal itself.
import { after } from 'node:test';
import type { KeyRing } from '../../agent-image/src/services/audit-log/key-ring.ts';
import { temporaryDirectory } from '../unit/audit/helpers.ts';

export interface Note {
  n: number;
  text?: string;
}

/** A maker of fresh directories named after `prefix`, all removed after the calling file's tests. */
export function journalDirectories(prefix: string): () => Promise<string> {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });
  return async () => {
    const dir = await temporaryDirectory(prefix);
    cleanups.push(dir.remove);
    return dir.path;
  };
}

/** The options of a journal of notes in `directory`: a line that is not a note fails to parse. */
export function noteJournalOptions(directory: string, keys: KeyRing) {
  return {
    directory,
    file: 'notes.log',
    purpose: 'state' as const,
    keys,
    parse: (value: unknown): Note => {
      if (typeof (value as Note | null)?.n !== 'number') throw new Error('not a note');
      return value as Note;
    },
  };
}
