/** The subject of a reply: "Re: " once, never "Re: Re: ". Line breaks are folded away. */
export function replySubject(subject: string): string {
  const flat = subject.replace(/[\r\n]+/g, ' ').trim();
  return /^re\s*:/i.test(flat) ? flat : `Re: ${flat}`;
}
