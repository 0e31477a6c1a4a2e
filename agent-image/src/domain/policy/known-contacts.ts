import { normaliseAddress } from '@agent-fleet/kernel/email-address';
import { withAsciiDomain } from './ascii-domain.ts';

/**
 * Who the client has corresponded with. Receiving mail is not correspondence: a phishing sender or a
 * newsletter must not become "known" by writing first. Only people the client wrote to, met (calendar
 * participants) or shared their own files with count. An address at a domain spelt in another script
 * (`kim@bücher.example`) counts as the ASCII form mail reaches (`kim@xn--bcher-kva.example`), the form the
 * gate compares recipients in.
 */
export type Correspondence = {
  /** Messages the client sent. */
  sentMessages?: Iterable<{ to?: readonly string[]; cc?: readonly string[]; bcc?: readonly string[] }>;
  /** Calendar events on the client's calendar. */
  events?: Iterable<{ participants?: readonly string[] }>;
  /** Files the client owns, with the people they are shared with. */
  ownedFiles?: Iterable<{ sharedWith?: readonly string[] }>;
};

export type DerivedContacts = { contacts: string[]; invalid: number };

/** Known contacts derived from the client's own correspondence (the owner's address excluded). */
export function contactsFromCorrespondence(owner: string, data: Correspondence): DerivedContacts {
  const canonical = (raw: string): string | undefined => normaliseAddress(raw) ?? normaliseAddress(withAsciiDomain(raw));
  const self = canonical(owner);
  const contacts = new Set<string>();
  let invalid = 0;
  const add = (raw: string): void => {
    const address = canonical(raw);
    if (address === undefined) invalid++;
    else if (address !== self) contacts.add(address);
  };
  for (const message of data.sentMessages ?? []) {
    for (const raw of [...(message.to ?? []), ...(message.cc ?? []), ...(message.bcc ?? [])]) add(raw);
  }
  for (const event of data.events ?? []) for (const raw of event.participants ?? []) add(raw);
  for (const file of data.ownedFiles ?? []) for (const raw of file.sharedWith ?? []) add(raw);
  return { contacts: [...contacts].sort(), invalid };
}

/** The domains of a set of normalised addresses. */
export function domainsOf(addresses: Iterable<string>): Set<string> {
  const domains = new Set<string>();
  for (const address of addresses) domains.add(address.slice(address.lastIndexOf('@') + 1));
  return domains;
}
