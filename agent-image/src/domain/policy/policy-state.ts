import * as z from 'zod';
import { domainOf, normaliseAddress } from '@agent-fleet/kernel/email-address';

/**
 * The agent's policy state: what the gate needs beyond the config. Persisted by the runtime in the
 * client's volume; updated only through the pure helpers below, each returning a new state.
 */
export type SendRecord = {
  /** When the send executed, epoch milliseconds. */
  at: number;
  /** How many recipients it reached (to + cc + bcc, participants, share targets). */
  recipients: number;
};

/** A send that went out on the gate's decision alone (no human approved it), for the reply-loop limits. */
export type AutoSendRecord = {
  /** When the send executed, epoch milliseconds. */
  at: number;
  /** Its recipients, normalised addresses. */
  recipients: readonly string[];
  /** Provider thread of the message it answered, when it answered one whose thread is known. */
  thread?: string;
  /** When the message it answered arrived (provider time, epoch milliseconds), when known. */
  answeredAt?: number;
};

/** How an executed send is recorded: sent on its own (`automatic`, with the thread and arrival of what it answered) or approved. */
export type SendKind = { automatic: boolean; thread?: string | undefined; answeredAt?: number | undefined };

export type PolicyState = {
  /** The kill switch, persisted: once set, nothing runs until the orchestrator clears it. */
  readonly killed: boolean;
  /** Sending paused (rate limit hit, auth failure); cleared by `fleet resume` or the next window. */
  readonly paused: boolean;
  /** Addresses the client has corresponded with, learnt from sent mail and the calendar. */
  readonly knownContacts: ReadonlySet<string>;
  /** Domains of the known contacts (kept with them, for the new-domain metric). */
  readonly knownDomains: ReadonlySet<string>;
  /** Executed outbound actions, oldest first; only the last 24 hours matter. */
  readonly sendHistory: readonly SendRecord[];
  /** Executed sends no human approved, oldest first; only the last 24 hours matter (auto-send-limits.ts). */
  readonly autoSendHistory: readonly AutoSendRecord[];
};

const DAY_MS = 24 * 60 * 60 * 1000;

export function emptyPolicyState(): PolicyState {
  return { killed: false, paused: false, knownContacts: new Set(), knownDomains: new Set(), sendHistory: [], autoSendHistory: [] };
}

/** Adds correspondents (normalised addresses) to the known contacts. */
export function learnContacts(state: PolicyState, addresses: Iterable<string>): PolicyState {
  const knownContacts = new Set(state.knownContacts);
  const knownDomains = new Set(state.knownDomains);
  for (const raw of addresses) {
    // Only a plain address is learnt: the state is persisted, and one it could not read back (an attendee
    // a calendar lists in another script) would make the whole state unreadable at the next start.
    const address = normaliseAddress(raw);
    if (address === undefined) continue;
    knownContacts.add(address);
    knownDomains.add(domainOf(address));
  }
  return { ...state, knownContacts, knownDomains };
}

/**
 * Records an executed outbound action: its recipients count against the rolling windows and become known
 * contacts (the client has now corresponded with them). An email that went out on the gate's decision
 * alone (`kind.automatic`) also counts against the reply-loop limits. Entries older than a day are dropped.
 */
export function recordSend(state: PolicyState, at: Date, recipients: readonly string[], kind: SendKind = { automatic: false }): PolicyState {
  const now = at.getTime();
  const kept = state.sendHistory.filter((record) => record.at > now - DAY_MS);
  const keptAuto = state.autoSendHistory.filter((record) => record.at > now - DAY_MS);
  const learnt = recipients.length > 0 ? learnContacts(state, recipients) : state;
  const autoSendHistory =
    kind.automatic && recipients.length > 0
      ? inTimeOrder(keptAuto, {
          at: now,
          recipients: [...recipients],
          ...(kind.thread === undefined ? {} : { thread: kind.thread }),
          ...(kind.answeredAt === undefined ? {} : { answeredAt: kind.answeredAt }),
        })
      : keptAuto;
  return { ...learnt, sendHistory: inTimeOrder(kept, { at: now, recipients: Math.max(recipients.length, 1) }), autoSendHistory };
}

/**
 * `history` (oldest first) with `record` in its place. After the clock moved back, a new record is older
 * than the last: appended, it would end the window scans (rate-window.ts) before the newer ones, which
 * would stop counting once the clock was right again.
 */
function inTimeOrder<T extends { at: number }>(history: readonly T[], record: T): T[] {
  let index = history.length;
  while (index > 0 && history[index - 1]!.at > record.at) index--;
  return [...history.slice(0, index), record, ...history.slice(index)];
}

export function setPaused(state: PolicyState, paused: boolean): PolicyState {
  return { ...state, paused };
}

export function setKilled(state: PolicyState, killed: boolean): PolicyState {
  return { ...state, killed };
}

/** The JSON form of the state, for the agent's volume and the policy CLI's `--state` file. */
export const policyStateFileSchema = z
  .object({
    killed: z.boolean().default(false),
    paused: z.boolean().default(false),
    knownContacts: z.array(z.string().max(1000)).max(1_000_000).default([]),
    sendHistory: z
      .array(
        z
          .object({
            at: z.union([z.number().int().min(0), z.iso.datetime({ offset: true }).transform((iso) => Date.parse(iso))]),
            recipients: z.number().int().min(1).max(100_000),
          })
          .strict(),
      )
      .max(1_000_000)
      .default([]),
    autoSendHistory: z
      .array(
        z
          .object({
            at: z.number().int().min(0),
            recipients: z.array(z.string().max(1000)).min(1).max(10_000),
            thread: z.string().min(1).max(2000).optional(),
            answeredAt: z.number().int().min(0).optional(),
          })
          .strict(),
      )
      .max(1_000_000)
      .default([]),
  })
  .strict();

export type PolicyStateFile = z.input<typeof policyStateFileSchema>;

export type StateParseResult = { ok: true; state: PolicyState } | { ok: false; issues: string[] };

/** Validates a persisted state; an invalid known-contact address is an error, not silently dropped. */
export function parsePolicyState(data: unknown): StateParseResult {
  const result = policyStateFileSchema.safeParse(data);
  if (!result.success) {
    return { ok: false, issues: result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`) };
  }
  const contacts: string[] = [];
  const issues: string[] = [];
  result.data.knownContacts.forEach((raw, index) => {
    const address = normaliseAddress(raw);
    if (address === undefined) issues.push(`knownContacts.${index}: must be an email address`);
    else contacts.push(address);
  });
  if (issues.length > 0) return { ok: false, issues };
  const history = [...result.data.sendHistory].sort((a, b) => a.at - b.at);
  const autoSendHistory = [...result.data.autoSendHistory].sort((a, b) => a.at - b.at);
  const base: PolicyState = { ...emptyPolicyState(), killed: result.data.killed, paused: result.data.paused, sendHistory: history, autoSendHistory };
  return { ok: true, state: learnContacts(base, contacts) };
}

export function serialisePolicyState(state: PolicyState): PolicyStateFile {
  return {
    killed: state.killed,
    paused: state.paused,
    knownContacts: [...state.knownContacts].sort(),
    sendHistory: state.sendHistory.map((record) => ({ ...record })),
    autoSendHistory: state.autoSendHistory.map((record) => ({ ...record, recipients: [...record.recipients] })),
  };
}
