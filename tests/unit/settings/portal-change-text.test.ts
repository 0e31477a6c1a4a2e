// Settings changes as a client admin reads them in the portal: named fields, on/off, email types by name.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diffSettings } from '@agent-fleet/kernel/settings-diff';
import { inPlainWords, plainChange } from '../../../orchestrator/src/portal/settings/change-text.ts';
import { FormProblems, validatedDocument } from '../../../orchestrator/src/portal/settings/settings-form.ts';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';

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

  test('a field error names the other field as the portal does, never by its path in the document', () => {
    const parsed = parseClientConfig({ client: 'acme' });
    assert.ok(parsed.ok);
    const document = { ...parsed.config, rateLimits: { perHour: 500, perDay: 100 } };
    const problems = (() => {
      try {
        validatedDocument(document, {});
      } catch (error) {
        if (error instanceof FormProblems) return error;
      }
      throw new Error('expected the form to be refused');
    })();
    assert.equal(JSON.stringify(problems).includes('rateLimits'), false, JSON.stringify(problems));
    assert.match(JSON.stringify(problems), /cannot exceed “Recipients per day”/);
    assert.equal(inPlainWords('must be after workingHours.start'), 'must be after workingHours.start', 'a path the portal does not show stays as it is');
    assert.equal(inPlainWords('"x" is not in autoSendTypes; only'), '"x" is not in “Sent without your approval”; only');
  });
});
