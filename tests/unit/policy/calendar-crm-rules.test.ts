// The pure rules behind calendar events and CRM notes: one decision for a confirmation and its event,
// companions of an approval, the slot a confirmation agrees to, the event it proposes, the note's text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseClientConfig, type ClientConfig } from '@agent-fleet/kernel/client-config';
import { approve, approveEdited, authorizesExecution, companionApproval, createApproval, reject } from '../../../agent-image/src/domain/approval.ts';
import { crmNoteSummary } from '../../../agent-image/src/domain/crm-note-summary.ts';
import { bundleDecision } from '../../../agent-image/src/domain/policy/bundle-decision.ts';
import type { PolicyDecision } from '../../../agent-image/src/domain/policy/decision.ts';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { emptyPolicyState } from '../../../agent-image/src/domain/policy/policy-state.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import { confirmedSlot, schedulingEventInput } from '../../../agent-image/src/domain/scheduling/confirmed-slot.ts';
import { zonedIso } from '../../../agent-image/src/domain/zoned-time.ts';
import { RotatedRefreshToken } from '../../../agent-image/src/adapters/rotated-refresh-token.ts';

const NOW = new Date('2026-06-01T08:00:00Z');
const allow: PolicyDecision = { decision: 'allow', reasons: ['auto_send'], facts: { recipients: 1, newContacts: 0, newDomains: 0 } };
const hold = (reason: 'new_contact' | 'onboarding'): PolicyDecision => ({ decision: 'needs_approval', reasons: [reason], details: [reason] });

function config(): ClientConfig {
  const parsed = parseClientConfig({ client: 'acme', mailbox: 'me@acme.example', timezone: 'Europe/Berlin', permissions: { 'calendar.write': true, 'mail.send': true } });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

const slot = { start: '2026-06-02T08:00:00.000Z', end: '2026-06-02T09:00:00.000Z' };
const facts = { originalSubject: 'Interview', nameSources: ['Dana Reyes', null], freeSlots: [slot] };
const confirmation = (proposedTime: string, type = 'scheduling_confirmation', templateId = 'scheduling-confirmation') => ({
  choice: { type, templateId, slots: { correspondentName: 'Dana', proposedTime } },
  facts,
});

describe('one decision for a confirmation and its event', () => {
  it('runs both only when both are allowed, and holds both in one approval listing every reason', () => {
    assert.equal(bundleDecision(allow, [allow]).decision, 'allow');
    const held = bundleDecision(hold('onboarding'), [hold('new_contact')]);
    assert.equal(held.decision, 'needs_approval');
    assert.deepEqual(held.reasons, ['onboarding', 'new_contact']);
    assert.deepEqual(bundleDecision(allow, [hold('new_contact')]).reasons, ['new_contact'], 'the event alone holds the email too');
  });

  it('refuses both when either is denied; a rate limit keeps both waiting', () => {
    const denied: PolicyDecision = { decision: 'deny', reasons: ['permission_denied'] };
    const limited: PolicyDecision = { decision: 'deny', reasons: ['rate_limit_hour'], retryable: true, pauseSending: true };
    assert.deepEqual(bundleDecision(allow, [denied]).reasons, ['permission_denied']);
    assert.deepEqual(bundleDecision(hold('new_contact'), [limited]).reasons, ['rate_limit_hour']);
    assert.equal(bundleDecision(allow, [limited]).retryable, true);
    assert.deepEqual(bundleDecision(limited, [denied]).reasons, ['permission_denied'], 'a final denial wins over a retryable one');
  });
});

describe('approval companions', () => {
  const send = { kind: 'mail.send', to: ['dana@newco.example'], subject: 'Re: Interview', body: 'I confirm.' };
  const event = { kind: 'calendar.write', operation: 'create', title: 'Meeting', start: '2026-06-02T10:00:00+02:00', participants: ['dana@newco.example'] };
  const created = createApproval({ id: 'ap-1', actionKind: 'mail.send', arguments: send, companions: [event], now: NOW, timeoutHours: 72 });
  assert.ok(created.ok);
  const record = created.record;
  const by = { by: 'boss', via: 'orchestrator-api', now: NOW };

  it('approving the record authorises its companion as proposed, and nothing else', () => {
    const approved = approve(record, by);
    assert.ok(approved.ok);
    const covered = companionApproval(approved.record, 0);
    assert.ok(covered);
    assert.deepEqual(authorizesExecution(covered, event, NOW), { ok: true });
    assert.deepEqual(authorizesExecution(covered, { ...event, participants: ['eve@evil.example'] }, NOW), { ok: false, reason: 'hash_mismatch' });
    assert.equal(companionApproval(approved.record, 1), undefined);
  });

  it('a pending or rejected record covers no companion; an edited email keeps its event as shown', () => {
    assert.equal(companionApproval(record, 0), undefined);
    const rejected = reject(record, { ...by, reason: 'no' });
    assert.ok(rejected.ok);
    assert.equal(companionApproval(rejected.record, 0), undefined);
    const edited = approveEdited(record, { ...by, arguments: { ...send, body: 'I confirm, see you then.' } });
    assert.ok(edited.ok);
    assert.deepEqual(authorizesExecution(companionApproval(edited.record, 0)!, event, NOW), { ok: true });
  });

  it('the gate allows the companion under the approval despite its new contact', () => {
    const parsed = parseProposedAction(event);
    assert.ok(parsed.ok);
    const state = { ...emptyPolicyState(), killed: false };
    const onboarded = { ...config(), onboarding: { startedAt: '2025-01-01T00:00:00Z', days: 28 } };
    assert.equal(evaluatePolicy(event, onboarded, state, NOW).decision, 'needs_approval');
    const approved = approve(record, by);
    assert.ok(approved.ok);
    assert.equal(evaluatePolicy(event, onboarded, state, NOW, { approval: companionApproval(approved.record, 0)! }).decision, 'allow');
  });
});

describe('the slot a scheduling confirmation agrees to', () => {
  it('is the validated proposedTime of a scheduling_confirmation template, and nothing else', () => {
    assert.deepEqual(confirmedSlot(confirmation(slot.start), config(), NOW), slot);
    assert.equal(confirmedSlot(confirmation('2026-06-02T09:30:00Z'), config(), NOW), null, 'not one of the free slots');
    assert.equal(confirmedSlot(confirmation(slot.start, 'acknowledgement', 'acknowledgement'), config(), NOW), null);
    assert.equal(confirmedSlot(confirmation(slot.start), config(), new Date('2026-06-03T00:00:00Z')), null, 'a slot in the past');
  });

  it('proposes a neutral event in the client’s zone with the sender and the client as attendees', () => {
    const input = schedulingEventInput({ slot, sender: 'dana@newco.example', mailbox: 'me@acme.example', clientName: 'Acme', nameSources: facts.nameSources, timeZone: 'Europe/Berlin' });
    assert.deepEqual(input, {
      kind: 'calendar.write',
      operation: 'create',
      title: 'Meeting: Acme and Dana Reyes',
      start: '2026-06-02T10:00:00+02:00',
      end: '2026-06-02T11:00:00+02:00',
      participants: ['dana@newco.example', 'me@acme.example'],
    });
    assert.ok(parseProposedAction(input).ok);
  });

  it('writes instants with the zone’s offset, summer and winter', () => {
    assert.equal(zonedIso(new Date('2026-01-15T09:30:00Z'), 'Europe/Berlin'), '2026-01-15T10:30:00+01:00');
    assert.equal(zonedIso(new Date('2026-07-15T09:30:00Z'), 'America/New_York'), '2026-07-15T05:30:00-04:00');
    assert.equal(zonedIso(new Date('2026-07-15T09:30:00Z'), 'Asia/Kolkata'), '2026-07-15T15:00:00+05:30');
    assert.equal(zonedIso(new Date('2026-07-15T09:30:00Z'), 'UTC'), '2026-07-15T09:30:00+00:00');
  });
});

describe('the CRM note of a sent email', () => {
  it('says type, subject, date and content hash, never the body', () => {
    const text = crmNoteSummary({ emailType: 'scheduling_confirmation', subject: 'Re: Interview\r\nBcc: x', sentAt: NOW, contentHash: 'abc123' });
    assert.equal(text, 'The AI assistant sent an email (scheduling confirmation) on 2026-06-01T08:00:00.000Z.\nSubject: Re: Interview Bcc: x\nContent hash: abc123');
  });
});

describe('a rotated refresh token', () => {
  it('is stored at once, and kept to store again when the store refused it', async () => {
    const stored: string[] = [];
    let refuse = true;
    const rotation = new RotatedRefreshToken(async (token) => {
      if (refuse) throw new Error('vault down');
      stored.push(token);
    }, 'test refresh token');
    await assert.rejects(rotation.rotated('rt-2'), /could not store the rotated test refresh token/);
    refuse = false;
    await rotation.flush();
    await rotation.flush();
    assert.deepEqual(stored, ['rt-2'], 'stored once, after the store came back');
  });
});
