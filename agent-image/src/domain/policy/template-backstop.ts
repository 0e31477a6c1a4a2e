import { linkIn } from './link-host.ts';

/**
 * The gate's own check of a template reply's text, behind the slot validators: what the gate rendered
 * may carry a link, an email address or a hidden character only where the client's own template text
 * (its body and signature) carries it. The validators should keep slots clear of all three; this holds
 * the send should one of them let something through (a slot value that only becomes a link once cut or
 * beside the template's text), so no unreviewed mail in the client's name carries a link or address the
 * client did not write. Compared word by word (runs between white space): a word of the reply that is a
 * word of the template text is the client's; every other word holds slot text and is checked. Pure.
 */

const PLACEHOLDER = /\{\{\s*[A-Za-z]+\s*\}\}/g;
const ADDRESS = /[^\s@]+@[^\s@]+\.[^\s@]+/;
/** Dots a mail app or a browser reads as "." in a host name (IDNA maps them). */
const HOST_DOTS = /[\u3002\uff0e\uff61]/g;
/** Characters that show nothing, or reorder what is shown, yet a decoder reads (visible-text.ts); tab and line ends aside. */
const HIDDEN = /[[\p{Default_Ignorable_Code_Point}\p{Cc}]--[\t\n\r]]/gv;
/** The reply prefix replySubject puts before a subject: the client's text, not a slot's. */
const SUBJECT_PREFIX = 'Re:';

export type TemplateText = {
  /** The client's template, placeholders included. */
  templateBody: string;
  /** The client's signature. */
  signature: string;
};

function words(text: string): string[] {
  return text.split(/\s+/u).filter((word) => word !== '');
}

/** Why the rendered reply carries something its template text does not; empty when it carries nothing such. */
export function slotContentIssues(rendered: { subject: string; body: string }, own: TemplateText): string[] {
  const ownText = `${own.templateBody.replace(PLACEHOLDER, ' ')}\n${own.signature}\n${SUBJECT_PREFIX}`;
  const ownWords = new Set(words(ownText));
  // A template may hold a link with a slot inside it (`https://book.acme.com/{{correspondentName}}`): its
  // link stays the client's whatever the slot adds to its path.
  const ownLinks = new Set([...ownWords, ownText].map(linkIn).filter((link) => link !== undefined));
  const ownHidden = new Set(ownText.match(HIDDEN) ?? []);
  const isNewLink = (text: string): boolean => {
    const link = linkIn(text);
    return link !== undefined && !ownLinks.has(link);
  };
  const issues: string[] = [];
  for (const [part, text] of [['subject', rendered.subject], ['body', rendered.body]] as const) {
    const slotWords = words(text).filter((word) => !ownWords.has(word));
    // Word by word for hosts, and all together for what spans words (`<a href=…>`).
    if (slotWords.some(isNewLink) || isNewLink(slotWords.join(' '))) issues.push(`the rendered ${part} carries a link its template does not`);
    if (slotWords.some((word) => ADDRESS.test(word.normalize('NFKC').replace(HOST_DOTS, '.')))) {
      issues.push(`the rendered ${part} carries an email address its template does not`);
    }
    if ((text.match(HIDDEN) ?? []).some((character) => !ownHidden.has(character))) issues.push(`the rendered ${part} carries a hidden character its template does not`);
  }
  return issues;
}
