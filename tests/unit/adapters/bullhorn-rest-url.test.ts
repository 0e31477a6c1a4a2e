// The restUrl of a Bullhorn login answer decides where the BhRestToken (the key to the client's whole CRM)
// is sent from then on: only to Bullhorn's own hosts, over https.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bullhornEndpoints } from '@agent-fleet/kernel/bullhorn-data-centers';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { bullhornCrmProviderFromSecret } from '../../../agent-image/src/adapters/bullhorn/bullhorn-from-secret.ts';
import { checkedRestUrl } from '../../../agent-image/src/adapters/bullhorn/bullhorn-rest-url.ts';
import { BullhornEmulator } from '../../emulators/bullhorn-emulator.ts';

const LOGIN = bullhornEndpoints('east').loginUrl;
const integrity = (e: unknown) => e instanceof FleetError && e.code === 'integrity';

describe('checkedRestUrl', () => {
  it('takes the swimlane hosts Bullhorn answers, with a trailing slash', () => {
    assert.equal(checkedRestUrl('https://rest91.bullhornstaffing.com/rest-services/e9x7q', LOGIN), 'https://rest91.bullhornstaffing.com/rest-services/e9x7q/');
    assert.equal(checkedRestUrl('https://rest.bullhornstaffing.com/rest-services/e9x7q/', LOGIN), 'https://rest.bullhornstaffing.com/rest-services/e9x7q/');
    assert.equal(
      checkedRestUrl('https://rest-emea9.bullhornstaffing.com/rest-services/ab1/', bullhornEndpoints('emea').loginUrl),
      'https://rest-emea9.bullhornstaffing.com/rest-services/ab1/',
    );
  });

  it('refuses another host, plain http, user info, a query, another port or no URL at all', () => {
    for (const restUrl of [
      'https://rest91.attacker.example/rest-services/e9x7q/',
      'https://bullhornstaffing.com.attacker.example/rest-services/e9x7q/',
      'https://evilbullhornstaffing.com/rest-services/e9x7q/',
      'http://rest91.bullhornstaffing.com/rest-services/e9x7q/',
      'https://user:pw@rest91.bullhornstaffing.com/rest-services/e9x7q/',
      'https://rest91.bullhornstaffing.com/rest-services/e9x7q/?next=https://attacker.example',
      'https://rest91.bullhornstaffing.com:8443/rest-services/e9x7q/',
      'file:///etc/passwd',
      'rest-services/e9x7q/',
    ]) {
      assert.throws(() => checkedRestUrl(restUrl, LOGIN), integrity, restUrl);
    }
  });

  it('admits only the login host itself when that is an address or a single name', () => {
    assert.equal(checkedRestUrl('http://127.0.0.1:4000/rest-services/x/', 'http://127.0.0.1:4000/rest-services/login'), 'http://127.0.0.1:4000/rest-services/x/');
    assert.throws(() => checkedRestUrl('http://127.0.0.2:4000/rest-services/x/', 'http://127.0.0.1:4000/rest-services/login'), integrity);
    assert.throws(() => checkedRestUrl('http://127.0.0.1:4001/rest-services/x/', 'http://127.0.0.1:4000/rest-services/login'), integrity);
    assert.throws(() => checkedRestUrl('http://other:4000/rest-services/x/', 'http://localhost:4000/rest-services/login'), integrity);
  });
});

describe('a login answer whose restUrl points at another host', () => {
  it('fails closed: the BhRestToken never reaches that host', async () => {
    const bullhorn = new BullhornEmulator();
    const elsewhere = new BullhornEmulator();
    await bullhorn.start();
    await elsewhere.start();
    try {
      bullhorn.answerLoginsWithRestUrl(elsewhere.restUrl);
      const provider = bullhornCrmProviderFromSecret({
        raw: JSON.stringify({ client_id: bullhorn.oauth.clientId, client_secret: bullhorn.oauth.clientSecret, refresh_token: bullhorn.issueRefreshToken() }),
        writeBack: async () => 'written' as const,
        endpoints: { authUrl: bullhorn.authUrl, loginUrl: bullhorn.loginUrl },
        logger: createSilentLogger(),
      });
      await assert.rejects(provider.findPersonByEmail('ana@customer.example'), integrity);
      assert.equal(elsewhere.requests.length, 0);
      // Bullhorn answering its own restUrl again: the next call works.
      bullhorn.answerLoginsWithRestUrl(null);
      bullhorn.addClientContact({ firstName: 'Ana', lastName: 'Lind', email: 'ana@customer.example' });
      assert.equal((await provider.findPersonByEmail('ana@customer.example'))?.name, 'Ana Lind');
    } finally {
      await bullhorn.stop();
      await elsewhere.stop();
    }
  });
});
