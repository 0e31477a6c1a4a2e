import { FREE_TEXT_AUTO_SEND_RISK, parseClientConfig, type ClientConfig, type ClientConfigInput } from '@agent-fleet/kernel/client-config';
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

export function send(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { kind: 'mail.send', to: ['bob@partner.com'], subject: 'Re: lunch', body: 'Thursday works.', emailType: 'follow_up', ...overrides };
}
