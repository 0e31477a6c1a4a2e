import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { isPubSubTopicName } from '@agent-fleet/kernel/pubsub-topic';

test('a push topic Google reserves ("goog…") is refused by the config, not by every watch renewal', () => {
  const config = (gmailTopic: string) => parseClientConfig({ client: 'acme', provider: 'gmail', mailbox: 'dana@acme.example', push: { gmailTopic } });
  assert.equal(config('projects/acme-mail/topics/gmail-inbox').ok, true);
  assert.equal(config('projects/acme-mail/topics/google-inbox').ok, false);
  assert.equal(isPubSubTopicName('projects/acme-mail/topics/googinbox'), false);
  assert.equal(isPubSubTopicName('projects/acme-mail/topics/inbox-goog'), true);
});

test('Gmail push names the mailbox it is about, and a push identity only comes with a Gmail topic', () => {
  const gmailTopic = 'projects/acme-mail/topics/gmail-inbox';
  const gmailPushOidc = { serviceAccount: 'push@acme-mail.iam.gserviceaccount.com', audience: 'https://agents.acme.example/push' };
  const issues = (fields: Record<string, unknown>) => {
    const parsed = parseClientConfig({ client: 'acme', provider: 'gmail', ...fields });
    return parsed.ok ? [] : parsed.issues;
  };
  assert.deepEqual(issues({ mailbox: 'dana@acme.example', push: { gmailTopic, gmailPushOidc } }), []);
  assert.match(issues({ push: { gmailTopic } }).join('\n'), /mailbox.*is needed with push\.gmailTopic/);
  assert.match(issues({ mailbox: 'dana@acme.example', push: { gmailPushOidc } }).join('\n'), /gmailPushOidc.*needs push\.gmailTopic/);
  assert.notDeepEqual(issues({ mailbox: 'dana@acme.example', push: { gmailTopic, gmailPushOidc: { ...gmailPushOidc, serviceAccount: 'not an address' } } }), []);
  assert.notDeepEqual(issues({ mailbox: 'dana@acme.example', push: { gmailTopic, gmailPushOidc: { ...gmailPushOidc, extra: true } } }), []);
});
