// A client config with thousands of problems: each used to become a line of the error, and a map of
// 30 000 unknown keys one line naming them all, so one bad document made an error of megabytes that the
// CLI printed and the API and the logs carried whole. The first problems are listed, then a count.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { parseClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';

void test('thousands of bad entries give the first 25 problems by field and a count of the rest', () => {
  const result = parseClientConfig({ client: 'acme', blockList: Array.from({ length: 10_000 }, (_, index) => `-bad${index}.example`) });
  assert.ok(!result.ok);
  assert.equal(result.issues.length, 26);
  assert.match(result.issues[0] ?? '', /^blockList\.0: must be an address/);
  assert.match(result.issues[24] ?? '', /^blockList\.24: /);
  assert.equal(result.issues[25], '… and 9975 more problems of the same kinds');
  assert.ok(result.issues.join('\n').length < 20_000, 'bounded');
});

void test('a map of thousands of unknown keys names the first ten and counts the rest', () => {
  const yaml = `client: acme\npermissions:\n${Array.from({ length: 5000 }, (_, index) => `  mail.sned${index}: true`).join('\n')}\n`;
  assert.throws(
    () => parseClientConfigYaml(yaml, 'config.yaml'),
    (error: Error) => {
      assert.match(error.message, /permissions: Unrecognized keys: "mail\.sned0", "mail\.sned1", .*"mail\.sned9" and 4990 more$/m);
      assert.ok(error.message.length < 2000, `${error.message.length} characters`);
      return true;
    },
  );
  const one = parseClientConfig({ client: 'acme', rateLimits: { perHuor: 40 } });
  assert.deepEqual(one.ok ? [] : one.issues, ['rateLimits: Unrecognized key: "perHuor"']);
});

void test('a very long problem line is cut after its field, and a very long unknown key is shortened', () => {
  const admins = Array.from({ length: 50 }, (_, index) => `admin-${'x'.repeat(40)}-${index % 25}@example.com`);
  const repeated = parseClientConfig({ client: 'acme', admins });
  assert.ok(!repeated.ok);
  assert.match(repeated.issues[0] ?? '', /^admins: must not repeat an admin \(repeated: admin-x{40}-0@example\.com, /);
  assert.equal(repeated.issues[0]?.length, 501);
  assert.ok(repeated.issues[0]?.endsWith('…'));
  const long = parseClientConfig({ client: 'acme', [`x${'y'.repeat(5000)}`]: 1 });
  assert.deepEqual(long.ok ? [] : long.issues, [`(root): Unrecognized key: "x${'y'.repeat(59)}…"`]);
});
