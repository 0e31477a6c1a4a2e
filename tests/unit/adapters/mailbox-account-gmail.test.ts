// GmailMailProvider.mailboxAccount: the account the grant opens, as users.getProfile names it, normalised
// as config addresses are, against the strict Gmail emulator.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { gmailScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { GmailMailProvider } from '../../../agent-image/src/adapters/gmail/gmail-mail-provider.ts';
import { ProviderAuthError } from '../../../agent-image/src/ports/mail-provider.ts';
import { GmailEmulator } from '../../emulators/gmail-emulator.ts';
import { googleOAuth } from '../../helpers/oauth-tokens.ts';

describe('GmailMailProvider.mailboxAccount', () => {
  let emulator: GmailEmulator;
  const providerFor = (refreshToken: string) =>
    new GmailMailProvider({
      oauth: googleOAuth(emulator, refreshToken),
      onRefreshTokenRotated: async () => undefined,
      rootUrl: emulator.rootUrl,
      canSend: false,
      logger: createSilentLogger(),
    });
  before(async () => {
    emulator = new GmailEmulator({ mailbox: 'Agent@ACME.example' });
    await emulator.start();
  });
  after(() => emulator.stop());

  it('names the account getProfile answers, lower-cased', async () => {
    const provider = providerFor(emulator.issueRefreshToken(gmailScopesFor({ 'mail.read': true })));
    assert.equal(await provider.mailboxAccount(), 'agent@acme.example');
    const profiles = emulator.requests.filter((request) => request.path === '/gmail/v1/users/me/profile');
    assert.equal(profiles.length, 1);
    // Asked again each time (a grant stored since may open another mailbox), never from memory.
    await provider.mailboxAccount();
    assert.equal(emulator.requests.filter((request) => request.path === '/gmail/v1/users/me/profile').length, 2);
  });

  it('a refused grant is a ProviderAuthError, not an account', async () => {
    const provider = providerFor(emulator.issueRefreshToken(gmailScopesFor({ 'mail.read': true })));
    emulator.revokeConsent();
    await assert.rejects(provider.mailboxAccount(), (error: unknown) => error instanceof ProviderAuthError && error.kind === 'revoked');
  });
});
