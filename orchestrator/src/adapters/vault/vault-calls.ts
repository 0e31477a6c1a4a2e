import type { Logger } from '@agent-fleet/kernel/logger';
import { translateVaultError, vaultStatusOf } from './vault-client.ts';

/** Runs node-vault calls so that their failures are FleetErrors naming the action. */
export interface VaultCalls {
  call<T>(action: string, run: () => Promise<T>): Promise<T>;
  /** Runs a call where "absent" is an answer: 404 (and the 400s Vault uses for missing things) give null. */
  optional<T>(action: string, run: () => Promise<T>, absentStatuses?: number[]): Promise<T | null>;
}

export function vaultCalls(logger: Logger): VaultCalls {
  return {
    async call<T>(action: string, run: () => Promise<T>): Promise<T> {
      logger.debug('vault call', { action });
      try {
        return await run();
      } catch (error) {
        throw translateVaultError(error, action);
      }
    },
    async optional<T>(action: string, run: () => Promise<T>, absentStatuses = [404]): Promise<T | null> {
      try {
        return await run();
      } catch (error) {
        if (absentStatuses.includes(vaultStatusOf(error) ?? 0)) return null;
        throw translateVaultError(error, action);
      }
    },
  };
}
