// A Graph refresh asks for the scopes the client's permissions need now. The identity platform refuses a
// refresh that asks for a scope the grant was never consented to (permissions widened after the connect):
// the emulator must refuse it as Microsoft does, not quietly hand out a narrower token, and the adapter
// must say that a new consent is what mends it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RefreshTokenGraphTokenSource } from '../../../agent-image/src/adapters/graph/graph-token-source.ts';
import { ProviderAuthError } from '../../../agent-image/src/ports/mail-provider.ts';
import { GraphEmulator } from '../../emulators/graph-emulator.ts';
import { refreshTokenGrant } from '../../helpers/oauth-tokens.ts';

describe('Graph refresh scopes', () => {
  it('the emulator refuses a refresh asking for an unconsented scope (AADSTS65001) and grants a consented subset', async () => {
    const emulator = new GraphEmulator();
    await emulator.start();
    try {
      const consented = ['Mail.ReadWrite', 'Mail.Send'];
      const widened = await refreshTokenGrant(emulator, emulator.issueRefreshToken(consented), { scopes: ['Mail.ReadWrite', 'Calendars.ReadWrite', 'offline_access'] });
      assert.equal(widened.status, 400);
      const refused = (await widened.json()) as { error: string; error_codes: number[]; suberror: string };
      assert.deepEqual([refused.error, refused.error_codes[0], refused.suberror], ['invalid_grant', 65001, 'consent_required']);
      const subset = await refreshTokenGrant(emulator, emulator.issueRefreshToken(consented), { scopes: ['https://graph.microsoft.com/Mail.ReadWrite', 'offline_access', 'openid'] });
      assert.equal(subset.status, 200);
      assert.equal(((await subset.json()) as { scope: string }).scope, 'Mail.ReadWrite');
    } finally {
      await emulator.stop();
    }
  });

  it('the token source reports an unconsented scope as a grant to reconnect, not as an expired one', async () => {
    const emulator = new GraphEmulator();
    await emulator.start();
    try {
      const source = new RefreshTokenGraphTokenSource({
        tokenUrl: emulator.tokenUrl,
        clientId: emulator.clientId,
        clientSecret: emulator.clientSecret,
        refreshToken: emulator.issueRefreshToken(['Mail.Read']),
        scopes: ['Mail.ReadWrite', 'Mail.Send', 'offline_access'],
        onRefreshTokenRotated: async () => undefined,
      });
      await assert.rejects(source.getAccessToken(false), (error: unknown) => {
        return error instanceof ProviderAuthError && error.kind === 'revoked' && /consent_required.*reconnect the mailbox/.test(error.message);
      });
    } finally {
      await emulator.stop();
    }
  });
});
