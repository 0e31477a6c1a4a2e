import { visibleText } from './bullhorn-visible-text.ts';

/**
 * Text from mail (a subject, the agent's summary of an email) made safe for a Bullhorn Note's `comments`,
 * which Bullhorn stores and shows as HTML: markup in a crafted subject would otherwise become live HTML
 * (a script, a tracking image, a fake link) in every recruiter's view of the record. Characters HTML
 * gives a meaning are escaped, and characters that hide or reorder text are dropped. Pure.
 */
export function noteHtmlText(text: string): string {
  return visibleText(text).replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
