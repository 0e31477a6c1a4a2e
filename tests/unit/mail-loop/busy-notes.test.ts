import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { busyNotes } from '../../../agent-image/src/services/mail-loop/busy-notes.ts';

const spans = [
  { start: new Date('2026-11-23T09:00:00Z'), end: new Date('2026-11-23T17:00:00Z') },
  { start: new Date('2026-11-24T09:00:00Z'), end: new Date('2026-11-24T17:00:00Z') },
];

describe('busy notes for the drafter', () => {
  test('list busy times per working day in the client zone, clipped to working hours', () => {
    const notes = busyNotes(
      spans,
      [
        { start: new Date('2026-11-23T08:00:00Z'), end: new Date('2026-11-23T10:00:00Z') },
        { start: new Date('2026-11-23T13:00:00Z'), end: new Date('2026-11-23T14:30:00Z') },
      ],
      'Europe/London',
    );
    assert.match(notes, /next 2 working day\(s\), times in Europe\/London/);
    assert.match(notes, /- Mon, 23 Nov 2026: busy 09:00-10:00, 13:00-14:30 \(working hours 09:00-17:00\)/);
    assert.match(notes, /- Tue, 24 Nov 2026: free 09:00-17:00/);
  });

  test('show times in the client time zone, not UTC', () => {
    const notes = busyNotes(spans.slice(0, 1), [{ start: new Date('2026-11-23T15:00:00Z'), end: new Date('2026-11-23T16:00:00Z') }], 'Europe/Berlin');
    assert.match(notes, /busy 16:00-17:00 \(working hours 10:00-18:00\)/);
  });

  test('ignore busy time outside the days asked about', () => {
    const notes = busyNotes(spans, [{ start: new Date('2026-11-25T10:00:00Z'), end: new Date('2026-11-25T11:00:00Z') }], 'UTC');
    assert.doesNotMatch(notes, /busy/);
  });

  test('say nothing when there is no working day to offer', () => {
    assert.equal(busyNotes([], [], 'UTC'), '');
  });
});

describe('busy notes from a calendar others can fill', () => {
  const day = spans.slice(0, 1);
  const at = (minutes: number) => new Date(Date.parse('2026-11-23T09:00:00Z') + minutes * 60_000);

  test('thousands of planted invitations make a few lines, not thousands', () => {
    const repeated = Array.from({ length: 5000 }, () => ({ start: at(60), end: at(120) }));
    const tiny = Array.from({ length: 5000 }, (_, index) => ({ start: at(180 + index * 0.05), end: at(180 + index * 0.05 + 0.02) }));
    const notes = busyNotes(day, [...repeated, ...tiny], 'UTC');
    assert.match(notes, /busy 10:00-11:00, 12:00-16:09 \(working hours 09:00-17:00\)/);
    assert.ok(notes.length < 300, `notes are ${notes.length} characters`);
  });

  test('a gap too short to meet in is shown as busy; a longer one stays free', () => {
    const notes = busyNotes(day, [{ start: at(60), end: at(90) }, { start: at(100), end: at(120) }, { start: at(180), end: at(240) }], 'UTC');
    assert.match(notes, /busy 10:00-11:00, 12:00-13:00 /);
  });
});
