import { join } from 'node:path';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import type { SendPause } from '../../../agent-image/src/services/outbox/send-pause.ts';
import { AgentStateStore } from '../../../agent-image/src/services/runtime/agent-state-store.ts';
import { authPauseOf } from '../../../agent-image/src/services/runtime/pause-control.ts';

/**
 * The agent's one pause flag as the runtime keeps it (the state store's pause, in the volume's `state`
 * directory), without the runtime's audit records and alert around it: raising it records the reason in
 * `raised` (the alert), lifting it clears it.
 */
export async function volumePause(directory: string, key: Buffer, raised: string[] = []): Promise<SendPause> {
  const state = await AgentStateStore.open({ directory: join(directory, 'state'), keys: KeyRing.single(key) });
  return {
    authPause: () => authPauseOf(state.pause),
    raise: async (reason) => {
      await state.setPause({ reason: 'auth', since: new Date().toISOString(), detail: reason });
      raised.push(reason);
    },
    lift: () => state.setPause(null),
  };
}
