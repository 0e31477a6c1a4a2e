/**
 * Text as a reader sees it. Controls and default-ignorable code points (zero-width characters, bidi
 * controls, variation selectors, tag characters, fillers) show nothing, or reorder what is shown, yet a
 * model or a decoder reads them: tag characters spell a whole hidden text ("ASCII smuggling"), so a
 * message an approver reads as harmless could carry data or instructions to its recipient. Pure.
 */

const HIDDEN_IN_LINE = /[\p{Cc}\p{Default_Ignorable_Code_Point}]/gu;

/**
 * Letters of the scripts whose spelling needs a zero-width non-joiner or joiner between two letters
 * (Persian `می‌خواهم`, Urdu, Indic conjuncts): a body in them keeps one there. A mark that is itself
 * hidden (U+034F) does not count as part of the letter.
 */
const JOINING_LETTER = String.raw`[\p{Script=Arabic}\p{Script=Syriac}\p{Script=Nko}\p{Script=Mongolian}\p{Script=Devanagari}\p{Script=Bengali}\p{Script=Gurmukhi}\p{Script=Gujarati}\p{Script=Oriya}\p{Script=Tamil}\p{Script=Telugu}\p{Script=Kannada}\p{Script=Malayalam}\p{Script=Sinhala}][\p{M}--\p{Default_Ignorable_Code_Point}]*`;
/** An emoji, with its presentation selector or skin tone, that a joiner may join to the next (👩‍💻). */
const EMOJI = String.raw`\p{Extended_Pictographic}[\u{FE0F}\u{1F3FB}-\u{1F3FF}]?`;

/**
 * In a body: a joiner between two letters of a joining script, an emoji's presentation selector or its
 * joiner to the next emoji (kept, group `kept`); else any hidden character but a tab or line break.
 */
const HIDDEN_IN_BODY = new RegExp(
  String.raw`(?<kept>${JOINING_LETTER}[\u200C\u200D](?=${JOINING_LETTER})|${EMOJI}(?:\u200D(?=\p{Extended_Pictographic}))?)|[\p{Default_Ignorable_Code_Point}]|[\p{Cc}--[\t\n]]`,
  'gv',
);

/** One line of text without a hidden character (line breaks and tabs included). */
export function withoutHiddenCharacters(text: string): string {
  return text.replace(HIDDEN_IN_LINE, '');
}

/**
 * A message body without a hidden character: line ends become LF; line breaks and tabs are kept, and so
 * are the joiners a script's spelling or an emoji sequence needs (one between two letters or emoji).
 */
export function visibleBody(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(HIDDEN_IN_BODY, (...args: unknown[]) => {
    const groups = args.at(-1) as { kept?: string };
    return groups.kept ?? '';
  });
}
