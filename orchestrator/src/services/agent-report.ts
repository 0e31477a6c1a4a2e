import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import * as z from 'zod';

/**
 * What a running agent says of itself (`GET /v1/status`), as `fleet status` shows it: the facts the
 * runbooks send on-call to (pause and its reason, last sync, the push watch, what waits). Parsed strictly:
 * the answer comes from inside a client's container and may be hostile.
 */
const isoTime = z.string().max(40).regex(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/);
const count = z.number().int().min(0).max(1e9);
const agentReportSchema = z.object({
  lifecycle: z.string().regex(/^[a-z_]{1,32}$/),
  killed: z.boolean(),
  paused: z.string().regex(/^[a-z_]{1,40}$/).nullable(),
  pausedSince: isoTime.nullable(),
  dryRun: z.boolean(),
  connection: z.string().regex(/^[a-z ]{1,20}$/),
  vault: z.enum(['not_introduced', 'ok', 'revoked']),
  pendingApprovals: count,
  lastSync: isoTime.nullable(),
  outbox: z.object({ pending: count, held: count, sent: count }),
  push: z.object({ enabled: z.boolean(), expiresAt: isoTime.nullable() }),
});

export type AgentReport = z.infer<typeof agentReportSchema>;

/** The report, or why there is none (not running, no answer in time, an answer that is not a report). */
export type AgentReportOutcome = { report: AgentReport } | { unavailable: string };

/** How long `fleet status` waits for the agent: a hung agent must not hang the command. */
export const AGENT_REPORT_TIMEOUT_MS = 3000;

export async function readAgentReport(ask: () => Promise<unknown>): Promise<AgentReportOutcome> {
  let answer: unknown;
  try {
    answer = await ask();
  } catch (error) {
    return { unavailable: isFleetError(error) ? error.message : 'the agent did not answer' };
  }
  const parsed = agentReportSchema.safeParse(answer);
  return parsed.success ? { report: parsed.data } : { unavailable: 'the agent answered with something that is not a status report' };
}
