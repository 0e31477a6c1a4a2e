// A Bullhorn Note's comments are HTML to Bullhorn: a subject or summary carrying markup from a crafted
// email must reach the record as text a recruiter reads, never as live HTML in their browser.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CrmProvider } from '../../../agent-image/src/ports/crm-provider.ts';
import type { BullhornEmulator } from '../../emulators/bullhorn-emulator.ts';
import { bullhornProviderOnEmulator } from './bullhorn-provider-on-emulator.ts';

describe('Bullhorn notes carry mail text as text, not markup', () => {
  let emulator: BullhornEmulator;
  let provider: CrmProvider;

  before(async () => {
    ({ emulator, provider } = await bullhornProviderOnEmulator());
  });
  after(() => emulator.stop());

  async function storedComments(subject: string, summary: string, key: string): Promise<string> {
    const id = emulator.addClientContact({ firstName: 'Ana', lastName: 'Lind', email: `${key}@customer.example` });
    const note = await provider.appendInteractionNote({
      person: { id: String(id), entity: 'ClientContact' },
      direction: 'inbound',
      subject,
      summary,
      occurredAt: new Date('2025-03-04T10:00:00Z'),
      idempotencyKey: key,
    });
    return String(emulator.record('Note', Number(note.id))?.['comments']);
  }

  it('escapes tags and quotes from the subject and the summary', async () => {
    const comments = await storedComments('Re: <img src=x onerror="alert(1)">', 'They asked about <script>steal()</script> & "rates".', 'markup-1');
    assert.doesNotMatch(comments, /[<>"]/);
    assert.match(comments, /Re: &lt;img src=x onerror=&quot;alert\(1\)&quot;&gt;/);
    assert.match(comments, /&lt;script&gt;steal\(\)&lt;\/script&gt; &amp; &quot;rates&quot;/);
  });

  it('drops control and bidirectional-override characters that hide or reorder what a reader sees', async () => {
    const comments = await storedComments('Invoice \u202egpj.exe', 'Paid\u0000 in full\u2066.', 'markup-2');
    assert.doesNotMatch(comments, /[\u0000\u202e\u2066]/);
    assert.match(comments, /Invoice gpj\.exe/);
    assert.match(comments, /Paid in full\./);
  });
});
