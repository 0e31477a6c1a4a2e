/**
 * The HTML frame of the agent's mail to the client's admins (summaries, digests, approval and portal
 * notices): one column at most 600 px wide, system fonts, inline styles only (mail clients drop <style>
 * and external sheets), large tap targets and colours with at least 4.5:1 contrast. Text passed in as
 * text (a string or `Inline` pieces) is escaped here, its untrusted pieces isolated (inline-text.ts);
 * `content` and list items are HTML the caller escaped; URLs are escaped here.
 */
import { escapeHtml, inlineHtml, inlineText, type Inline } from './inline-text.ts';

export { escapeHtml };

const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
export const INK = '#1f2933';
export const MUTED = '#52606d';
const ACCENT = '#0b5cad';

/** A whole HTML document around `content` (already HTML). `preheader` is the inbox preview line. */
export function emailDocument(input: { title: string | readonly Inline[]; preheader: string; content: string; footer: string | readonly Inline[] }): string {
  const e = escapeHtml;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light">',
    `<title>${e(inlineText(input.title))}</title></head>`,
    `<body style="margin:0;padding:0;background:#f3f4f6;color:${INK};font-family:${FONT};font-size:16px;line-height:1.5;">`,
    `<div style="display:none;max-height:0;overflow:hidden;">${e(input.preheader)}</div>`,
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f3f4f6;"><tr><td align="center" style="padding:16px 8px;">',
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:600px;background:#ffffff;border-radius:8px;border:1px solid #d9dde3;">',
    `<tr><td style="padding:20px 20px 8px 20px;"><h1 style="margin:0;font-size:22px;line-height:1.3;color:${INK};">${inlineHtml(input.title)}</h1></td></tr>`,
    `<tr><td style="padding:8px 20px 20px 20px;">${input.content}</td></tr>`,
    '</table>',
    `<p style="max-width:600px;margin:12px auto 0 auto;font-size:13px;color:${MUTED};">${inlineHtml(input.footer)}</p>`,
    '</td></tr></table>',
    '</body></html>',
  ].join('\n');
}

/** A tappable button (at least 44 px high) linking to `url`. */
export function button(url: string, label: string): string {
  return `<p style="margin:16px 0;"><a href="${escapeHtml(url)}" style="display:inline-block;padding:12px 20px;min-height:20px;background:${ACCENT};color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600;">${escapeHtml(label)}</a></p>`;
}

/** A section heading. */
export function heading(text: string): string {
  return `<h2 style="margin:24px 0 8px 0;font-size:18px;line-height:1.3;color:${INK};">${escapeHtml(text)}</h2>`;
}

/** A paragraph of plain text. */
export function paragraph(text: string | readonly Inline[], muted = false): string {
  return `<p style="margin:0 0 12px 0;${muted ? `color:${MUTED};font-size:14px;` : ''}">${inlineHtml(text)}</p>`;
}

/** Label/value rows as a two-column table that stays readable on a phone. */
export function factTable(rows: ReadonlyArray<readonly [string, string | readonly Inline[]]>): string {
  const cells = rows
    .map(
      ([label, value]) =>
        `<tr><th align="left" scope="row" style="padding:6px 12px 6px 0;font-weight:600;vertical-align:top;border-bottom:1px solid #e5e7eb;">${escapeHtml(label)}</th><td style="padding:6px 0;vertical-align:top;border-bottom:1px solid #e5e7eb;word-break:break-word;">${inlineHtml(value)}</td></tr>`,
    )
    .join('');
  return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;font-size:15px;">${cells}</table>`;
}

/** A list of items, each already HTML. */
export function itemList(items: readonly string[]): string {
  return `<ul style="margin:0 0 12px 0;padding-left:20px;">${items.map((item) => `<li style="margin:0 0 10px 0;">${item}</li>`).join('')}</ul>`;
}

/** A link in running text. */
export function link(url: string, label: string): string {
  return `<a href="${escapeHtml(url)}" style="color:${ACCENT};">${escapeHtml(label)}</a>`;
}
