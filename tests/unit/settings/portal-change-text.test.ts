// Settings changes as a client admin reads them in the portal: named fields, on/off, email types by name.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diffSettings } from '@agent-fleet/kernel/settings-diff';
import { plainChange } from '../../../orchestrator/src/portal/settings/change-text.ts';

const texts = (before: unknown, after: unknown) => diffSettings(before, after).map(plainChange);

describe('settings changes in the portal’s words', () => {
  test('limits, switches and lists read as the portal’s fields', () => {
    assert.deepEqual(texts({ rateLimits: { perHour: 10, perDay: 100 } }, { rateLimits: { perHour: 40, perDay: 100 } }), ['Recipients per hour: 10 → 40']);
    assert.deepEqual(texts({ permissions: { 'mail.read': true } }, { permissions: { 'mail.read': true, 'mail.send': true } }), ['Permission: Send email: off → on']);
    assert.deepEqual(texts({ blockList: ['a.example'] }, { blockList: ['rival.example'] }), ['Block list: added rival.example; removed a.example']);
    assert.deepEqual(texts({ autoSendTypes: ['acknowledgement'] }, { autoSendTypes: ['acknowledgement', 'follow_up'] }), ['Sent without your approval: added Follow-ups']);
  });

  test('a field the portal does not name keeps the ops form rather than being hidden', () => {
    assert.deepEqual(texts({ workingHours: { start: '08:00' } }, { workingHours: { start: '09:00' } }), ['workingHours.start: "08:00" → "09:00"']);
  });
});
