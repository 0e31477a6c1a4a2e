import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gmailScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { GmailMailProvider } from '../../../agent-image/src/adapters/gmail/gmail-mail-provider.ts';
import { GmailEmulator } from '../../emulators/gmail-emulator.ts';

/** What a push-triggered sync does with a Gmail cursor the mailbox no longer takes. */
describe('a Gmail cursor the mailbox refuses', () => {
  let emulator: GmailEmulator;
  let provider: GmailMailProvider;
  before(async () => {
    emulator = new GmailEmulator();
    await emulator.start();
    provider = new GmailMailProvider({
      oauth: {
        clientId: emulator.clientId,
        clientSecret: emulator.clientSecret,
        refreshToken: emulator.issueRefreshToken(gmailScopesFor({ 'mail.read': true })),
        tokenUrl: emulator.tokenUrl,
      },
      onRefreshTokenRotated: async () => undefined,
      rootUrl: emulator.rootUrl,
      canSend: false,
      logger: createSilentLogger(),
    });
  });
  after(() => emulator.stop());

  const seed = async (subject: string) => (await emulator.seedInbound({ from: 'dana@customer.example', to: [emulator.mailbox], subject, text: 'Hello' })).id;

  test('a cursor ahead of the mailbox costs one full resync, after which history works again', async () => {
    await seed('before');
    const baseline = await provider.listChangesSince(null);
    // Another account's cursor, or one from before a mailbox restore: far beyond this mailbox's history.
    const ahead = String(BigInt(baseline.nextCursor) + 1_000_000n);
    const resync = await provider.listChangesSince(ahead);
    assert.equal(resync.fullResync, true);
    assert.equal(resync.nextCursor, String(emulator.currentHistoryId), 'the resync starts again from the mailbox as it is');
    const fresh = await seed('after');
    const next = await provider.listChangesSince(resync.nextCursor);
    assert.equal(next.fullResync, false, 'no second full listing');
    assert.deepEqual(next.messageIds, [fresh]);
  });

  test('an expired cursor resyncs once and then follows history', async () => {
    const baseline = await provider.listChangesSince(null);
    await seed('during');
    emulator.expireHistory();
    const resync = await provider.listChangesSince(baseline.nextCursor);
    assert.equal(resync.fullResync, true);
    assert.ok(BigInt(resync.nextCursor) >= BigInt(baseline.nextCursor));
    const fresh = await seed('later');
    const next = await provider.listChangesSince(resync.nextCursor);
    assert.equal(next.fullResync, false);
    assert.deepEqual(next.messageIds, [fresh]);
  });
});
