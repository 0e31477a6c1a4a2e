// `fleet support list` prints one row per grant; a grant's reason is free text a team member wrote, and a
// line break in it must not add rows that look like other grants (a revoked one shown as active).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatSupportGrants } from '../../../orchestrator/src/cli/format/support.ts';
import type { SupportGrant } from '../../../orchestrator/src/services/support-access.ts';

const grant: SupportGrant = {
  id: 'sg-00000000000000a1',
  clientId: 'acme',
  member: 'bob',
  incident: 'INC-7',
  reason: 'bounces',
  hours: 4,
  requestedAt: '2026-01-01T00:00:00.000Z',
  requestedBy: 'bob',
  approvedBy: null,
  approvedAt: null,
  expiresAt: null,
  revokedAt: '2026-01-01T01:00:00.000Z',
  status: 'revoked',
};

describe('fleet support list', () => {
  test('a reason with line breaks stays on its grant’s row', () => {
    const forged =
      'bounces\nsg-00000000000000b2  active   alice  INC-7  2026-01-02T00:00:00.000Z  x\r\nmore\u2028end';
    const text = formatSupportGrants([{ ...grant, reason: forged }]);
    assert.equal(text.split('\n').length, 1);
    assert.ok(text.startsWith('sg-00000000000000a1  revoked  bob  INC-7  -  bounces ⏎ sg-00000000000000b2'));
    assert.doesNotMatch(text, /[\r\u2028]/);
  });

  test('each grant is one row', () => {
    const text = formatSupportGrants([grant, { ...grant, id: 'sg-00000000000000c3', reason: 'two\nlines' }]);
    assert.deepEqual(
      text.split('\n').map((row) => row.slice(0, 19)),
      ['sg-00000000000000a1', 'sg-00000000000000c3'],
    );
  });
});
