// An invitation is written by whoever sent it. One that is far larger than any meeting (100 000 guests)
// is refused by either calendar adapter rather than downloaded whole into the agent's memory; an ordinary
// event of the same calendar still reads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { googleCalendarUnderTest, graphCalendarUnderTest } from '../../helpers/calendar-adapters-under-test.ts';

const crowd = Array.from({ length: 100_000 }, (_, i) => `guest${i}@crowd.example`);
const start = new Date('2030-03-04T10:00:00Z');
const end = new Date('2030-03-04T11:00:00Z');
const refused = (error: unknown) => error instanceof FleetError && error.code === 'invalid_input' && /larger than/.test(error.message);

describe('calendar adapters and oversized invitations', () => {
  it('Graph: an invitation with 100 000 attendees is refused; a small one reads', async () => {
    const { emulator, calendar } = await graphCalendarUnderTest();
    try {
      const huge = emulator.calendar.addForeignEvent({ organizer: 'stranger@elsewhere.example', subject: 'Everyone', start, end, attendees: crowd });
      const small = emulator.calendar.addForeignEvent({ organizer: 'stranger@elsewhere.example', subject: 'Us', start, end, attendees: [emulator.mailbox] });
      await assert.rejects(calendar.getEvent(huge), refused);
      assert.equal((await calendar.getEvent(small))?.title, 'Us');
    } finally {
      await emulator.stop();
    }
  });

  it('Google: an invitation with 100 000 guests is refused; a small one reads', async () => {
    const { emulator, calendar } = await googleCalendarUnderTest();
    try {
      const huge = emulator.calendar.addForeignEvent({ organizer: 'stranger@elsewhere.example', summary: 'Everyone', start, end, attendees: crowd });
      const small = emulator.calendar.addForeignEvent({ organizer: 'stranger@elsewhere.example', summary: 'Us', start, end });
      await assert.rejects(calendar.getEvent(huge), refused);
      assert.equal((await calendar.getEvent(small))?.title, 'Us');
    } finally {
      await emulator.stop();
    }
  });
});
