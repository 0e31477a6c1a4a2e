/**
 * An event title as the calendar adapters write it: one line, trimmed; and so what the provider reads
 * back. Comparing a proposed title through this tells whether an update already applied it. Pure.
 */
export function eventTitle(title: string): string {
  return title.replace(/[\r\n]+/g, ' ').trim();
}
