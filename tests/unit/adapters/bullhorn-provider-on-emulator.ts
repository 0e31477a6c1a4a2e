import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { bullhornCrmProviderFromSecret } from '../../../agent-image/src/adapters/bullhorn/bullhorn-from-secret.ts';
import type { CrmProvider } from '../../../agent-image/src/ports/crm-provider.ts';
import { BullhornEmulator } from '../../emulators/bullhorn-emulator.ts';

/** A started Bullhorn emulator and the agent's CRM provider on it, as the agent builds it from its stored grant. */
export async function bullhornProviderOnEmulator(): Promise<{ emulator: BullhornEmulator; provider: CrmProvider }> {
  const emulator = new BullhornEmulator();
  await emulator.start();
  const provider = bullhornCrmProviderFromSecret({
    raw: JSON.stringify({ client_id: emulator.oauth.clientId, client_secret: emulator.oauth.clientSecret, refresh_token: emulator.issueRefreshToken() }),
    writeBack: async () => 'written' as const,
    endpoints: { authUrl: emulator.authUrl, loginUrl: emulator.loginUrl },
    logger: createSilentLogger(),
  });
  return { emulator, provider };
}
