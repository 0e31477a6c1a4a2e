// The Gmail OAuth client never uses a grant another writer stored while it runs (`fleet connect`,
// `fleet secrets set`): nobody has checked which mailbox it opens. Wherever it meets one (before a refresh,
// after Google refused the grant in hand, when its own rotation or a later flush loses to it), it refuses
// that call and every later one with GrantReplacedError, retryable and no refusal of our credentials, and
// the new grant never reaches Google. Its own refreshes and rotations go on as before. Against the Gmail
// emulator, with the stored grant kept in memory as Vault's check-and-set keeps it.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { gmailScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { RotatingOAuth2Client } from '../../../agent-image/src/adapters/gmail/gmail-auth.ts';
import { GmailMailProvider } from '../../../agent-image/src/adapters/gmail/gmail-mail-provider.ts';
import { GrantReplacedError, ProviderAuthError } from '../../../agent-image/src/ports/mail-provider.ts';
import { GmailEmulator } from '../../emulators/gmail-emulator.ts';
import { googleOAuth } from '../../helpers/oauth-tokens.ts';

const SCOPES = gmailScopesFor({ 'mail.read': true, 'mail.draft': true, 'mail.send': true });
const emulators: GmailEmulator[] = [];
after(async () => {
  for (const emulator of emulators) await emulator.stop();
});

/**
 * The client's stored grant: the agent's write of a rotation loses to a grant another writer stored since
 * the agent last read or wrote it, and a read again returns such a grant once.
 */
class StoredGrant {
  value: string;
  #known: string;
  /** Runs once, after the next read again (another writer storing between the agent's read and its refresh). */
  afterNextRead: (() => void) | null = null;
  failNextWrite = false;

  constructor(initial: string) {
    this.value = initial;
    this.#known = initial;
  }

  /** Another writer stores a grant. */
  storeByAdmin(token: string): void {
    this.value = token;
  }

  readonly save = async (rotated: string): Promise<string | null> => {
    if (this.failNextWrite) {
      this.failNextWrite = false;
      throw new Error('vault unreachable');
    }
    if (this.value !== this.#known) return (this.#known = this.value);
    this.value = this.#known = rotated;
    return null;
  };

  readonly readNewer = async (): Promise<string | null> => {
    const newer = this.value === this.#known ? null : (this.#known = this.value);
    const after = this.afterNextRead;
    this.afterNextRead = null;
    after?.();
    return newer;
  };
}

async function bed() {
  const emulator = new GmailEmulator();
  await emulator.start();
  emulators.push(emulator);
  const stored = new StoredGrant(emulator.issueRefreshToken(SCOPES));
  const client = new RotatingOAuth2Client(googleOAuth(emulator, stored.value), stored.save, stored.readNewer);
  const provider = new GmailMailProvider({ client, rootUrl: emulator.rootUrl, canSend: true, logger: createSilentLogger() });
  await provider.listChangesSince(null);
  const refreshedWith = () => emulator.requests.filter((r) => r.path === '/token').map((r) => new URLSearchParams(r.body).get('refresh_token'));
  const apiCalls = () => emulator.requests.filter((r) => r.path !== '/token').length;
  return { emulator, stored, client, provider, refreshedWith, apiCalls };
}

/** Asserts that `call` is refused as a replaced grant is: retryable, not a credential refusal, no pause kind. */
async function refusedAsReplaced(call: Promise<unknown>): Promise<void> {
  await assert.rejects(call, (error: unknown) => {
    assert.ok(error instanceof GrantReplacedError, `refused as a replaced grant (${String(error)})`);
    assert.ok(error instanceof ProviderAuthError, 'handed to the runtime as the mail loop hands auth errors');
    assert.equal(error.retryable, true);
    assert.equal(error.code, 'unavailable', 'an outbox retries it later rather than pausing');
    assert.equal(error.kind, 'grant_replaced');
    return true;
  });
}

describe('a Gmail grant another writer stored while the client runs is never used by it', () => {
  test('its own refreshes and rotations go on: a new access token, each rotated refresh token stored and used', async () => {
    const { emulator, stored, client, provider, refreshedWith } = await bed();
    for (let round = 0; round < 3; round++) {
      emulator.invalidateAccessTokens();
      await provider.listChangesSince(null);
    }
    assert.equal(client.replaced, false);
    assert.equal(refreshedWith().length, 4);
    assert.ok(emulator.refreshTokenActive(stored.value), 'the last rotation is what is stored');
  });

  test('met before a refresh: the call and every later one are refused, and the new grant never reaches Google', async () => {
    const { emulator, stored, provider, refreshedWith, apiCalls } = await bed();
    const admins = emulator.issueRefreshToken(SCOPES);
    stored.storeByAdmin(admins);
    emulator.invalidateAccessTokens();
    await refusedAsReplaced(provider.listChangesSince(null));
    const calls = apiCalls();
    await refusedAsReplaced(provider.sendDraft('any-draft'));
    await refusedAsReplaced(provider.getMessage('any-message'));
    assert.equal(apiCalls(), calls, 'nothing reached the mailbox after the refusal');
    assert.ok(!refreshedWith().includes(admins));
    assert.equal(stored.value, admins, 'the stored grant is left as the admin stored it');
  });

  test('met once Google refused the grant in hand: refused as replaced, not as a revoked grant', async () => {
    const { emulator, stored, provider, refreshedWith } = await bed();
    emulator.revokeConsent();
    const admins = emulator.issueRefreshToken(SCOPES);
    // The admin stores it after the client's read before the refresh, before Google answers.
    stored.afterNextRead = () => stored.storeByAdmin(admins);
    await refusedAsReplaced(provider.listChangesSince(null));
    assert.ok(!refreshedWith().includes(admins));
  });

  test('met when its own rotation loses to it: refused, and the rotation is not written over the admin’s grant', async () => {
    const { emulator, stored, client, provider, refreshedWith } = await bed();
    const admins = emulator.issueRefreshToken(SCOPES);
    stored.afterNextRead = () => stored.storeByAdmin(admins);
    emulator.invalidateAccessTokens();
    await refusedAsReplaced(provider.listChangesSince(null));
    assert.equal(stored.value, admins);
    assert.equal(client.replaced, true);
    await refusedAsReplaced(provider.listChangesSince(null));
    assert.ok(!refreshedWith().includes(admins));
  });

  test('met when a rotation it could not store is stored later: refused from then on', async () => {
    const { emulator, stored, provider, refreshedWith, apiCalls } = await bed();
    stored.failNextWrite = true;
    emulator.invalidateAccessTokens();
    await assert.rejects(provider.listChangesSince(null), (error: unknown) => !(error instanceof GrantReplacedError));
    const admins = emulator.issueRefreshToken(SCOPES);
    stored.storeByAdmin(admins);
    const calls = apiCalls();
    await refusedAsReplaced(provider.listChangesSince(null));
    assert.equal(apiCalls(), calls);
    assert.ok(!refreshedWith().includes(admins));
  });
});
