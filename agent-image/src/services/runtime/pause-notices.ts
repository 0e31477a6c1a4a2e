import { quoteFromMail } from '../daily-summary/mail-quote.ts';
import type { PauseReason } from './agent-state-store.ts';

/** How much of a provider's refusal an alert quotes, in characters. */
const DETAIL_CHARS = 300;

/** The alert a pause sends to the client's admins. */
export interface PauseNotice {
  subject: string;
  text: string;
}

/**
 * What an auth pause is about: the mailbox or the model refused the credentials, or the mailbox grant
 * works but opens another mailbox than the config's `mailbox:`.
 */
export type PauseCause = 'mailbox' | 'model' | 'other-mailbox';

/** The admins' alert for a pause (pure): what stopped, why, and how an operator resumes it. */
export function pauseNotice(
  reason: PauseReason,
  input: { client: string; detail: string; rateLimits: { perHour: number; perDay: number }; refusedBy?: PauseCause },
): PauseNotice {
  // The refusal's words are a remote service's (an error body, perhaps a proxy's page): one bounded line,
  // links inert, so that they cannot add lines or links of their own to mail the admins trust.
  const detail = quoteFromMail(input.detail, DETAIL_CHARS);
  if (reason === 'auth' && input.refusedBy === 'other-mailbox') {
    return {
      subject: 'Your AI assistant is connected to another mailbox than its own and is paused',
      text: `The mailbox account the assistant was given is not the one it is set up for (${detail}). Nothing is read, drafted or sent until an admin connects the right mailbox again and an operator resumes: fleet resume ${input.client}\n`,
    };
  }
  if (reason === 'auth' && input.refusedBy === 'model') {
    return {
      subject: 'Your AI assistant lost access to its language model and is paused',
      text: `The language model service refused the assistant's API key (${detail}). Nothing is sent or read until an operator fixes the model's key or settings and resumes: fleet resume ${input.client}\n`,
    };
  }
  if (reason === 'auth') {
    return {
      subject: 'Your AI assistant lost access to the mailbox and is paused',
      text: `The mailbox refused the assistant's credentials (${detail}). Nothing is sent or read until an operator reconnects the mailbox and resumes: fleet resume ${input.client}\n`,
    };
  }
  return {
    subject: 'Your AI assistant reached its sending limit and paused sending',
    text: `The assistant reached the configured limit of recipients (${input.rateLimits.perHour} per hour, ${input.rateLimits.perDay} per day). Pending emails wait; sending resumes when the window has room again or on: fleet resume ${input.client}\n`,
  };
}

/** The admins' alert when the day's model budget is spent (pure): what waits, until when, and how to raise it. */
export function modelBudgetNotice(input: { client: string; limitUsd: number; day: string; timezone: string }): PauseNotice {
  return {
    subject: 'Your AI assistant reached its daily language-model budget',
    text: `The assistant used its language-model budget for ${input.day} (${input.limitUsd} US dollars a day). New email waits, unread by the model, and nothing is lost: it is worked through from midnight (${input.timezone}), or sooner if an operator raises modelDailyBudgetUsd in the settings of ${input.client} (fleet config set).\n`,
  };
}
