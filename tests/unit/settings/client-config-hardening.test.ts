// Client config YAML that used to be read as something other than what it says: a second document dropped,
// nested typos ignored, a map of many keys taking minutes, time zones no calendar provider takes, names and
// notes with control, bidirectional-override or invisible characters, a working day listed twice, push URLs
// carrying user:pass@; block-list domains no address can have, lists naming an entry twice, a client id
// the command line refuses, an onboarding year typo, `permissions: { __proto__: … }`, `%YAML 1.1`.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LineCounter, parseDocument } from 'yaml';
import { FREE_TEXT_AUTO_SEND_RISK, parseClientConfig } from '@agent-fleet/kernel/client-config';
import { checkUniqueKeys, parseClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { isTimeZone } from '@agent-fleet/kernel/time-zone';

/** The message of the invalid_input FleetError `yaml` is refused with. */
function refusal(yaml: string): string {
  try {
    parseClientConfigYaml(yaml, 'config.yaml');
  } catch (error) {
    assert.ok(isFleetError(error) && error.code === 'invalid_input', String(error));
    return error.message;
  }
  assert.fail(`accepted:\n${yaml}`);
}

describe('client config YAML is one document, read in linear time', () => {
  test('a second document after "---" is refused, not silently dropped', () => {
    assert.match(refusal('client: acme\ndryRun: false\n---\nclient: acme\ndryRun: true\n'), /config\.yaml: not valid YAML: .*2 YAML documents/);
    assert.match(refusal('client: acme\n---\n'), /2 YAML documents/);
    assert.equal(parseClientConfigYaml('---\nclient: acme\n...\n').client, 'acme', 'one document with its markers is fine');
  });

  test('a key repeated as another type of scalar ("1" and 1) is a repeated key too', () => {
    // Our message, not the library's "Map keys must be unique": the library's own check, which compares every
    // key with every other (about 30 s on a 1 MiB map of distinct keys), stays off.
    assert.match(refusal('client: acme\npermissions: { 1: true, "1": false }\n'), /map keys must be unique: "1" appears twice \(lines 2 and 2\)/);
    assert.match(refusal('client: acme\nrateLimits:\n  perHour: 5\n  perHour: 50\n'), /map keys must be unique: "perHour" appears twice \(lines 3 and 4\)/);
  });

  test('the repeated-key check takes a bounded number of steps per key, not one per pair of keys', () => {
    const stepsFor = (keyCount: number) => {
      const text = `client: acme\npermissions: { ${Array.from({ length: keyCount }, (_, index) => `k${index}: true`).join(', ')} }\n`;
      const lines = new LineCounter();
      const document = parseDocument(text, { uniqueKeys: false, lineCounter: lines });
      let steps = 0;
      checkUniqueKeys(document.contents, lines, () => void steps++);
      return steps;
    };
    const small = stepsFor(1_000);
    const large = stepsFor(2_000);
    assert.ok(small <= 4 * 1_002, `${small} steps for 1,002 keys`);
    assert.ok(large - small <= 4 * 1_000, `1,000 more keys took ${large - small} more steps`);
  });

  test('a map of many distinct keys is refused for its unknown keys', () => {
    // Just under 1 MiB, the most a config may be.
    const keys = Array.from({ length: 60_000 }, (_, index) => `k${index}: true`).join(', ');
    assert.match(refusal(`client: acme\npermissions: { ${keys} }\n`), /permissions: Unrecognized keys/);
  });
});

describe('client config fields', () => {
  test('an unknown key inside a section is refused by its path, not ignored in favour of the default', () => {
    const cases: Array<[string, RegExp]> = [
      ['rateLimits: { perHuor: 5 }', /rateLimits: Unrecognized key: "perHuor"/],
      ['workingHours: { strat: "09:00" }', /workingHours: Unrecognized key: "strat"/],
      ['onboarding: { dayz: 3 }', /onboarding: Unrecognized key: "dayz"/],
      ['dailySummary: { enable: false }', /dailySummary: Unrecognized key: "enable"/],
      ['rateLimits: { __proto__: { perHour: 5 } }', /rateLimits: Unrecognized key: "__proto__"/],
    ];
    for (const [line, reason] of cases) assert.match(refusal(`client: acme\n${line}\n`), reason, line);
    const parsed = parseClientConfig({ client: 'acme', rateLimits: { perHour: 5, perDay: 50 }, workingHours: { start: '09:00' } });
    assert.ok(parsed.ok && parsed.config.rateLimits.perHour === 5 && parsed.config.workingHours.end === '18:00', 'known keys still take defaults');
  });

  test('a time zone must be an IANA name as spelt in the tz database, not an offset or another case', () => {
    for (const zone of ['Europe/London', 'UTC', 'Etc/UTC', 'US/Eastern', 'Asia/Kolkata', 'Etc/GMT+5', 'America/Argentina/Buenos_Aires']) {
      assert.ok(isTimeZone(zone), zone);
    }
    for (const zone of ['+05:00', '-0800', 'europe/london', 'utc', 'ASIA/CALCUTTA', 'Mars/Olympus', ' UTC', '']) {
      assert.equal(isTimeZone(zone), false, zone);
    }
    assert.match(refusal('client: acme\ntimezone: "+05:00"\n'), /timezone: must be an IANA time zone/);
  });
});

/** The issues `data` is refused with (it must be refused). */
function issuesOf(data: Record<string, unknown>): string[] {
  const result = parseClientConfig({ client: 'acme', ...data });
  assert.equal(result.ok, false, `accepted: ${JSON.stringify(data)}`);
  return result.ok ? [] : result.issues;
}

describe('client config text people read or a model is given', () => {
  const template = (body: string) => ({ autoReply: { templates: [{ id: 'mine', type: 'acknowledgement', body }] } });
  const optIn = (acceptedBy: string) => ({
    autoReply: { freeTextAutoSend: [{ type: 'follow_up', acceptedRisk: FREE_TEXT_AUTO_SEND_RISK, acceptedBy, acceptedAt: '2026-01-01T00:00:00Z' }] },
  });
  // Each field with a way to set it, and whether it may hold line feed and tab.
  const fields: Array<{ path: RegExp; set: (text: string) => Record<string, unknown>; multiLine: boolean }> = [
    { path: /^displayName: /, set: (text) => ({ displayName: text }), multiLine: false },
    { path: /^model: /, set: (text) => ({ model: text }), multiLine: false },
    { path: /^styleNotes: /, set: (text) => ({ styleNotes: text }), multiLine: true },
    { path: /^autoReply\.signature: /, set: (text) => ({ autoReply: { signature: text } }), multiLine: true },
    { path: /^autoReply\.templates\.0\.body: /, set: (text) => template(`Hi ${text}`), multiLine: true },
    { path: /^autoReply\.freeTextAutoSend\.0\.acceptedBy: /, set: (text) => optIn(text), multiLine: false },
  ];

  test('control, bidirectional-override and invisible characters are refused, naming the field and the character', () => {
    const refused: Array<[string, string]> = [
      ['Acme\u0000Ltd', 'U+0000'],
      ['Acme\u001bLtd', 'U+001B'],
      ['Acme\u007fLtd', 'U+007F'],
      ['Acme\u0085Ltd', 'U+0085'], // C1 next line
      ['Acme\u009bLtd', 'U+009B'], // C1 control sequence introducer
      ['Acme\rLtd', 'U+000D'],
      ['Acme\u2028Ltd', 'U+2028'],
      ['Acme \u202eLtd', 'U+202E'], // right-to-left override: "Acme dtL"
      ['Acme \u202aLtd', 'U+202A'],
      ['Acme \u2066Ltd\u2069', 'U+2066'], // left-to-right isolate
      ['Acme \u2067Ltd', 'U+2067'],
      ['Ac\u200bme', 'U+200B'], // zero-width space
      ['Ac\u2060me', 'U+2060'], // word joiner
      ['Acme\ufeffLtd', 'U+FEFF'], // byte-order mark (zero-width no-break space)
      ['Acme\u{e0049}\u{e0067}\u{e006e}', 'U+E0049'], // tag characters: text a reader cannot see
      ['Acme \ud800', 'U+D800'], // half a surrogate pair
    ];
    for (const field of fields) {
      for (const [text, code] of refused) {
        const issues = issuesOf(field.set(text));
        assert.ok(
          issues.some((issue) => field.path.test(issue) && issue.includes(`must not contain ${code} `)),
          `${field.path.source} ${JSON.stringify(text)}: ${issues.join('; ')}`,
        );
      }
    }
  });

  test('line feed and tab only in multi-line fields (notes, signature, templates), never in a name', () => {
    for (const field of fields) {
      for (const text of ['Dana Smith\nAcme Ltd', 'Dana\tSmith']) {
        const result = parseClientConfig({ client: 'acme', ...field.set(text) });
        if (field.multiLine) assert.ok(result.ok, `${field.path.source} ${JSON.stringify(text)}: ${result.ok ? '' : result.issues.join('; ')}`);
        else assert.ok(!result.ok && result.issues.some((issue) => field.path.test(issue) && /must not contain U\+000[A9] \(a (line break|tab)\)/.test(issue)), field.path.source);
      }
    }
  });

  test('letters of every script, emoji and the marks real text needs are still fine', () => {
    for (const text of [
      'Müller & Søn — Café Ñandú',
      '株式会社アクメ',
      'شركة أكمي',
      'חברת אקמי',
      'می\u200cخواهم', // Persian: zero-width non-joiner is part of the word
      'क्\u200dष', // Devanagari: zero-width joiner
      '👨\u200d👩\u200d👧 ❤\ufe0f',
      'Acme \u200fשלום\u200e Ltd', // right-to-left and left-to-right marks reorder nothing by themselves
      'Ἀκμή Ακμή Акме',
    ]) {
      for (const field of fields) {
        const result = parseClientConfig({ client: 'acme', ...field.set(text) });
        assert.ok(result.ok, `${field.path.source} ${JSON.stringify(text)}: ${result.ok ? '' : result.issues.join('; ')}`);
      }
    }
  });
});

describe('names', () => {
  test('a display name or model of spaces alone is refused as blank, naming the field', () => {
    for (const field of ['displayName', 'model']) {
      assert.ok(issuesOf({ [field]: '   ' }).some((issue) => issue.startsWith(`${field}: must not be blank`)), field);
    }
    assert.equal(parseClientConfig({ client: 'acme', displayName: ' Acme Ltd ' }).ok, true);
  });
});

describe('working days', () => {
  test('a day listed twice is refused naming the field and the day; distinct days in any order are fine', () => {
    assert.ok(issuesOf({ workingHours: { days: [1, 1, 2] } }).includes('workingHours.days: must not repeat a day (repeated: 1)'));
    assert.match(refusal('client: acme\nworkingHours:\n  days: [5, 3, 5, 3, 1]\n'), /workingHours\.days: must not repeat a day \(repeated: 5, 3\)/);
    const parsed = parseClientConfig({ client: 'acme', workingHours: { days: [7, 1, 3] } });
    assert.ok(parsed.ok && parsed.config.workingHours.days.join() === '7,1,3');
  });
});

describe('push notification URLs', () => {
  test('a URL with user:pass@ is refused naming the field: credentials belong in Vault, not in the config', () => {
    for (const field of ['notificationUrl', 'lifecycleNotificationUrl']) {
      for (const url of ['https://hook:s3cret@agent.example/v1/mail-notifications', 'https://token@agent.example/v1/mail-notifications', 'https://:s3cret@agent.example/']) {
        const issues = issuesOf({ provider: 'outlook', push: { [field]: url } });
        assert.ok(
          issues.some((issue) => issue.startsWith(`push.${field}: must not contain a user name or password`) && issue.includes('Vault')),
          `${field} ${url}: ${issues.join('; ')}`,
        );
        assert.ok(issues.every((issue) => !issue.includes('s3cret')), 'the refusal does not repeat the secret');
      }
    }
    const parsed = parseClientConfig({ client: 'acme', provider: 'outlook', push: { notificationUrl: 'https://agent.example/v1/mail-notifications', lifecycleNotificationUrl: 'http://127.0.0.1:7480/v1/mail-notifications' } });
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.issues.join('; '));
  });
});

/** The config `data` parses to (it must parse). */
function accepted(data: Record<string, unknown>) {
  const result = parseClientConfig({ client: 'acme', ...data });
  assert.ok(result.ok, `${JSON.stringify(data)}: ${result.ok ? '' : result.issues.join('; ')}`);
  return result.config;
}

describe('block list', () => {
  test('a domain no address can have (a part starting or ending with "-", longer than 63) is refused: it would block nothing', () => {
    const long = 'a'.repeat(64);
    for (const entry of ['-rival.com', 'rival-.com', '*.-rival.com', 'mail.rival-.com', `${long}.com`, `*.${long}.com`, `rival.${long}`, 'rival.c-m']) {
      assert.ok(
        issuesOf({ blockList: ['fine.example', entry] }).some((issue) => issue.startsWith('blockList.1: must be an address') && issue.includes('1-63 letters, digits or "-"')),
        entry,
      );
    }
    const config = accepted({ blockList: ['rival.com', '*.rival.com', 'a-b.co.uk', `${'a'.repeat(63)}.com`, 'xn--bcher-kva.example', 'Ceo@Rival.com', ' spam.example '] });
    assert.deepEqual(config.blockList.slice(-2), ['ceo@rival.com', 'spam.example']);
  });
});

describe('lists that name an entry twice', () => {
  test('an admin or an email type listed twice is refused naming the field and the entry, whatever its case', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ admins: ['dana@acme.com', 'Dana@ACME.com'] }, 'admins: must not repeat an admin (repeated: dana@acme.com)'],
      [{ autoSendTypes: ['acknowledgement', 'follow_up', 'acknowledgement'] }, 'autoSendTypes: must not repeat a type (repeated: acknowledgement)'],
      [{ alwaysApprovalTypes: ['offer', 'legal', 'offer'] }, 'alwaysApprovalTypes: must not repeat a type (repeated: offer)'],
      [{ triage: { archiveTypes: ['spam', 'spam'] } }, 'triage.archiveTypes: must not repeat a type (repeated: spam)'],
      [{ triage: { markReadTypes: ['newsletter', 'spam', 'newsletter'] } }, 'triage.markReadTypes: must not repeat a type (repeated: newsletter)'],
    ];
    for (const [data, issue] of cases) assert.ok(issuesOf(data).includes(issue), `${JSON.stringify(data)}: ${issuesOf(data).join('; ')}`);
    accepted({ admins: ['dana@acme.com', 'sam@acme.com'], autoSendTypes: ['follow_up'], alwaysApprovalTypes: ['offer', 'legal'], triage: { archiveTypes: ['spam'], markReadTypes: ['spam'] } });
  });
});

describe('client id in the config', () => {
  test('the client field follows the client id rule of the command line: reserved names, double hyphens and helper names are refused', () => {
    for (const [client, reason] of [
      ['admin', /^client: client id "admin" is reserved/],
      ['vault', /^client: client id "vault" is reserved/],
      ['a--b', /^client: invalid client id "a--b": a client id is 2-32 characters/],
      ['xn--acme', /^client: invalid client id "xn--acme"/],
      ['acme-reader', /^client: client id "acme-reader" is reserved: it ends in "-reader"/],
      ['Acme', /^client: invalid client id "Acme"/],
    ] as const) {
      const result = parseClientConfig({ client });
      assert.ok(!result.ok && result.issues.some((issue) => reason.test(issue)), `${client}: ${result.ok ? 'accepted' : result.issues.join('; ')}`);
    }
    assert.equal(accepted({ client: 'acme-corp' }).client, 'acme-corp');
  });
});

describe('onboarding start', () => {
  test('a start before 2020 or from 2100 on is refused as a typo in the year: it would end or prolong draft-review-send', () => {
    for (const startedAt of ['0026-03-01T00:00:00Z', '1026-03-01T00:00:00Z', '2006-03-01T00:00:00Z', '2019-12-31T23:59:59Z', '2100-01-01T00:00:00Z', '2620-03-01T00:00:00Z', '9999-12-31T23:59:59Z']) {
      assert.ok(
        issuesOf({ onboarding: { startedAt } }).some((issue) => issue.startsWith('onboarding.startedAt: must be a date from 2020 to 2099')),
        startedAt,
      );
    }
    for (const startedAt of ['2020-01-01T00:00:00Z', '2026-03-01T00:00:00+01:00', '2099-12-31T23:59:59Z']) accepted({ onboarding: { startedAt } });
  });
});

describe('keys that are not what they look like', () => {
  test('permissions: { __proto__: … } is refused as an unknown key, not dropped with every default permission', () => {
    assert.match(refusal('client: acme\npermissions: { __proto__: { mail.send: true } }\n'), /permissions: Unrecognized key: "__proto__"/);
    assert.match(refusal('client: acme\npermissions:\n  mail.read: true\n  __proto__: true\n'), /permissions: Unrecognized key: "__proto__"/);
    const fromJson = parseClientConfig(JSON.parse('{"client":"acme","permissions":{"mail.read":true,"__proto__":{"mail.send":true}}}'));
    assert.ok(!fromJson.ok && fromJson.issues.includes('permissions: Unrecognized key: "__proto__"'), 'the API reads JSON the same way');
    assert.deepEqual(parseClientConfigYaml('client: acme\npermissions: { mail.read: true }\n').permissions, { 'mail.read': true });
  });

  test('a %YAML 1.1 directive is refused: 1.1 reads 010 as 8, 1:30 as 90 and yes as true', () => {
    assert.match(refusal('%YAML 1.1\n---\nclient: acme\nrateLimits: { perHour: 010, perDay: 100 }\n'), /config\.yaml: not valid YAML: it declares %YAML 1\.1.*remove the directive/);
    assert.equal(parseClientConfigYaml('%YAML 1.2\n---\nclient: acme\nrateLimits: { perHour: 010, perDay: 100 }\n').rateLimits.perHour, 10);
  });
});
