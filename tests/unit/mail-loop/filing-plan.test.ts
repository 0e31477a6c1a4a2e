import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientConfig, type ClientConfig, type ClientConfigInput } from '@agent-fleet/kernel/client-config';
import { compilePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { emptyPolicyState } from '../../../agent-image/src/domain/policy/policy-state.ts';
import { filingPlan, labelFor } from '../../../agent-image/src/services/mail-loop/message-filing.ts';

function config(overrides: Partial<ClientConfigInput> = {}): ClientConfig {
  const parsed = parseClientConfig({ client: 'acme', ...overrides });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

describe('the filing plan of a classified message', () => {
  test('by default a message is only labelled with its category, so the human still sees everything', () => {
    const plan = filingPlan(config(), 'm-1', 'scheduling');
    assert.deepEqual(plan.map((step) => step.operation), ['label']);
    assert.equal(plan[0]?.label, 'AgentFleet/scheduling');
    assert.deepEqual(plan[0]?.action, { kind: 'mail.label', messageIds: ['m-1'], add: ['AgentFleet/scheduling'], remove: [] });
  });

  test('the label prefix comes from the config', () => {
    assert.equal(labelFor(config({ triage: { labelPrefix: 'Assistant' } }), 'routine'), 'Assistant/routine');
  });

  test('without mail.label nothing is labelled', () => {
    assert.deepEqual(filingPlan(config({ permissions: { 'mail.read': true } }), 'm-1', 'routine'), []);
  });

  test('mark read and archive apply only to the configured types', () => {
    const filing = config({ triage: { markReadTypes: ['newsletter', 'spam'], archiveTypes: ['spam'] } });
    assert.deepEqual(filingPlan(filing, 'm-1', 'spam').map((step) => step.operation), ['label', 'mark_read', 'archive']);
    assert.deepEqual(filingPlan(filing, 'm-1', 'newsletter').map((step) => step.operation), ['label', 'mark_read']);
    assert.deepEqual(filingPlan(filing, 'm-1', 'question').map((step) => step.operation), ['label']);
  });

  test('the gate allows a label under mail.label and refuses an archive without mail.move', () => {
    const filing = config({ triage: { archiveTypes: ['spam'] } });
    const gate = compilePolicy(filing);
    const [label, archive] = filingPlan(filing, 'm-1', 'spam');
    assert.equal(gate.evaluateParsed(label!.action, emptyPolicyState(), new Date()).decision, 'allow');
    assert.deepEqual(gate.evaluateParsed(archive!.action, emptyPolicyState(), new Date()).reasons, ['permission_denied']);
  });

  test('a bad triage block names its field', () => {
    const parsed = parseClientConfig({ client: 'acme', triage: { labelPrefix: '../x', archiveTypes: ['junk'] } });
    assert.equal(parsed.ok, false);
    const issues = parsed.ok ? [] : parsed.issues;
    assert.ok(issues.some((issue) => issue.startsWith('triage.labelPrefix:')), issues.join('\n'));
    assert.ok(issues.some((issue) => issue.startsWith('triage.archiveTypes.0:')), issues.join('\n'));
  });
});
