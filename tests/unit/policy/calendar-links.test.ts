import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { linkIn } from '../../../agent-image/src/domain/policy/link-host.ts';
import { config, NOW, state } from './fixtures.ts';

const decide = (action: Record<string, unknown>) => evaluatePolicy(action, config(), state(), NOW);
const invite = (text: Record<string, unknown>, participants: string[] = ['bob@partner.com', 'carol@partner.com']) => ({
  kind: 'calendar.write',
  operation: 'create',
  title: 'Notes for meeting today',
  start: '2025-06-02T16:00:00Z',
  participants,
  ...text,
});

describe('a link in a calendar write’s text needs approval, whoever the event reaches', () => {
  it('holds an invitation to known contacts whose description links to a look-alike page (no shortener)', () => {
    const decision = decide(invite({ description: 'Hi all, please sign in to read the notes: https://acme-notes-login.com/2025-06-02' }));
    assert.equal(decision.decision, 'needs_approval');
    assert.deepEqual(decision.reasons, ['free_text']);
    assert.match(decision.details?.join(' ') ?? '', /carries a link/);
  });

  it('finds the link in the title or the location, bare, behind a scheme without a suffix, or as an IPv4 host', () => {
    for (const text of [
      { title: 'Agenda: acme-notes-login.com/today' },
      { location: 'evil.example.co.uk/room' },
      { location: 'http://intranet/login' },
      { description: 'Slides on 203.0.113.7/deck' },
      { description: 'Notes at my.blogspot.com' },
    ]) {
      assert.deepEqual(decide(invite(text)).reasons, ['free_text'], JSON.stringify(text));
    }
  });

  it('holds the link on an event created with no participants, and on an update: attendees added later see the same text', () => {
    assert.deepEqual(decide(invite({ description: 'https://acme-notes-login.com/x' }, [])).reasons, ['free_text']);
    assert.deepEqual(decide({ kind: 'calendar.write', operation: 'update', eventId: 'ev1', description: 'Dial-in: https://acme-notes-login.com/x' }).reasons, ['free_text']);
  });

  it('lets plain invitation text through: prose, an email address, abbreviations, file names, times', () => {
    const plain = 'Family reunion at Grandma’s house, e.g. bring food. Questions to bob@partner.com. See agenda.docx, v1.2, 12.30.';
    const decision = decide(invite({ description: plain, location: 'Room 4.12' }));
    assert.equal(decision.decision, 'allow');
    assert.deepEqual(decision.reasons, ['auto_send']);
    assert.equal(linkIn(plain), undefined);
  });

  it('keeps the shortener’s own reason for a shortened link', () => {
    assert.deepEqual(decide(invite({ description: 'https://bit.ly/sUf7tOJ' })).reasons, ['url_shortener']);
  });
});
