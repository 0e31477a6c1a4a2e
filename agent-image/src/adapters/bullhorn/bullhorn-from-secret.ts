import type { Logger } from '@agent-fleet/kernel/logger';
import type { CrmProvider } from '../../ports/crm-provider.ts';
import { BullhornCrmProvider } from './bullhorn-crm-provider.ts';
import { bullhornEndpoints, type BullhornEndpoints } from '@agent-fleet/kernel/bullhorn-data-centers';
import { parseBullhornSecret, withRotatedRefreshToken } from './bullhorn-credentials.ts';
import { BullhornRest } from './bullhorn-rest.ts';
import { BullhornSession } from './bullhorn-session.ts';

export interface BullhornFromSecretInput {
  /** The raw `bullhorn` secret (JSON: client_id, client_secret, refresh_token, data_center?). */
  raw: string;
  /**
   * Where the secret with a rotated refresh token goes (the secret store, never a file): `superseded` when
   * another writer (an admin reconnecting the CRM) stored a newer secret meanwhile, which is kept.
   */
  writeBack: (value: string) => Promise<'written' | 'superseded'>;
  /** Test overrides (the emulator); production uses the data center's published endpoints. */
  endpoints?: Partial<BullhornEndpoints>;
  /** Note action label, default "Email". */
  noteAction?: string;
  timeoutMs?: number;
  logger: Logger;
}

/** Builds the Bullhorn CrmProvider from the client's secret, writing every rotated refresh token back. */
export function bullhornCrmProviderFromSecret(input: BullhornFromSecretInput): CrmProvider {
  const secret = parseBullhornSecret(input.raw);
  const endpoints = { ...bullhornEndpoints(secret.data_center), ...input.endpoints };
  const logger = input.logger.child({ connector: 'bullhorn' });
  let stored = secret;
  const session = new BullhornSession({
    ...endpoints,
    clientId: secret.client_id,
    clientSecret: secret.client_secret,
    refreshToken: secret.refresh_token,
    onRefreshTokenRotated: async (refreshToken) => {
      if ((await input.writeBack(withRotatedRefreshToken(stored, refreshToken))) === 'written') {
        stored = { ...stored, refresh_token: refreshToken };
        return;
      }
      // This session goes on with its own token; the newer secret is used from the next reconnect.
      logger.warn('a newer bullhorn secret was stored meanwhile: the rotated refresh token is not written over it');
    },
    ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }),
    logger,
  });
  const rest = new BullhornRest(session, { ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }), logger });
  return new BullhornCrmProvider({ rest, ...(input.noteAction === undefined ? {} : { noteAction: input.noteAction }), logger });
}
