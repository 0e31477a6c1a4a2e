import { FREE_TEXT_AUTO_SEND_RISK, parseClientConfig, type ClientConfig, type ClientConfigInput } from '@agent-fleet/kernel/client-config';
import { approve, createApproval } from '../../../agent-image/src/domain/approval.ts';
import type { PolicyDecision } from '../../../agent-image/src/domain/policy/decision.ts';
import { evaluatePolicy, type EvaluateOptions } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import { emptyPolicyState, learnContacts, type PolicyState } from '../../../agent-image/src/domain/policy/policy-state.ts';

export const NOW = new Date('2025-06-02T10:00:00Z');

/** The explicit opt-in of the three default auto-send types to free-text auto-send. */
export const FREE_TEXT_OPT_IN: NonNullable<ClientConfigInput['autoReply']> = {
  freeTextAutoSend: (['acknowledgement', 'scheduling_confirmation', 'follow_up'] as const).map((type) => ({
    type,
    acceptedRisk: FREE_TEXT_AUTO_SEND_RISK,
    acceptedBy: 'owner@acme.com',
    acceptedAt: '2025-01-02T00:00:00Z',
  })),
};

/**
 * A post-onboarding client that may do everything, free-text auto-send included (so the rules before
 * the template rule can be tested alone); tests take away what they test.
 */
export function config(overrides: Partial<ClientConfigInput> = {}): ClientConfig {
  const result = parseClientConfig({
    client: 'acme',
    mailbox: 'owner@acme.com',
    permissions: {
      'mail.read': true, 'mail.draft': true, 'mail.send': true, 'mail.label': true, 'mail.delete': true, 'mail.move': true,
      'calendar.read': true, 'calendar.write': true, 'files.read': true, 'files.write': true, 'files.share': true,
      'files.delete': true, 'crm.read': true, 'crm.write': true,
    },
    onboarding: { startedAt: '2025-01-01T00:00:00Z', days: 28 },
    knownContacts: ['bob@partner.com', 'carol@partner.com'],
    autoReply: FREE_TEXT_OPT_IN,
    ...overrides,
  });
  if (!result.ok) throw new Error(result.issues.join('\n'));
  return result.config;
}

export function state(overrides: Partial<PolicyState> = {}): PolicyState {
  return { ...learnContacts(emptyPolicyState(), ['dave@client.org']), ...overrides };
}

/** The provider id of the message the fixture's sends answer. */
export const ANSWERED = 'm-answered';

/** A reply to the message ANSWERED (`inReplyTo: undefined` makes it a new message). */
export function send(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { kind: 'mail.send', to: ['bob@partner.com'], subject: 'Re: lunch', body: 'Thursday works.', emailType: 'follow_up', inReplyTo: ANSWERED, ...overrides };
}

/**
 * What the runtime tells the gate of the message `messageId` (ANSWERED unless given) from `sender` that a
 * send answers: authenticated, no injection signal.
 */
export function answering(sender: string, messageId: string = ANSWERED): EvaluateOptions {
  return { autoSend: { inbound: { messageId, senderAddress: sender, senderAuthenticated: true, injectionSignals: [] } } };
}

/**
 * The options under which a send input is decided as the reply to a clean message from its first To
 * recipient, the message it names in `inReplyTo` (only a reply auto-sends); none for any other input.
 */
export function asReply(input: unknown): EvaluateOptions {
  if (typeof input !== 'object' || input === null || (input as { kind?: unknown }).kind !== 'mail.send') return {};
  const to = (input as { to?: unknown }).to;
  const first: unknown = Array.isArray(to) ? to[0] : to;
  const answered = (input as { inReplyTo?: unknown }).inReplyTo;
  return typeof first === 'string' ? answering(first, typeof answered === 'string' ? answered : ANSWERED) : {};
}

/** The options of an action run under an approval a human granted at NOW for exactly this input, held for `reasons`. */
export function approvedFor(input: unknown, reasons: readonly string[] = []): EvaluateOptions {
  const parsed = parseProposedAction(input);
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  const created = createApproval({ id: 'ap-fixture', actionKind: parsed.action.kind, arguments: parsed.action, policyReasons: reasons, now: NOW, timeoutHours: 72 });
  if (!created.ok) throw new Error(created.error);
  const approved = approve(created.record, { by: 'owner@acme.com', via: 'portal', now: NOW });
  if (!approved.ok) throw new Error(approved.error);
  return { approval: approved.record };
}

/** An invitation to a new event with bob@partner.com whose description, the text the attendees read, is `description`. */
export function inviteWith(description: string): Record<string, unknown> {
  return {
    kind: 'calendar.write',
    operation: 'create',
    title: 'Quarterly review',
    start: '2025-06-02T16:00:00Z',
    participants: ['bob@partner.com'],
    description,
  };
}

/** The decision on an invitation with `description` under the default config and an empty state, at NOW. */
export function decideInvite(description: string): PolicyDecision {
  return evaluatePolicy(inviteWith(description), config(), state(), NOW);
}
