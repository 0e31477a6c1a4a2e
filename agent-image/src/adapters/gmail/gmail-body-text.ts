import type { Attachment, ParsedMail } from 'mailparser';
import { saysMoreThan } from '../../domain/auto-reply/alternative-text.ts';
import { htmlFallbackText } from '../../domain/auto-reply/html-text.ts';
import { enrichedText } from './enriched-text.ts';

/**
 * The most HTML, in characters, a message may have converted to text (html-to-text inside mailparser,
 * about a second of synchronous work per megabyte, blocking the whole agent). The limit is on the
 * message's HTML as a whole: a per-part one would still let a sender convert forty parts just under it.
 * A message with more is read with its HTML's markup removed (htmlFallbackText, linear), and said to be so.
 */
export const MAX_HTML_TO_CONVERT = 256 * 1024;

/** A MIME parser with simpleParser's signature: injected so a test can count the parses. */
export type MimeParser = (raw: Buffer, options: { skipImageLinks: true; skipTextToHtml: true; maxHtmlLengthToParse: number }) => Promise<ParsedMail>;

/**
 * The message parse: mailparser is asked to convert no HTML (a limit of 0 characters), so the one parse
 * of a message, whatever its attachments, costs no conversion, and `textConversionError` says whether
 * it had HTML it would have converted (HTML with no text alternative). That HTML is then converted here,
 * bounded by MAX_HTML_TO_CONVERT in total.
 */
export const MESSAGE_PARSE = { skipImageLinks: true, skipTextToHtml: true, maxHtmlLengthToParse: 0 } as const;

/** The converter's own parse, of the message's HTML alone (at most MAX_HTML_TO_CONVERT characters). */
const HTML_PARSE = { skipImageLinks: true, skipTextToHtml: true, maxHtmlLengthToParse: MAX_HTML_TO_CONVERT } as const;

/**
 * The HTML as text by mailparser's own converter (its nesting-depth guard and link format included),
 * fed as a one-part message; the error when it cannot convert it.
 */
async function convertedHtml(html: string, parse: MimeParser): Promise<{ text: string } | { error: Error }> {
  const single = Buffer.concat([Buffer.from('Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'), Buffer.from(html, 'utf8')]);
  const parsed = await parse(single, HTML_PARSE);
  if (parsed.textConversionError !== undefined) return { error: parsed.textConversionError };
  return { text: parsed.text ?? '' };
}

/**
 * The message's text with its HTML's text where mailparser would have read it: HTML beside no text
 * alternative (the only body, or a part of a multipart/mixed), or any HTML when the text parts are
 * blank. HTML over MAX_HTML_TO_CONVERT in total, or that the converter refuses, is left for
 * htmlFallbackText, marked by `textConversionError`. HTML beside a text alternative is what a mail app
 * shows: when it says more than the text (alternative-text.ts), its text is added, said to be so.
 */
export async function withHtmlText(mail: ParsedMail, parse: MimeParser): Promise<ParsedMail> {
  const { textConversionError, ...rest } = mail;
  const text = mail.text ?? '';
  const html = typeof mail.html === 'string' ? mail.html : '';
  if (html.trim() === '') return rest;
  if (textConversionError === undefined && text.trim() !== '') return withShownAlternative(rest, text, html, parse);
  if (html.length > MAX_HTML_TO_CONVERT) {
    return { ...rest, textConversionError: new Error(`the message has ${html.length} characters of HTML, more than the ${MAX_HTML_TO_CONVERT} converted`) };
  }
  const converted = await convertedHtml(html, parse);
  if ('error' in converted) return { ...rest, textConversionError: converted.error };
  return { ...rest, text: text.trim() === '' ? converted.text : `${text}\n${converted.text}` };
}

/**
 * A message whose HTML has a text alternative, with the HTML's text added when it says more than the
 * text does. The HTML is converted within the same MAX_HTML_TO_CONVERT; past it, or when the converter
 * refuses it, its text is read with the markup removed (htmlFallbackText, linear).
 */
async function withShownAlternative(mail: ParsedMail, text: string, html: string, parse: MimeParser): Promise<ParsedMail> {
  const converted = html.length > MAX_HTML_TO_CONVERT ? null : await convertedHtml(html, parse);
  const shown = converted !== null && 'text' in converted ? converted.text : htmlFallbackText(html);
  if (!saysMoreThan(shown, text)) return mail;
  return { ...mail, text: `${text}\n\n[The HTML version of this message, which a mail app shows, says more than its text version; its text follows.]\n${shown}` };
}

/** A part's charset parameter, if it names one TextDecoder knows; else UTF-8 (bytes it cannot read become U+FFFD). */
function decoded(attachment: Attachment): string {
  const type = attachment.headers.get('content-type');
  const charset = typeof type === 'object' && type !== null && 'params' in type ? (type.params as Record<string, string>)['charset'] : undefined;
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(attachment.content);
  } catch {
    return new TextDecoder('utf-8').decode(attachment.content);
  }
}

/** The root Content-Type of a message, lower-cased, without parameters. */
function rootType(mail: ParsedMail): string {
  const type = mail.headers.get('content-type');
  return typeof type === 'object' && type !== null && 'value' in type && typeof type.value === 'string' ? type.value.toLowerCase() : 'text/plain';
}

/**
 * Bodies mailparser keeps as attachments though a mail app shows them as the message: text/enriched
 * parts that are not attached files, and a message whose whole body is another message
 * (message/rfc822, its text read by `innerText`). Without them the agent, the injection scan and the
 * reviewer would read an empty message while the client reads its words.
 */
export async function shownAttachmentText(mail: ParsedMail, innerText: (raw: Buffer) => Promise<string>): Promise<string[]> {
  const texts: string[] = [];
  for (const attachment of mail.attachments) {
    if (attachment.contentType === 'text/enriched' && attachment.contentDisposition !== 'attachment') {
      const text = enrichedText(decoded(attachment));
      if (text !== '') texts.push(text);
    }
  }
  if (rootType(mail) === 'message/rfc822') {
    const inner = mail.attachments.find((attachment) => attachment.contentType === 'message/rfc822');
    if (inner !== undefined) texts.push(`[The body of this message is another message; its text follows.]\n${await innerText(inner.content)}`);
  }
  return texts;
}
