import { linkIn } from '../policy/link-host.ts';
import { textSignals } from './injection-signals.ts';
import { withoutHiddenCharacters } from './visible-text.ts';

/**
 * Validators for the values a template's slots may take. The model proposes a value; each validator
 * accepts it only when it is well formed AND comes from a trusted source code was given: the contact
 * record or the parsed From display name for the name, the client's own free calendar slots for a time.
 * The subject comes from the inbound message and is normalised and bounded here. Pure.
 */

export type SlotCheck<T = string> = { ok: true; value: T } | { ok: false; issue: string };

export const MAX_NAME_LENGTH = 60;
export const MAX_NAME_WORDS = 4;
export const MAX_SUBJECT_LENGTH = 100;

/** Words of letters (any script, with their combining marks) joined by one space, hyphen or apostrophe. */
const NAME_SHAPE = /^[\p{L}\p{M}]+(?:[ '’-][\p{L}\p{M}]+)*$/u;
/**
 * The scripts a name's letters are told apart by (Unicode Script_Extensions). A letter of a script not
 * listed cannot be told apart from another such letter, so it makes the name mixed; Common and Inherited
 * characters (combining marks, modifier letters such as the ʻokina) belong to no script and mix with any.
 */
const SCRIPTS = [
  'Latin', 'Greek', 'Cyrillic', 'Armenian', 'Georgian', 'Hebrew', 'Arabic', 'Syriac', 'Thaana', 'Nko', 'Devanagari', 'Bengali',
  'Gurmukhi', 'Gujarati', 'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala', 'Thai', 'Lao', 'Tibetan', 'Myanmar',
  'Khmer', 'Mongolian', 'Ethiopic', 'Cherokee', 'Canadian_Aboriginal', 'Tifinagh', 'Vai', 'Lisu', 'Han', 'Hiragana', 'Katakana',
  'Hangul', 'Bopomofo', 'Yi',
].map((name) => ({ name, test: new RegExp(String.raw`\p{Script_Extensions=${name}}`, 'u') }));
const NO_SCRIPT = /^[\p{Script=Common}\p{Script=Inherited}]$/u;
/** The writing systems a script's letters may be part of: Han, kana, Hangul and Bopomofo mix in Japanese, Korean and Chinese names. */
const WRITING_SYSTEMS: Readonly<Record<string, readonly string[]>> = {
  Han: ['Han', 'Japanese', 'Korean', 'Chinese'],
  Hiragana: ['Hiragana', 'Japanese'],
  Katakana: ['Katakana', 'Japanese'],
  Hangul: ['Hangul', 'Korean'],
  Bopomofo: ['Bopomofo', 'Chinese'],
};

/** The writing systems of each letter of `text` that has one (see SCRIPTS). */
function letterSystems(text: string): Set<string>[] {
  const result: Set<string>[] = [];
  for (const character of text) {
    const scripts = SCRIPTS.filter((script) => script.test.test(character)).map((script) => script.name);
    if (scripts.length === 0 && NO_SCRIPT.test(character)) continue;
    result.push(new Set((scripts.length === 0 ? ['other'] : scripts).flatMap((script) => WRITING_SYSTEMS[script] ?? [script])));
  }
  return result;
}

/** Whether one writing system holds every letter. */
function oneSystem(letters: readonly Set<string>[]): boolean {
  let common: Set<string> | undefined;
  for (const systems of letters) common = common === undefined ? systems : new Set([...common].filter((system) => systems.has(system)));
  return common === undefined || (common.size > 0 && !common.has('other'));
}

/**
 * UTS #39's "highly restrictive" rule: the letters of one script, or Latin beside the Han, kana, Hangul or
 * Bopomofo of a Japanese, Korean or Chinese name. Mixing any other scripts is how a name imitates another
 * (`Вob` with a Cyrillic В, `Bօb` with an Armenian օ) or imitates punctuation (`wwwᐧexampleᐧcom`, whose
 * dots are Canadian syllabics).
 */
function mixesScripts(name: string): boolean {
  const letters = letterSystems(name);
  if (oneSystem(letters)) return false;
  const cjk = letters.filter((systems) => !systems.has('Latin'));
  return cjk.length === letters.length || !oneSystem(cjk) || ![...cjk[0]!].some((system) => ['Japanese', 'Korean', 'Chinese'].includes(system));
}
/**
 * Letters that read as punctuation or symbols rather than as part of a name: modifier letters (Lisu's tone
 * letter ꓸ and the IPA ˌ look like a dot or a comma, ː like a colon; `ꓪꓪꓪꓸꓰꓦꓲꓡꓸꓚꓳꓟ` reads "WWW.EVIL.COM") but
 * for the few written inside names (the ʻokina and ʼ, kana's prolonged sound and iteration marks, Han's
 * 々, Thai's and Lao's repetition marks); and the caseless letters of a script with case (Latin's ꞏ, a dot,
 * and ǀ, a bar, are "other letters"). Marks that draw a symbol over or around a letter (overlays such as
 * the long solidus, enclosing circles and keycaps) and stacks of more than three marks (which spill over
 * the lines around) are refused as well.
 */
const NAME_MODIFIER_LETTERS = /^[\u02bb\u02bc\u3005\u309d\u309e\u30fc\u30fd\u30fe\u0e46\u0ec6]$/u;
const CASED_SCRIPT = /[\p{Script_Extensions=Latin}\p{Script_Extensions=Greek}\p{Script_Extensions=Cyrillic}\p{Script_Extensions=Armenian}\p{Script_Extensions=Georgian}\p{Script_Extensions=Cherokee}]/u;
const SYMBOL_MARKS = /[\p{Me}\u0334-\u0338\u1cd4\u1ce2-\u1ce8\u20d2\u20d3\u20d8-\u20da\u20e5\u20e6\u20ea\u20eb\u{10a39}\u{16af0}-\u{16af4}\u{1bc9e}\u{1d167}-\u{1d169}]|\p{M}{4}/u;

function holdsSymbolLike(name: string): boolean {
  if (SYMBOL_MARKS.test(name)) return true;
  for (const character of name) {
    if (/\p{Lm}/u.test(character) ? !NAME_MODIFIER_LETTERS.test(character) : /\p{Lo}/u.test(character) && CASED_SCRIPT.test(character)) return true;
  }
  return false;
}

/** Text as one line: white space collapsed, hidden characters (visible-text.ts) dropped. */
function tidy(text: string): string {
  return withoutHiddenCharacters(text.normalize('NFC').replace(/\s+/g, ' ')).replace(/ {2,}/g, ' ').trim();
}

/** The shape rule of a correspondent name, without its source. */
export function nameShapeIssue(name: string): string | null {
  if (name === '') return 'is empty';
  if ([...name].length > MAX_NAME_LENGTH) return `is longer than ${MAX_NAME_LENGTH} characters`;
  if (!NAME_SHAPE.test(name)) return 'may hold only letters, single spaces, hyphens and apostrophes';
  if (name.split(/[ '’-]/).length > MAX_NAME_WORDS) return `has more than ${MAX_NAME_WORDS} parts`;
  if (mixesScripts(name)) return 'mixes letters of more than one script';
  if (holdsSymbolLike(name)) return 'holds a letter or mark that reads as punctuation or a symbol';
  return null;
}

/**
 * Whether a name reads as words meant for the assistant or the reader rather than a name: the sender
 * writes the From display name, and "Approved By Finance" or "Ignore Previous Instructions" would be
 * greeted by name in the client's reply and offered to the drafter. Bank words are left out: Iban and
 * Swift are names too.
 */
function readsAsInstruction(name: string): boolean {
  return textSignals(name).some((signal) => signal !== 'bank_details');
}

/** A display name's first word may join at most this many parts by a hyphen or apostrophe (Jean-Pierre, O'Neil). */
const MAX_FIRST_WORD_PARTS = 2;

/**
 * The names a reply may greet with. Sources come from code, never from the model, in this order: the
 * client's own record of the sender (contact or CRM name), then what the sender wrote (the From display
 * name). The client's record gives its name in full and its first word. What the sender wrote gives its
 * first word only: whole, it is a phrase of the sender's choosing that the client's reply would repeat
 * ("Hello Wire Money Today,", "Hello Payment Approved,"), while one word is a greeting and no sentence.
 * A source that reads as an instruction gives no candidate at all, not even its first word ("Approved",
 * "Ignore").
 */
export function correspondentNameCandidates(sources: readonly (string | null | undefined)[]): string[] {
  const candidates = new Set<string>();
  sources.forEach((source, index) => {
    if (source === null || source === undefined) return;
    const name = tidy(source).replace(/^["']+|["']+$/g, '');
    if (readsAsInstruction(name)) return;
    const firstWord = name.split(' ')[0] ?? '';
    const senderWritten = index > 0;
    const offered = senderWritten ? (firstWord.split(/['’-]/).length <= MAX_FIRST_WORD_PARTS ? [firstWord] : []) : [name, firstWord];
    for (const candidate of offered) if (nameShapeIssue(candidate) === null && !readsAsInstruction(candidate)) candidates.add(candidate);
  });
  return [...candidates];
}

/** The model's name for the correspondent: valid only when it is one of the candidates. */
export function validateCorrespondentName(value: string, candidates: readonly string[]): SlotCheck {
  const name = tidy(value);
  const issue = nameShapeIssue(name);
  if (issue !== null) return { ok: false, issue: `correspondentName ${issue}` };
  if (!candidates.includes(name)) return { ok: false, issue: 'correspondentName is neither the contact record name nor the sender’s display name' };
  return { ok: true, value: name };
}

/** A free interval of the client's own calendar, as code computed it from free/busy. */
export type FreeSlot = { start: string; end: string };

/** The model's proposed time: valid only when it is the start of one of the given future free slots. */
export function validateProposedTime(value: string, freeSlots: readonly FreeSlot[], now: Date): SlotCheck<FreeSlot> {
  const trimmed = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(trimmed)) {
    return { ok: false, issue: 'proposedTime must be an ISO 8601 date-time with an offset' };
  }
  const at = Date.parse(trimmed);
  const slot = freeSlots.find((candidate) => Date.parse(candidate.start) === at && Date.parse(candidate.end) > at);
  if (slot === undefined) return { ok: false, issue: 'proposedTime is not the start of a free slot of the client’s calendar' };
  if (at <= now.getTime()) return { ok: false, issue: 'proposedTime is in the past' };
  return { ok: true, value: slot };
}

const LOCALES: Record<string, string> = { en: 'en-GB', de: 'de-DE', fr: 'fr-FR', es: 'es-ES', it: 'it-IT', nl: 'nl-NL' };

/** A slot's start as the reply says it: weekday, date and time in the client's time zone and language. */
export function formatSlotTime(slot: FreeSlot, language: string, timeZone: string): string {
  return new Intl.DateTimeFormat(LOCALES[language] ?? 'en-GB', {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZone,
    timeZoneName: 'short',
  }).format(new Date(slot.start));
}

const REPLY_PREFIX = /^\s*(re|fwd?|aw|wg|sv|vs|tr|rv|antw|ref|r)\s*(\[\d+\])?\s*:\s*/i;
const LINK = /(\b[a-z][a-z0-9+.-]*:\/\/|\bwww\.|\b[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}\/)/i;
const ADDRESS = /[^\s@]+@[^\s@]+\.[^\s@]+/;
/** Dots a mail app or a browser reads as "." in a host name (IDNA maps them). */
const HOST_DOTS = /[\u3002\uff0e\uff61]/g;

/**
 * The original subject as a reply quotes it: reply/forward prefixes, control, invisible and
 * bidirectional-override characters removed, white space collapsed, cut to 100 characters at a word.
 * Refused when nothing is left or it holds a link or an address (the reply must not carry either): a
 * link is also a bare host that mail apps turn into one (`pay-here.com`, link-host.ts), and both are
 * looked for in the text as a reader's app folds it (full-width `＠` and `．`, the ideographic full stop).
 */
export function normaliseOriginalSubject(subject: string): SlotCheck {
  let text = tidy(subject);
  for (let previous = ''; previous !== text; ) {
    previous = text;
    text = text.replace(REPLY_PREFIX, '');
  }
  if (text === '') return { ok: false, issue: 'originalSubject is empty' };
  if (/[{}]/.test(text)) return { ok: false, issue: 'originalSubject holds braces' };
  // Both the subject as received and as cut: a cut inside a word can end it on a suffix
  // (`…pay-here.cozzz` cut to `…pay-here.co…`), making a link the whole subject did not hold.
  const cut = cutAtWord(text);
  for (const candidate of cut === text ? [text] : [text, cut]) {
    const issue = linkOrAddressIssue(candidate);
    if (issue !== null) return { ok: false, issue };
  }
  return { ok: true, value: cut };
}

/** The longest word a quoted subject may hold: as long as the longest address (RFC 5321), longer than any host name. */
export const MAX_SUBJECT_WORD = 254;

function linkOrAddressIssue(text: string): string | null {
  const folded = text.normalize('NFKC').replace(HOST_DOTS, '.');
  // The scans below retry each start of a word to its end: over a word of thousands of characters (the
  // sender's subject is kept to 10 000) that is the square of its length, on every render. No real word
  // is that long, and a link or address in one would be refused anyway.
  if (folded.split(/\s+/).some((word) => word.length > MAX_SUBJECT_WORD)) return 'originalSubject holds an overlong word';
  if (LINK.test(folded) || linkIn(text) !== undefined) return 'originalSubject holds a link';
  if (ADDRESS.test(folded)) return 'originalSubject holds an email address';
  return null;
}

/** The text cut to MAX_SUBJECT_LENGTH characters, at a word where one ends late enough, with an ellipsis. */
function cutAtWord(text: string): string {
  const characters = [...text];
  if (characters.length <= MAX_SUBJECT_LENGTH) return text;
  const cut = characters.slice(0, MAX_SUBJECT_LENGTH - 1).join('');
  const space = cut.lastIndexOf(' ');
  return `${(space > MAX_SUBJECT_LENGTH / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}
