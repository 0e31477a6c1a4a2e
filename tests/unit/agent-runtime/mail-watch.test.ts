import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { MailProvider, MailWatch, WatchTarget } from '../../../agent-image/src/ports/mail-provider.ts';
import type { AuditAppend } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import {
  parseGmailNotification,
  parseGraphNotification,
  parseValidationToken,
  secretMatches,
} from '../../../agent-image/src/services/mail-watch/mail-notification.ts';
import { MailWatchKeeper } from '../../../agent-image/src/services/mail-watch/mail-watch-keeper.ts';
import { pushSettingsFor } from '../../../agent-image/src/services/mail-watch/push-settings.ts';
import {
  DEFAULT_RENEWAL_POLICY,
  GMAIL_RENEWAL_POLICY,
  isExpired,
  isRenewalDue,
  renewalTime,
  watchRetryDelayMs,
} from '../../../agent-image/src/services/mail-watch/renewal-schedule.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-03-02T10:00:00.000Z');
const watchOf = (lifetimeMs: number, kind: MailWatch['kind'] = 'outlook'): MailWatch => ({
  id: 'w1',
  kind,
  createdAt: new Date(T0).toISOString(),
  expiresAt: new Date(T0 + lifetimeMs).toISOString(),
});

describe('when a watch is renewed', () => {
  test('a long watch renews at 80 % of its lifetime', () => {
    assert.equal(renewalTime(watchOf(3 * DAY)).getTime(), T0 + 0.8 * 3 * DAY);
  });

  test('a short watch renews one hour before expiry when that comes before 80 %', () => {
    assert.equal(renewalTime(watchOf(4 * HOUR)).getTime(), T0 + 3 * HOUR);
  });

  test('a Gmail watch of 7 days renews daily, as Google recommends', () => {
    assert.equal(renewalTime(watchOf(7 * DAY, 'gmail'), GMAIL_RENEWAL_POLICY).getTime(), T0 + DAY);
  });

  test('a watch shorter than the margin renews at once', () => {
    assert.equal(renewalTime(watchOf(30 * 60_000)).getTime(), T0);
  });

  test('renewal is due from the renewal time on, not before', () => {
    const watch = watchOf(3 * DAY);
    const at = renewalTime(watch, DEFAULT_RENEWAL_POLICY).getTime();
    assert.equal(isRenewalDue(watch, new Date(at - 1)), false);
    assert.equal(isRenewalDue(watch, new Date(at)), true);
  });

  test('an unreadable date renews at once and counts as expired', () => {
    const broken = { id: 'w', kind: 'gmail' as const, createdAt: 'yesterday', expiresAt: 'soon' };
    assert.equal(isRenewalDue(broken, new Date(T0)), true);
    assert.equal(isExpired(broken, new Date(T0)), true);
  });

  test('expiry is reached at expiresAt', () => {
    const watch = watchOf(HOUR);
    assert.equal(isExpired(watch, new Date(T0 + HOUR - 1)), false);
    assert.equal(isExpired(watch, new Date(T0 + HOUR)), true);
  });

  test('retry backoff doubles per failure within jitter and stops at the cap', () => {
    const options = { baseMs: 1000, maxMs: 8000 };
    assert.equal(watchRetryDelayMs(1, options, () => 1), 1000);
    assert.equal(watchRetryDelayMs(3, options, () => 1), 4000);
    assert.equal(watchRetryDelayMs(3, options, () => 0), 2000);
    assert.equal(watchRetryDelayMs(40, options, () => 1), 8000);
  });
});

describe('push notifications as received', () => {
  const state = 'secret-client-state-0123456789';
  const item = (clientState: string | undefined, extra: Record<string, unknown> = {}) => ({ subscriptionId: 's1', changeType: 'created', clientState, ...extra });

  test('a Graph batch with our clientState is accepted and counts changes and lifecycle events', () => {
    const parsed = parseGraphNotification({ value: [item(state), item(state, { lifecycleEvent: 'missed' })] }, state);
    assert.deepEqual(parsed, { kind: 'outlook', changes: 1, lifecycle: [{ event: 'missed', subscriptionId: 's1' }] });
  });

  test('one forged item refuses the whole Graph batch', () => {
    assert.throws(() => parseGraphNotification({ value: [item(state), item('guess')] }, state), (e: unknown) => e instanceof FleetError && e.code === 'forbidden');
    assert.throws(() => parseGraphNotification({ value: [item(undefined)] }, state), (e: unknown) => e instanceof FleetError && e.code === 'unauthorized');
  });

  test('a malformed Graph body is invalid input naming the problem', () => {
    assert.throws(() => parseGraphNotification({ value: [] }, state), (e: unknown) => e instanceof FleetError && e.code === 'invalid_input' && /value/.test(e.message));
    assert.throws(() => parseGraphNotification({ value: [item(state, { lifecycleEvent: 'explode' })] }, state), /lifecycleEvent/);
  });

  test('a Pub/Sub push needs the push token before its body is even read', () => {
    const data = Buffer.from(JSON.stringify({ emailAddress: 'a@b.example', historyId: 1234 })).toString('base64');
    const body = { message: { data, messageId: '1' }, subscription: 'projects/p/subscriptions/s' };
    assert.deepEqual(parseGmailNotification(body, 'tok-123', 'tok-123'), { kind: 'gmail', historyId: '1234' });
    assert.throws(() => parseGmailNotification(body, null, 'tok-123'), (e: unknown) => e instanceof FleetError && e.code === 'unauthorized');
    assert.throws(() => parseGmailNotification('garbage', 'tok-124', 'tok-123'), (e: unknown) => e instanceof FleetError && e.code === 'forbidden');
    const bad = { message: { data: Buffer.from('not json').toString('base64') } };
    assert.throws(() => parseGmailNotification(bad, 'tok-123', 'tok-123'), (e: unknown) => e instanceof FleetError && e.code === 'invalid_input');
  });

  test('secrets compare equal only when identical, and never when empty', () => {
    assert.equal(secretMatches('abc', 'abc'), true);
    assert.equal(secretMatches('abd', 'abc'), false);
    assert.equal(secretMatches('', ''), false);
    assert.equal(secretMatches(undefined, 'abc'), false);
  });

  test('a validation token is echoed only when short and printable', () => {
    assert.equal(parseValidationToken('Validation: Testing 123'), 'Validation: Testing 123');
    assert.throws(() => parseValidationToken('<script>\n'), /printable/);
    assert.throws(() => parseValidationToken('x'.repeat(1025)), /1-1024/);
    assert.throws(() => parseValidationToken(['a', 'b']), /validationToken/);
  });
});

describe('push configuration', () => {
  const base = { client: 'acme', mailbox: 'agent@acme.example' };

  test('push is off by default and on for the provider whose target is configured', () => {
    const plain = parseClientConfig(base);
    assert.ok(plain.ok);
    assert.equal(pushSettingsFor(plain.config, 'gmail'), null);
    const withTopic = parseClientConfig({ ...base, push: { gmailTopic: 'projects/acme-mail/topics/inbox' } });
    assert.ok(withTopic.ok);
    assert.deepEqual(pushSettingsFor(withTopic.config, 'gmail')?.target('x'), { kind: 'gmail', topicName: 'projects/acme-mail/topics/inbox' });
    assert.equal(pushSettingsFor(withTopic.config, 'outlook'), null);
  });

  test('a Graph target carries the clientState and stays under the 10080-minute maximum', () => {
    const parsed = parseClientConfig({ ...base, provider: 'outlook', push: { notificationUrl: 'https://agent.acme.example/v1/mail-notifications' } });
    assert.ok(parsed.ok);
    const target = pushSettingsFor(parsed.config, 'outlook')?.target('state');
    assert.equal(target?.kind, 'outlook');
    if (target?.kind !== 'outlook') return;
    assert.equal(target.clientState, 'state');
    assert.equal(target.lifecycleNotificationUrl, 'https://agent.acme.example/v1/mail-notifications');
    assert.ok(target.lifetimeMinutes < 10_080);
  });

  test('a bad topic or a plain-http public URL is refused naming the field', () => {
    const topic = parseClientConfig({ ...base, push: { gmailTopic: 'my-topic' } });
    assert.ok(!topic.ok && topic.issues.some((issue) => issue.startsWith('push.gmailTopic')));
    const url = parseClientConfig({ ...base, push: { notificationUrl: 'http://agent.acme.example/hook' } });
    assert.ok(!url.ok && url.issues.some((issue) => issue.startsWith('push.notificationUrl') && /https/.test(issue)));
  });
});

/** An in-memory provider side of the watch calls, with a switch to make them fail. */
function fakeWatchProvider() {
  const state = { active: new Map<string, number>(), failing: false, next: 1, clock: T0, calls: 0 };
  const provider = {
    async watch(_target: WatchTarget): Promise<MailWatch> {
      state.calls++;
      if (state.failing) throw new FleetError('unavailable', 'down', { retryable: true });
      const id = `sub-${state.next++}`;
      state.active.set(id, state.clock + 3 * DAY);
      return { id, kind: 'outlook', createdAt: new Date(state.clock).toISOString(), expiresAt: new Date(state.clock + 3 * DAY).toISOString() };
    },
    async renewWatch(watch: MailWatch): Promise<MailWatch> {
      state.calls++;
      if (state.failing) throw new FleetError('unavailable', 'down', { retryable: true });
      if (!state.active.has(watch.id)) throw new FleetError('not_found', 'gone');
      state.active.set(watch.id, state.clock + 3 * DAY);
      return { ...watch, createdAt: new Date(state.clock).toISOString(), expiresAt: new Date(state.clock + 3 * DAY).toISOString() };
    },
    async unwatch(watch: MailWatch): Promise<void> {
      state.active.delete(watch.id);
    },
  };
  return { state, provider: provider as unknown as MailProvider };
}

function keeperWith(fake: ReturnType<typeof fakeWatchProvider>) {
  const parsed = parseClientConfig({ client: 'acme', provider: 'outlook', push: { notificationUrl: 'https://agent.acme.example/n' } });
  assert.ok(parsed.ok);
  const settings = pushSettingsFor(parsed.config, 'outlook');
  assert.ok(settings !== null);
  const stored: { value: string | null } = { value: null };
  const audit: AuditAppend[] = [];
  const keeper = new MailWatchKeeper({
    provider: fake.provider,
    settings,
    store: { load: async () => stored.value, save: async (value) => void (stored.value = value) },
    audit: async (entry) => void audit.push(entry),
    logger: createSilentLogger(),
    now: () => new Date(fake.state.clock),
    backoff: { baseMs: 60_000, maxMs: HOUR },
  });
  return { keeper, stored, audit };
}

describe('the watch keeper', () => {
  test('watches once, renews only when due, and keeps the secret out of the audit', async () => {
    const fake = fakeWatchProvider();
    const { keeper, stored, audit } = keeperWith(fake);
    await keeper.ensure();
    await keeper.ensure();
    assert.deepEqual([...fake.state.active.keys()], ['sub-1']);
    const token = keeper.token;
    assert.ok(token !== null && token.length >= 32);
    assert.ok(stored.value?.includes(token));
    fake.state.clock += 2.5 * DAY;
    await keeper.ensure();
    assert.equal(fake.state.active.get('sub-1'), fake.state.clock + 3 * DAY);
    assert.deepEqual(audit.map((entry) => `${entry.action_type}:${entry.result}`), ['mail_watch:success', 'mail_watch_renew:success']);
    assert.ok(!JSON.stringify(audit).includes(token));
  });

  test('a failed watch is audited, retried only after the backoff, and never throws', async () => {
    const fake = fakeWatchProvider();
    const { keeper, audit } = keeperWith(fake);
    fake.state.failing = true;
    await keeper.ensure();
    fake.state.failing = false;
    await keeper.ensure();
    assert.equal(fake.state.active.size, 0, 'still backing off');
    fake.state.clock += HOUR;
    await keeper.ensure();
    assert.equal(fake.state.active.size, 1);
    assert.deepEqual(audit.map((entry) => `${entry.action_type}:${entry.result}`), ['mail_watch:failure', 'mail_watch:success']);
  });

  test('a watch the provider dropped is re-created when reauthorisation renews it', async () => {
    const fake = fakeWatchProvider();
    const { keeper } = keeperWith(fake);
    await keeper.ensure();
    fake.state.active.clear();
    fake.state.clock += HOUR;
    await keeper.lifecycle('reauthorizationRequired', 'sub-1');
    assert.deepEqual([...fake.state.active.keys()], ['sub-2']);
    assert.equal(keeper.current?.id, 'sub-2');
  });

  test('a stored watch is renewed when a keeper starts, so one gone at the provider is replaced at once', async () => {
    const fake = fakeWatchProvider();
    const first = keeperWith(fake);
    await first.keeper.ensure();
    // The kill's unwatch reached the provider but its record never reached Vault (token revoked, SIGKILL).
    fake.state.active.clear();
    const revived = keeperWith(fake);
    revived.stored.value = first.stored.value;
    fake.state.clock += HOUR;
    await revived.keeper.ensure();
    assert.deepEqual([...fake.state.active.keys()], ['sub-2'], 'push works again without waiting days for the renewal time');
    await revived.keeper.ensure();
    assert.equal(fake.state.calls, 3, 'the check is made once per keeper, not at every ensure');
  });

  test('a failed re-create after subscriptionRemoved is retried after the backoff', async () => {
    const fake = fakeWatchProvider();
    const { keeper } = keeperWith(fake);
    await keeper.ensure();
    fake.state.active.delete('sub-1');
    fake.state.failing = true;
    await keeper.lifecycle('subscriptionRemoved', 'sub-1');
    const currentId = () => keeper.current?.id ?? null;
    assert.equal(currentId(), null, 'the removed watch is not reported as active');
    fake.state.failing = false;
    fake.state.clock += HOUR;
    await keeper.ensure();
    assert.deepEqual([...fake.state.active.keys()], ['sub-2']);
    assert.equal(currentId(), 'sub-2');
  });

  test('a flood of replayed lifecycle events costs at most one provider call, and none within the backoff', async () => {
    const fake = fakeWatchProvider();
    const { keeper, audit } = keeperWith(fake);
    await keeper.ensure();
    fake.state.clock += DAY;
    const replay = (event: 'reauthorizationRequired' | 'subscriptionRemoved', id: string, times: number) =>
      Promise.all(Array.from({ length: times }, () => keeper.lifecycle(event, id)));
    await replay('reauthorizationRequired', 'sub-1', 50);
    await replay('reauthorizationRequired', 'sub-1', 50);
    assert.equal(fake.state.calls, 2, 'one watch, one renewal');
    await replay('subscriptionRemoved', 'sub-1', 50);
    await replay('subscriptionRemoved', 'sub-1', 50);
    assert.equal(fake.state.calls, 3, 'one re-create; replays about the old watch change nothing');
    fake.state.clock += DAY;
    fake.state.failing = true;
    await replay('reauthorizationRequired', 'sub-2', 50);
    await replay('reauthorizationRequired', 'sub-2', 50);
    assert.equal(fake.state.calls, 4, 'a failure backs off the forced renewals too');
    assert.equal(audit.length, 4);
  });

  test('a lifecycle event about another watch, or a missed one, calls nothing', async () => {
    const fake = fakeWatchProvider();
    const { keeper } = keeperWith(fake);
    await keeper.ensure();
    fake.state.clock += DAY;
    await keeper.lifecycle('subscriptionRemoved', 'sub-old');
    await keeper.lifecycle('reauthorizationRequired', 'sub-old');
    await keeper.lifecycle('missed', 'sub-1');
    assert.equal(fake.state.calls, 1);
    assert.equal(keeper.current?.id, 'sub-1');
  });

  test('a restarted keeper renews the stored watch instead of making a second one', async () => {
    const fake = fakeWatchProvider();
    const first = keeperWith(fake);
    await first.keeper.ensure();
    const second = keeperWith(fake);
    second.stored.value = first.stored.value;
    fake.state.clock += 2.5 * DAY;
    await second.keeper.ensure();
    assert.deepEqual([...fake.state.active.keys()], ['sub-1']);
    assert.equal(second.keeper.token, first.keeper.token);
  });

  test('stop unwatches, is audited, and nothing is watched afterwards', async () => {
    const fake = fakeWatchProvider();
    const { keeper, audit } = keeperWith(fake);
    await keeper.ensure();
    await keeper.stop('kill');
    await keeper.ensure();
    assert.equal(fake.state.active.size, 0);
    assert.equal(keeper.current, null);
    assert.deepEqual(audit.at(-1)?.parameters['reason'], 'kill');
    assert.equal(audit.at(-1)?.action_type, 'mail_unwatch');
  });
});
