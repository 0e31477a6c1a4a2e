import type { OpenedAgent } from './open-volume.ts';

/**
 * Closes what openVolume opened: the stores, then the audit log, then the journal heads are recorded
 * in Vault a last time, then the secret source (its token revoked). One that fails to close does not keep the others open, nor the token alive: each is closed
 * in turn, and the first failure is thrown after the last.
 */
export async function closeVolume(agent: OpenedAgent): Promise<void> {
  const steps: Array<() => Promise<void>> = [
    () => agent.outbox.close(),
    () => agent.state.close(),
    () => agent.approvals.close(),
    () => agent.settings.close(),
    () => agent.audit.close(),
    // After every append finished, before the token goes: a clean stop leaves no head unrecorded (a failure
    // to record is logged by the keeper; the volume is then only ahead of its anchor).
    () => agent.anchors.stop(),
    () => agent.secrets.current.stop(),
  ];
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw failures[0];
}
