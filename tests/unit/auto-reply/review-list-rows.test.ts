// What ops see in `fleet review list`: one row per parked message, whatever the agent's answer holds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatReviewQueue } from '../../../orchestrator/src/cli/format/review.ts';
import { terminalSafe } from '../../../orchestrator/src/cli/terminal-text.ts';

const NOW = new Date('2026-03-02T10:00:00.000Z');

/** The text as the CLI prints it in human form (CliContext.print). */
const printed = (text: string): string => terminalSafe(text);

describe('fleet review list rows', () => {
  test('a line break or tab in a message id or reason stays inside its row, shown as an escape', () => {
    const entries = [
      { messageId: 'm-1\nlow_confidence      1m        m-forged', reason: 'low_confidence', since: '2026-03-02T09:00:00.000Z', retriedFrom: null },
      { messageId: 'm-2', reason: 'unusable\u2028draft\tx', since: '2026-03-02T09:30:00.000Z', retriedFrom: null },
    ];
    const lines = printed(formatReviewQueue('acme', entries, NOW)).split('\n');
    assert.equal(lines.length, entries.length + 3, 'a header, one row per entry, the count, what to do next');
    assert.ok(!lines.some((line) => line.endsWith('m-forged') && !line.includes('m-1')), 'no row of its own for the forged entry');
    assert.ok(lines[1]?.includes('m-1\\u000alow_confidence'));
    assert.ok(lines[2]?.startsWith('unusable\\u2028draft\\u0009x'));
  });
});
