// GmailMailProvider.label adds the agent's own labels only: a system label's name (TRASH, SPAM, INBOX)
// would delete, hide or move the message, against the strict Gmail emulator.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { gmailScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { GmailMailProvider } from '../../../agent-image/src/adapters/gmail/gmail-mail-provider.ts';
import { GmailEmulator } from '../../emulators/gmail-emulator.ts';
import { googleOAuth } from '../../helpers/oauth-tokens.ts';

describe('GmailMailProvider.label and system labels', () => {
  let emulator: GmailEmulator;
  let provider: GmailMailProvider;

  before(async () => {
    emulator = new GmailEmulator();
    await emulator.start();
    provider = new GmailMailProvider({
      oauth: googleOAuth(emulator, emulator.issueRefreshToken(gmailScopesFor({ 'mail.read': true, 'mail.label': true }))),
      onRefreshTokenRotated: async () => undefined,
      rootUrl: emulator.rootUrl,
      canSend: false,
      logger: createSilentLogger(),
    });
  });
  after(() => emulator.stop());

  it('refuses a system label name in any case and leaves the message where it was', async () => {
    const { id } = await emulator.seedInbound({ from: 'dana@customer.example', to: [emulator.mailbox], subject: 'Hi', text: 'Hello' });
    for (const name of ['TRASH', 'trash', 'Spam', 'INBOX']) {
      await assert.rejects(provider.label(id, name), (error: unknown) => error instanceof FleetError && error.code === 'invalid_input', name);
    }
    const labels = emulator.labelNamesOf(id);
    assert.ok(!labels.includes('TRASH') && !labels.includes('SPAM'), labels.join(','));
    assert.ok(labels.includes('INBOX'));
  });

  it('still creates and adds the agent’s own labels', async () => {
    const { id } = await emulator.seedInbound({ from: 'dana@customer.example', to: [emulator.mailbox], subject: 'Hi', text: 'Hello' });
    await provider.label(id, 'AgentFleet/spam');
    assert.ok(emulator.labelNamesOf(id).includes('AgentFleet/spam'));
  });
});
