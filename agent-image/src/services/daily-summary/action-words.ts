import { oneLine } from './mail-quote.ts';

/**
 * What a held action would do, in the admins' words, for the mails that ask them to decide it (approval
 * notices, the daily summary): never "an email" for a calendar change or a deletion.
 */

const ACTION_WORDS: Readonly<Record<string, string>> = {
  'mail.send': 'sending an email',
  'mail.draft': 'saving a draft',
  'mail.delete': 'deleting email',
  'mail.move': 'moving email to another folder',
  'mail.label': 'labelling email',
  'calendar.write': 'a calendar change',
  'files.share': 'sharing a file',
  'files.write': 'writing a file',
  'files.delete': 'deleting a file',
  'crm.write': 'a change to your CRM',
};

const CALENDAR_WORDS: Readonly<Record<string, string>> = {
  create: 'a new calendar event',
  update: 'a change to a calendar event',
  cancel: 'cancelling a calendar event',
};

function wordsFor(table: Readonly<Record<string, string>>, key: unknown): string | undefined {
  return typeof key === 'string' && Object.hasOwn(table, key) ? table[key] : undefined;
}

/** The action of `kind` (a calendar write by its `operation`); an unknown kind is named, bounded. */
export function actionWords(kind: string, operation?: unknown): string {
  if (kind === 'calendar.write') return wordsFor(CALENDAR_WORDS, operation) ?? 'a calendar change';
  return wordsFor(ACTION_WORDS, kind) ?? `an action of the kind ${oneLine(kind, 40)}`;
}
