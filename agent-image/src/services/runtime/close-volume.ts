import type { OpenedAgent } from './open-volume.ts';

/** Closes what openVolume opened: the stores, then the audit log, then the secret source (its token revoked). */
export async function closeVolume(agent: OpenedAgent): Promise<void> {
  await agent.outbox.close();
  await agent.state.close();
  await agent.approvals.close();
  await agent.settings.close();
  await agent.audit.close();
  await agent.secrets.current.stop();
}
