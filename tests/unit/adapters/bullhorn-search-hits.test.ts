// Bullhorn's search index matches a quoted address inside a longer one ("x-ana@…" holds the words of
// "ana@…"): the correspondent is only a record that holds the address itself, or the drafter is told of
// the wrong person and the CRM note about the email lands on someone else's record.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CrmProvider } from '../../../agent-image/src/ports/crm-provider.ts';
import type { BullhornEmulator } from '../../emulators/bullhorn-emulator.ts';
import { bullhornProviderOnEmulator } from './bullhorn-provider-on-emulator.ts';

describe('Bullhorn person search: the exact address, not the index’s near matches', () => {
  let emulator: BullhornEmulator;
  let provider: CrmProvider;

  before(async () => {
    ({ emulator, provider } = await bullhornProviderOnEmulator());
  });
  after(() => emulator.stop());

  it('passes over a newer contact whose address only contains the searched one', async () => {
    const now = Date.now();
    emulator.addClientContact({ firstName: 'Mallory', lastName: 'Look', email: 'x-ana@customer.example', dateLastModified: now });
    const ana = emulator.addClientContact({ firstName: 'Ana', lastName: 'Lind', email: 'ana@customer.example', dateLastModified: now - 86_400_000 });
    const found = await provider.findPersonByEmail('ana@customer.example');
    assert.equal(found?.id, String(ana));
    assert.equal(found?.name, 'Ana Lind');
  });

  it('finds nobody when only look-alike addresses match, and compares addresses case-insensitively', async () => {
    emulator.addCandidate({ firstName: 'Eve', lastName: 'Near', email: 'kim+old@mail.example' });
    emulator.addCandidate({ firstName: 'Eve', lastName: 'Far', email: 'dr-kim@mail.example' });
    assert.equal(await provider.findPersonByEmail('kim@mail.example'), null);
    const kim = emulator.addCandidate({ firstName: 'Kim', lastName: 'Berg', email: 'x@other.example', email2: 'Kim@Mail.Example' });
    assert.equal((await provider.findPersonByEmail('kim@mail.example'))?.id, String(kim));
  });
});
