// The free slots a scheduling template may propose: the client's own calendar, working hours, the future.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freeSlots } from '../../../agent-image/src/services/mail-loop/free-slots.ts';

const at = (iso: string) => new Date(iso);
const monday = { start: at('2026-11-23T09:00:00Z'), end: at('2026-11-23T17:00:00Z') };
const tuesday = { start: at('2026-11-24T09:00:00Z'), end: at('2026-11-24T17:00:00Z') };

describe('free slots', () => {
  test('hour-long slots on the half hour, around busy time, at most four a day', () => {
    const slots = freeSlots([monday, tuesday], [{ start: at('2026-11-23T10:00:00Z'), end: at('2026-11-23T11:30:00Z') }], at('2026-11-20T18:00:00Z'));
    assert.deepEqual(
      slots.map((slot) => slot.start),
      ['2026-11-23T09:00:00.000Z', '2026-11-23T11:30:00.000Z', '2026-11-23T12:30:00.000Z', '2026-11-23T13:30:00.000Z', '2026-11-24T09:00:00.000Z', '2026-11-24T10:00:00.000Z', '2026-11-24T11:00:00.000Z', '2026-11-24T12:00:00.000Z'],
    );
    for (const slot of slots) assert.equal(Date.parse(slot.end) - Date.parse(slot.start), 3_600_000);
  });

  test('only the future: a day under way starts at the next half hour', () => {
    const slots = freeSlots([{ start: at('2026-11-23T14:10:00Z'), end: monday.end }], [], at('2026-11-23T14:10:00Z'));
    assert.deepEqual(slots.map((slot) => slot.start), ['2026-11-23T14:30:00.000Z', '2026-11-23T15:30:00.000Z']);
  });

  test('a fully busy day offers nothing', () => {
    assert.deepEqual(freeSlots([monday], [{ start: at('2026-11-23T08:00:00Z'), end: at('2026-11-23T18:00:00Z') }], at('2026-11-20T00:00:00Z')), []);
  });
});
