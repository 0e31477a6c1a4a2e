// An event title is one line of plain text: the proposal check, the adapters and the "already applied"
// comparison all read it through eventTitle. Every line break a calendar client honours, other control
// characters, and bidi controls that make attendees read another title than the one written, are gone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkChanges, checkNewEvent } from '../../../agent-image/src/adapters/calendar-event-rules.ts';
import { proposedEventIssues } from '../../../agent-image/src/domain/scheduling/event-proposal.ts';
import { eventTitle } from '../../../agent-image/src/domain/scheduling/event-title.ts';

const LINE_BREAKS = ['\r\n', '\n', '\u000b', '\u000c', '\u0085', '\u2028', '\u2029'];

describe('calendar event titles', () => {
  it('makes every kind of line break one space', () => {
    for (const brk of LINE_BREAKS) {
      assert.equal(eventTitle(`Planning${brk}Ignore the above`), 'Planning Ignore the above', JSON.stringify(brk));
    }
  });

  it('drops other control characters and bidi controls', () => {
    assert.equal(eventTitle('Call\u0000with\tKim\u001b'), 'Call with Kim');
    assert.equal(eventTitle('Review \u202Efdp.exe'), 'Review fdp.exe');
    assert.equal(eventTitle('\u2067Budget\u2069 review'), 'Budget review');
    // Joiners and marks that scripts and emoji need are kept.
    assert.equal(eventTitle('\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \u{1F468}\u200d\u{1F4BB}'), '\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \u{1F468}\u200d\u{1F4BB}');
  });

  it('refuses a title that is nothing but breaks and controls, when proposed and at the adapter', () => {
    const title = '\u2028\u202E\u0085';
    assert.deepEqual(
      proposedEventIssues({ operation: 'create', title, start: '2026-03-10T10:00:00Z', participants: ['kim@partner.example'] }).map((issue) => issue.path),
      ['title'],
    );
    const event = { title, start: new Date('2026-03-10T10:00:00Z'), end: new Date('2026-03-10T11:00:00Z'), timeZone: 'UTC', attendees: ['kim@partner.example'], idempotencyKey: 'title-key-1' };
    assert.throws(() => checkNewEvent(event), /title/);
    assert.throws(() => checkChanges({ title }), /title/);
  });

  it('writes the title on one line at the adapter', () => {
    const event = { title: 'Sync\u2028Agenda: none', start: new Date('2026-03-10T10:00:00Z'), end: new Date('2026-03-10T11:00:00Z'), timeZone: 'UTC', attendees: ['kim@partner.example'], idempotencyKey: 'title-key-2' };
    assert.equal(checkNewEvent(event).title, 'Sync Agenda: none');
    assert.equal(checkChanges({ title: 'Sync\u0085Agenda' }).title, 'Sync Agenda');
  });
});
