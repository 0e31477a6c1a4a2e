import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { bullhornCrmProviderFromSecret } from '../../agent-image/src/adapters/bullhorn/bullhorn-from-secret.ts';
import { bullhornEndpoints } from '@agent-fleet/kernel/bullhorn-data-centers';
import { parseBullhornSecret } from '../../agent-image/src/adapters/bullhorn/bullhorn-credentials.ts';
import { BullhornRest } from '../../agent-image/src/adapters/bullhorn/bullhorn-rest.ts';
import { BullhornSession } from '../../agent-image/src/adapters/bullhorn/bullhorn-session.ts';
import type { CrmPersonRef } from '../../agent-image/src/ports/crm-provider.ts';
import { BullhornEmulator } from '../emulators/bullhorn-emulator.ts';
import { memorySecretSource } from './calendar-provider.contract.ts';
import { crmProviderContract, type CrmHarness, type PersonSeed } from './crm-provider.contract.ts';

function secretFor(emulator: BullhornEmulator): string {
  return JSON.stringify({ client_id: emulator.oauth.clientId, client_secret: emulator.oauth.clientSecret, refresh_token: emulator.issueRefreshToken() });
}

function providerFor(emulator: BullhornEmulator, source = memorySecretSource({ bullhorn: secretFor(emulator) })) {
  const provider = bullhornCrmProviderFromSecret({
    raw: source.secrets.get('bullhorn') as string,
    writeBack: async (value: string) => {
      await source.writeSecret('bullhorn', value);
      return 'written' as const;
    },
    endpoints: { authUrl: emulator.authUrl, loginUrl: emulator.loginUrl },
    logger: createSilentLogger(),
  });
  return { provider, source };
}

const personRow = (seed: PersonSeed) => ({
  firstName: seed.firstName,
  lastName: seed.lastName,
  email: seed.email,
  ...(seed.secondEmail === undefined ? {} : { email2: seed.secondEmail }),
  ...(seed.role === undefined ? {} : { occupation: seed.role }),
  comments: seed.privateText,
  description: seed.privateText,
  isDeleted: seed.deleted ?? false,
});

async function bullhornHarness(): Promise<CrmHarness> {
  const emulator = new BullhornEmulator();
  await emulator.start();
  const { provider } = providerFor(emulator);
  const ref = (entity: 'ClientContact' | 'Candidate', id: number): CrmPersonRef => ({ id: String(id), entity });
  return {
    provider,
    addContact: async (seed) => ref('ClientContact', emulator.addClientContact({ ...personRow(seed), ...(seed.company === undefined ? {} : { company: seed.company }) })),
    addCandidate: async (seed) =>
      ref('Candidate', emulator.addCandidate({ ...personRow(seed), ...(seed.company === undefined ? {} : { companyName: seed.company }), salary: seed.salary, dayRate: seed.salary / 200 })),
    addActivity: async (person, activity) => {
      emulator.addNote(Number(person.id), { action: activity.action, comments: activity.text, dateAdded: activity.at.getTime() });
    },
    notes: () =>
      emulator.notes().map((row) => ({
        id: String(row['id']),
        text: String(row['comments']),
        linkedTo: emulator
          .noteEntities()
          .filter((link) => (link['note'] as { id: number }).id === row['id'] && link['targetEntityName'] === 'User')
          .map((link) => String(link['targetEntityID'])),
      })),
    loseNextNoteAnswer: () => emulator.failNextWrite({ entity: 'Note', commit: true, status: 504 }),
    expireSessions: () => emulator.expireSessions(),
    revokeConsent: () => emulator.revokeConsent(),
    throttle: (count, seconds) => emulator.throttle(count, seconds),
    stop: () => emulator.stop(),
  };
}

crmProviderContract('BullhornCrmProvider', bullhornHarness);

async function withEmulator(test: (emulator: BullhornEmulator) => Promise<void>): Promise<void> {
  const emulator = new BullhornEmulator();
  await emulator.start();
  try {
    await test(emulator);
  } finally {
    await emulator.stop();
  }
}

const SENSITIVE = /comments|description|salary|dayRate|hourlyRate|ssn|dateOfBirth|\*/;

describe('BullhornCrmProvider specifics', () => {
  it('writes each rotated refresh token back through the secret source; the old one is dead', async () => {
    await withEmulator(async (emulator) => {
      const { provider, source } = providerFor(emulator);
      const original = parseBullhornSecret(source.secrets.get('bullhorn') as string).refresh_token;
      const contact = emulator.addClientContact({ firstName: 'Ana', lastName: 'Lind', email: 'ana@customer.example' });
      await provider.getRecord({ id: String(contact), entity: 'ClientContact' });
      const stored = parseBullhornSecret(source.secrets.get('bullhorn') as string);
      assert.notEqual(stored.refresh_token, original);
      assert.equal(emulator.oauth.isRefreshTokenValid(stored.refresh_token), true);
      assert.equal(emulator.oauth.isRefreshTokenValid(original), false);
      assert.equal(stored.client_id, emulator.oauth.clientId);
      // A session timeout re-logs in with the held access token; only its expiry costs a refresh.
      emulator.expireSessions();
      await provider.getRecord({ id: String(contact), entity: 'ClientContact' });
      assert.equal(emulator.requests.filter((r) => r.path === '/oauth/token').length, 1);
      emulator.expireSessions();
      emulator.expireAccessTokens();
      await provider.getRecord({ id: String(contact), entity: 'ClientContact' });
      assert.equal(emulator.requests.filter((r) => r.path === '/oauth/token').length, 2);
      const latest = parseBullhornSecret(source.secrets.get('bullhorn') as string).refresh_token;
      assert.notEqual(latest, stored.refresh_token);
      assert.equal(emulator.oauth.isRefreshTokenValid(latest), true);
    });
  });

  it('asks only for minimised fields, keeps the BhRestToken and OAuth secrets out of URLs, and never deletes', async () => {
    await withEmulator(async (emulator) => {
      const { provider } = providerFor(emulator);
      const id = emulator.addCandidate({ firstName: 'Kim', lastName: 'Berg', email: 'kim@mail.example', salary: 1, comments: 'x' });
      const ref = { id: String(id), entity: 'Candidate' } as const;
      await provider.findPersonByEmail('kim@mail.example');
      await provider.getRecord(ref);
      await provider.appendInteractionNote({ person: ref, direction: 'inbound', subject: 'Hi', summary: 'Asked about the role.', occurredAt: new Date(), idempotencyKey: 'bh-min-1' });
      await provider.updateLastContact(ref, new Date(Date.now() - 1000));
      assert.ok(emulator.requestedFields().length >= 4);
      for (const fields of emulator.requestedFields()) assert.doesNotMatch(fields, SENSITIVE);
      for (const request of emulator.requests) {
        assert.notEqual(request.method, 'DELETE');
        assert.doesNotMatch(request.body, /isDeleted/);
        for (const name of request.query.keys()) assert.doesNotMatch(name, /^(bhresttoken|client_secret|refresh_token)$/i);
      }
      const note = emulator.notes()[0];
      assert.equal(note?.['action'], 'Email');
      assert.equal(note?.['externalID'], 'af:bh-min-1');
    });
  });

  it('a crash between the note and its link is healed by the retry: one note, one link', async () => {
    await withEmulator(async (emulator) => {
      const { provider } = providerFor(emulator);
      const ref = { id: String(emulator.addClientContact({ firstName: 'Lee', lastName: 'Ng', email: 'lee@customer.example' })), entity: 'ClientContact' } as const;
      const input = { person: ref, direction: 'outbound', subject: 'Offer', summary: 'Sent the offer letter.', occurredAt: new Date(), idempotencyKey: 'bh-link-1' } as const;
      emulator.failNextWrite({ entity: 'NoteEntity', commit: false, status: 503 });
      await assert.rejects(provider.appendInteractionNote(input), (e: unknown) => e instanceof FleetError && e.retryable);
      assert.equal(emulator.notes().length, 1);
      assert.equal(emulator.noteEntities().length, 0);
      const retried = await provider.appendInteractionNote(input);
      assert.equal(retried.created, false);
      assert.equal(emulator.notes().length, 1);
      assert.equal(emulator.noteEntities().length, 1);
      await provider.appendInteractionNote(input);
      assert.equal(emulator.noteEntities().length, 1);
    });
  });

  it('keys too long for externalID are stored hashed and still found', async () => {
    await withEmulator(async (emulator) => {
      const { provider } = providerFor(emulator);
      const ref = { id: String(emulator.addClientContact({ firstName: 'Lee', lastName: 'Ng', email: 'lee@customer.example' })), entity: 'ClientContact' } as const;
      const key = `send:${'k'.repeat(150)}`;
      const created = await provider.appendInteractionNote({ person: ref, direction: 'outbound', subject: 'S', summary: 'Sum.', occurredAt: new Date(), idempotencyKey: key });
      assert.match(String(emulator.notes()[0]?.['externalID']), /^af:sha256:[0-9a-f]{64}$/);
      assert.equal((await provider.findNoteByIdempotencyKey(key))?.id, created.id);
    });
  });

  it('an unknown field is refused by the API and surfaces as invalid_input', async () => {
    await withEmulator(async (emulator) => {
      const session = new BullhornSession({
        authUrl: emulator.authUrl,
        loginUrl: emulator.loginUrl,
        clientId: emulator.oauth.clientId,
        clientSecret: emulator.oauth.clientSecret,
        refreshToken: emulator.issueRefreshToken(),
        onRefreshTokenRotated: async () => {},
        logger: createSilentLogger(),
      });
      const rest = new BullhornRest(session, { logger: createSilentLogger() });
      await assert.rejects(
        rest.call('search', { method: 'GET', path: 'search/Candidate', query: { query: 'isDeleted:0', fields: 'id,favouriteColour' } }),
        (e: unknown) => e instanceof FleetError && e.code === 'invalid_input' && /favouriteColour/.test(e.message),
      );
      await assert.rejects(
        rest.call('create note', { method: 'PUT', path: 'entity/Note', body: { comments: 'x', personReference: { id: 1 }, mood: 'happy' } }),
        (e: unknown) => e instanceof FleetError && e.code === 'invalid_input' && /mood/.test(e.message),
      );
    });
  });

  it('maps data centers to Bullhorn’s hosts and rejects a malformed secret without echoing it', () => {
    assert.deepEqual(bullhornEndpoints(), { authUrl: 'https://auth.bullhornstaffing.com', loginUrl: 'https://rest.bullhornstaffing.com/rest-services/login' });
    assert.equal(bullhornEndpoints('emea').authUrl, 'https://auth-emea.bullhornstaffing.com');
    assert.equal(bullhornEndpoints('west50').loginUrl, 'https://rest-west50.bullhornstaffing.com/rest-services/login');
    assert.equal(bullhornEndpoints('bhnext').authUrl, 'https://auth9.bullhornstaffing.com');
    assert.throws(() => parseBullhornSecret('{"client_id":"id","client_secret":"s3cr3t-value"}'), (e: unknown) => e instanceof FleetError && /refresh_token/.test(e.message) && !/s3cr3t/.test(e.message));
    assert.throws(() => parseBullhornSecret('{"client_id":"a","client_secret":"b","refresh_token":"c","data_center":"mars"}'), /data_center/);
    assert.throws(() => parseBullhornSecret('not json'), (e: unknown) => e instanceof FleetError && e.code === 'invalid_input');
  });
});
