/**
 * The kill flag: a file named KILLED in the agent's data directory (or, on Kubernetes, a key of the
 * orchestrator's read-only files ConfigMap). Its presence is what counts; its content says who killed the
 * agent, when and why, in one format whoever wrote it (the agent answering the kill notice, the
 * orchestrator for an agent that did not, a restore of a killed client).
 */
export const KILL_FLAG_FILE = 'KILLED';

export interface KillFlag {
  killed: true;
  at: string;
  by: string;
  reason: string;
}

/** The flag file's content: one JSON line. */
export function killFlagContent(details: { at: Date; by: string; reason: string }): string {
  const flag: KillFlag = { killed: true, at: details.at.toISOString(), by: details.by, reason: details.reason };
  return `${JSON.stringify(flag)}\n`;
}
