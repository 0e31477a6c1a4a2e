import { foldAddressCase } from '@agent-fleet/kernel/email-address';
import type { AutoReplyHeaders, MailMessage } from '../../ports/mail-provider.ts';

/**
 * Why a message gets no automatic reply at all; null when it may be answered. Every reason but
 * `own_address_unverified` skips the message (machine, list or own mail); that one goes to a human.
 */
export type NoReplyReason =
  | 'auto_submitted'
  | 'auto_reply_header'
  | 'null_return_path'
  | 'system_sender'
  | 'mailing_list'
  | 'bulk_precedence'
  | 'own_mail'
  | 'own_address_unverified'
  | 'no_sender';

/** Reasons whose message a human reviews instead of it being skipped: it is not answered either way. */
export const REVIEWED_NO_REPLY_REASONS: ReadonlySet<NoReplyReason> = new Set(['own_address_unverified']);

/**
 * What proves that a message in the inbox is the mailbox's own. A header the sender writes (our
 * idempotency header, a From address) proves nothing alone: anyone can write it.
 */
export interface OwnMailProof {
  /**
   * The label the provider puts only on mail the mailbox itself sent (Gmail's system label `SENT`,
   * which no sender can set); null where the provider has none on inbox mail (Graph: categories can
   * come from the sender's `Keywords` header).
   */
  sentLabel: string | null;
  /**
   * Whether the agent's own outbox holds a send under this idempotency key that went to the mailbox
   * itself. Any send's key is no proof: it rides in a header to every recipient.
   */
  knowsKey: (key: string) => boolean;
}

/** Without a provider's sent mark, From the mailbox's own address is its own mail (the Graph rule). */
const NO_PROOF: OwnMailProof = { sentLabel: null, knowsKey: () => false };

/** Precedence values that mark bulk or list mail, and the one (RFC 3834's predecessor) that marks an auto-reply. */
const BULK_PRECEDENCE: ReadonlySet<string> = new Set(['bulk', 'list', 'junk']);
const AUTO_REPLY_PRECEDENCE = 'auto_reply';

/**
 * RFC 3834 and common practice: never answer machine-generated mail, mailing lists, bulk mail, system
 * addresses or our own mail (which would loop). Decided on headers only, before any model sees the
 * message. An auto-responder that marks nothing at all still gets no more than a few automatic answers
 * (the gate's reply-loop limits).
 *
 * Own mail is what the mailbox sent: the provider's sent mark (`proof.sentLabel`), or From one of
 * `ownAddresses` with, where the provider has a sent mark, an idempotency key the agent's outbox knows.
 * From an own address with neither is `own_address_unverified` (a forged From, or a device sending in
 * the client's name): never answered, reviewed by a human. Our idempotency header alone is not own mail:
 * another agent-fleet client's mail carries one, and so can anyone's.
 */
export function noReplyReason(message: MailMessage, ownAddresses: ReadonlySet<string>, proof: OwnMailProof = NO_PROOF): NoReplyReason | null {
  if (proof.sentLabel !== null && message.labels.includes(proof.sentLabel)) return 'own_mail';
  const sender = message.from === null ? undefined : foldAddressCase(message.from.address);
  if (sender === undefined || sender === '') return 'no_sender';
  if (ownAddresses.has(sender)) {
    const key = message.idempotencyKey?.trim() ?? '';
    return proof.sentLabel === null || (key !== '' && proof.knowsKey(key)) ? 'own_mail' : 'own_address_unverified';
  }
  const autoSubmitted = headerToken(message.autoSubmitted);
  if (autoSubmitted !== '' && autoSubmitted !== 'no') return 'auto_submitted';
  const headers = message.autoReplyHeaders;
  if (isNullReversePath(headers['return-path'])) return 'null_return_path';
  if (isSystemAddress(sender) || isSystemAddress(angleAddress(headers['return-path']))) return 'system_sender';
  const precedence = [message.precedence, headers['x-precedence']].map(headerToken);
  if (precedence.includes(AUTO_REPLY_PRECEDENCE) || autoReplyHeader(headers)) return 'auto_reply_header';
  // RFC 3834 §2: any List-* header (List-Unsubscribe without a List-Id is how most newsletters come).
  if ((message.listId !== null && message.listId.trim() !== '') || hasListHeader(headers)) return 'mailing_list';
  if (precedence.some((value) => BULK_PRECEDENCE.has(value))) return 'bulk_precedence';
  return null;
}

function hasListHeader(headers: Readonly<Record<string, string>>): boolean {
  return Object.entries(headers).some(([name, value]) => name.toLowerCase().startsWith('list-') && value.trim() !== '');
}

/**
 * The keyword of a structured header, lower-cased: `auto-submitted = "no" *(";" parameter)` with
 * comments and folding white space anywhere (RFC 3834 §5, RFC 5322 CFWS), so `No (a person); x=1` is
 * `no`. '' when absent.
 */
function headerToken(value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  return withoutComments(value).split(';')[0]!.trim().toLowerCase();
}

/** RFC 5322 comments removed (nested ones too, bounded by the text's length). */
function withoutComments(value: string): string {
  let out = '';
  let depth = 0;
  for (const char of value) {
    if (char === '(') depth++;
    else if (char === ')' && depth > 0) depth--;
    else if (depth === 0) out += char;
  }
  return out;
}

/**
 * `Return-Path: <>`: the null reverse path of bounces and of RFC 3834 automatic responses; also qmail's
 * `<#@[]>`, its spelling of it.
 */
function isNullReversePath(value: string | undefined): boolean {
  return value !== undefined && /^<\s*(#@\[\])?\s*>$/.test(withoutComments(value).trim());
}

/** The address of a `<local@domain>` header value (Return-Path); '' when it has none. */
function angleAddress(value: string | undefined): string {
  if (value === undefined) return '';
  const match = /<([^<>]*)>/.exec(value);
  return (match?.[1] ?? value).trim().toLowerCase();
}

/**
 * Addresses no person reads, which must never get an automatic answer (RFC 5230 §4.6, RFC 3834 §2):
 * MAILER-DAEMON and postmaster (bounces and delivery reports), the list managers LISTSERV and
 * majordomo, list owners (`owner-*`) and list requests (`*-request`), and Exchange's system
 * mailbox (`MicrosoftExchange<guid>`, the sender of Outlook's delivery reports). By local part.
 */
export function isSystemAddress(address: string): boolean {
  const at = address.lastIndexOf('@');
  const local = (at < 0 ? address : address.slice(0, at)).trim().toLowerCase().replace(/^"|"$/g, '');
  if (local === '') return false;
  return (
    local === 'mailer-daemon' ||
    local === 'postmaster' ||
    local === 'listserv' ||
    local === 'majordomo' ||
    local.startsWith('owner-') ||
    local.endsWith('-request') ||
    /^microsoftexchange[0-9a-f]{32}$/.test(local)
  );
}

/** The pre-RFC 3834 auto-responder headers; "no" or "false" (or empty) says the message is not one. */
function autoReplyHeader(headers: AutoReplyHeaders): boolean {
  const says = (value: string | undefined) => value !== undefined && !['', 'no', 'false', '0'].includes(headerToken(value));
  return (
    says(headers['x-autoreply']) ||
    says(headers['x-autorespond']) ||
    says(headers['x-autoreply-from']) ||
    says(headers['x-mail-autoreply']) ||
    says(headers['x-autogenerated']) ||
    says(headers['x-fc-machinegenerated'])
  );
}
