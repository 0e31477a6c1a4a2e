import { foreignLinkIn } from './link-host.ts';
import { unknownAddressIn } from './sent-text-content.ts';

/**
 * What free text the client opted in to auto-send (autoReply.freeTextAutoSend) must still not carry. The
 * opt-in accepts that a message's sender can steer the reply the model writes back to them; it does not
 * accept text that turns the client's correspondent towards someone else: the address of a person the
 * client never wrote to ("send the payments to billing@pay-desk.example from now on"), or a link to a
 * site neither the client nor the people written to own ("sign the contract at docs-sign.example"). Text
 * no reader sees (Unicode tag characters: a sentence for the recipient's own assistant) holds every send,
 * free text or not (written-invisible-text.ts). A link under the client's own domain or a recipient's is
 * what a reply ordinarily carries and stays (`linkDomains`: those registrable names, link-host.ts). The
 * subject and the links the send declares are read as the body is. A mail's text is sent as plain text,
 * so HTML hides nothing in it. Pure.
 */
export function freeTextContentIssues(
  message: { subject: string; body: string; links: readonly string[] },
  isKnown: (address: string) => boolean,
  linkDomains: ReadonlySet<string>,
): string[] {
  const issues: string[] = [];
  for (const [part, text] of [['subject', message.subject], ['body', message.body]] as const) {
    if (unknownAddressIn(text, isKnown) !== undefined) issues.push(`the ${part} carries the address of someone the client does not know`);
  }
  for (const [part, text] of [['subject', message.subject], ['body', message.body], ['links', message.links.join('\n')]] as const) {
    // The detail names the part, not the link: details never carry message content (decision.ts).
    if (foreignLinkIn(text, linkDomains) !== undefined) issues.push(`the ${part} links outside the client's and the recipients' domains`);
  }
  return issues;
}
