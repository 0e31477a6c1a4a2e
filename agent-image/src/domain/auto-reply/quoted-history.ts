/**
 * Splits a plain-text email body into the sender's own new text and the history it quotes. The history
 * may hold anyone's words (earlier messages of the thread, other senders), so the drafter is shown it
 * apart, marked as such, and bounded. Heuristics, in order of the first line that matches:
 *   - an attribution line: "On … wrote:" and its translations (Am … schrieb, Le … a écrit, El … escribió,
 *     Il … ha scritto, Op … schreef);
 *   - Outlook's separators: "-----Original Message-----", "________________" followed by "From:", or a
 *     "From: …" line directly followed by "Sent:"/"Date:" (and the usual translations of those headers);
 *   - a run of lines starting with ">" that lasts to the end of the body (inline replies keep their
 *     quotes: the text after them is new).
 * Pure.
 */

export type SplitBody = { text: string; quoted: string };

const ATTRIBUTION = /^\s*(on|am|le|el|il|op)\b.{0,300}\b(wrote|schrieb|a écrit|escribió|ha scritto|schreef)[^\n]{0,200}:\s*$/i;
const ORIGINAL = /^\s*-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|messaggio originale|oorspronkelijk bericht)\s*-{2,}\s*$/i;
const RULE = /^\s*_{10,}\s*$/;
const FROM = /^\s*\*?(from|von|de|da|van)\s*:\*?\s/i;
const SENT = /^\s*\*?(sent|date|gesendet|datum|envoyé|date|enviado|fecha|inviato|data|verzonden)\s*:\*?\s/i;

/** Where the quoted history starts (a line index), or -1. */
function historyStart(lines: readonly string[]): number {
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? '';
    if (ATTRIBUTION.test(line) || ORIGINAL.test(line)) return index;
    if (RULE.test(line) && FROM.test(lines[index + 1] ?? '')) return index;
    if (FROM.test(line) && SENT.test(lines[index + 1] ?? '')) return index;
  }
  // A trailing block of "> " lines (blank lines allowed between them).
  let start = -1;
  for (let index = lines.length - 1; index >= 0; index--) {
    const line = lines[index] ?? '';
    if (/^\s*>/.test(line)) start = index;
    else if (line.trim() !== '') break;
  }
  return start;
}

/** The body split at the start of its quoted history; `quoted` is '' when it quotes nothing. */
export function splitQuotedHistory(body: string): SplitBody {
  const lines = body.replace(/\r\n?/g, '\n').split('\n');
  const start = historyStart(lines);
  if (start <= 0) return start === 0 ? { text: '', quoted: lines.join('\n').trim() } : { text: body.trim(), quoted: '' };
  return { text: lines.slice(0, start).join('\n').trim(), quoted: lines.slice(start).join('\n').trim() };
}

/** Text cut to at most `max` characters, saying so. */
export function bounded(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max).replace(/[\ud800-\udbff]$/, '');
  return `${cut}\n[… ${text.length - cut.length} more characters not shown]`;
}
