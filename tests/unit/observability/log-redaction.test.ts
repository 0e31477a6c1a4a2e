// What reaches the JSON log lines when real adapters fail with secrets or client data in hand: each test
// drives the adapter's own error translation (or a real SDK call against a loopback server) into the
// kernel logger writing to a stream, and reads the lines back.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { GraphError } from '@microsoft/microsoft-graph-client';
import { createLogger, type Logger } from '@agent-fleet/kernel/logger';
import { translateVaultError } from '@agent-fleet/kernel/vault-client';
import { RotatingOAuth2Client } from '../../../agent-image/src/adapters/gmail/gmail-auth.ts';
import { callGoogleApi } from '../../../agent-image/src/adapters/gmail/google-call.ts';
import { translateGraphError } from '../../../agent-image/src/adapters/graph/graph-errors.ts';
import { translateBullhornError } from '../../../agent-image/src/adapters/bullhorn/bullhorn-rest.ts';
import { emailSearch } from '../../../agent-image/src/adapters/bullhorn/bullhorn-queries.ts';
import { newToken } from '../../../orchestrator/src/portal/crypto/tokens.ts';
import { signApprovalLink } from '../../../orchestrator/src/portal/crypto/signed-link.ts';

/** A logger whose JSON lines are read back as text, the way a log shipper would see them. */
function capturingLogger(): { logger: Logger; text: () => Promise<string> } {
  const stream = new PassThrough();
  let captured = '';
  stream.on('data', (chunk: Buffer) => (captured += chunk.toString('utf8')));
  const logger = createLogger({ service: 'test', level: 'debug', stream });
  // winston writes on the next tick; one macrotask later every line is in.
  const text = () => new Promise<string>((resolve) => setImmediate(() => resolve(captured)));
  return { logger, text };
}

function assertAbsent(log: string, secrets: readonly string[]): void {
  for (const secret of secrets)
    assert.ok(!log.includes(secret), `${JSON.stringify(secret)} reached the log: ${log}`);
}

describe('log lines of real adapter failures hold no credential and no correspondent', () => {
  const refreshToken = `1//0g${'Rt7'.repeat(12)}`;
  const clientSecret = `GOCSPX-${'Cs9x'.repeat(6)}`;
  let server: Server;
  let tokenUrl: string;

  before(async () => {
    // A token endpoint behind a filter that answers with a text page echoing the form it refused.
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        response.writeHead(400, { 'content-type': 'text/plain' });
        response.end(`request refused by the filter: ${body}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('a refused Google token refresh is logged without the refresh token or the client secret', async () => {
    const auth = new RotatingOAuth2Client(
      { clientId: 'client-id.apps.googleusercontent.com', clientSecret, refreshToken, tokenUrl },
      async () => undefined,
    );
    const failure = await callGoogleApi(auth, 'messages.list', () => auth.getAccessToken()).then(
      () => assert.fail('the refresh should fail'),
      (error: unknown) => error,
    );
    const { logger, text } = capturingLogger();
    logger.warn('mail sync failed; will retry', { error: failure });
    const log = await text();
    assert.match(log, /request refused by the filter/, 'the cause chain is still there to diagnose with');
    // The filter echoes the form URL-encoded (`1%2F%2F0g…`): look for the token's random part.
    assertAbsent(log, [refreshToken.slice(4), clientSecret.slice(7)]);
  });

  it('a Graph refusal that names a recipient is logged with the domain but not the mailbox', async () => {
    const graphError = new GraphError(
      400,
      "At least one recipient is not valid., Recipient 'dana.whitfield@contoso-legal.com' is not resolved.",
    );
    graphError.code = 'ErrorInvalidRecipients';
    const { logger, text } = capturingLogger();
    logger.warn('message processing failed; will retry', {
      messageId: 'm-1',
      error: translateGraphError(graphError, 'send'),
    });
    const log = await text();
    assertAbsent(log, ['dana.whitfield']);
    assert.match(log, /@contoso-legal\.com/);
    assert.match(log, /ErrorInvalidRecipients/);
  });

  it('a Bullhorn error echoing the searched address is logged without the mailbox', async () => {
    const query = emailSearch('Priya.Nair+jobs@talent-example.org');
    const error = translateBullhornError(
      'crm.search',
      400,
      { errorMessageKey: 'errors.badQuery', errorMessage: `Cannot parse '${query}'` },
      null,
    );
    const { logger, text } = capturingLogger();
    logger.warn('crm call failed', { op: 'crm.search', error });
    const log = await text();
    assertAbsent(log, ['priya.nair', 'Priya.Nair']);
    assert.match(log, /errors\.badQuery/);
  });

  it('a Vault answer echoing a response with tokens in JSON or a query string is logged without them', async () => {
    const wrapped = {
      wrap_info: { token: 'wrapping-9f8e7d6c5b4a', accessor: 'acc-1' },
      auth: { client_token: 'opaque-client-token-77' },
    };
    const vaultError = Object.assign(
      new Error(
        `unexpected answer ${JSON.stringify(wrapped)} from /v1/sys/wrapping/unwrap?token=raw-token-query-123`,
      ),
      {
        response: { statusCode: 500, body: wrapped },
      },
    );
    const { logger, text } = capturingLogger();
    logger.error('introduction failed', {
      error: translateVaultError(vaultError, 'unwrap the introduction'),
    });
    const log = await text();
    assertAbsent(log, ['wrapping-9f8e7d6c5b4a', 'opaque-client-token-77', 'raw-token-query-123']);
    assert.match(log, /acc-1/, 'fields that are not secret stay');
  });

  it('a portal failure on a link path is logged without the enrolment token or the signed approval link', async () => {
    const enrolment = newToken();
    const link = signApprovalLink(Buffer.alloc(32, 7), {
      clientId: 'acme',
      approvalId: 'ap-1',
      expiresAt: new Date(Date.now() + 60_000),
    });
    const { logger, text } = capturingLogger();
    logger.error('portal request failed', { path: `/enrol/${enrolment}`, error: new Error('boom') });
    logger.error('portal request failed', { path: `/a/${link}`, error: new Error('boom') });
    const log = await text();
    const [, payload = '', signature = ''] = link.split('.');
    assertAbsent(log, [enrolment, payload, signature]);
    assert.match(log, /\/enrol\/\[redacted\]/);
  });

  it('an Authorization header value written into a message (Basic or a JWT) is masked', async () => {
    const basic = Buffer.from('api-user:s3cret-pass').toString('base64');
    const jwt =
      [
        { alg: 'RS256', typ: 'JWT' },
        { aud: 'https://graph.microsoft.com', upn: 'x' },
      ]
        .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
        .join('.') + '.c2lnbmF0dXJl';
    const { logger, text } = capturingLogger();
    logger.error('upstream refused', {
      error: new Error(`request had Authorization: Basic ${basic}`, {
        cause: new Error(`token ${jwt} expired`),
      }),
    });
    const log = await text();
    assertAbsent(log, [basic, jwt, jwt.split('.')[1]!]);
  });
});

describe('the redaction format on values that are not plain JSON', () => {
  it('bytes are logged as their size, never their contents', async () => {
    const dataKey = Buffer.from('0123456789abcdef0123456789abcdef');
    const { logger, text } = capturingLogger();
    logger.info('key loaded', {
      material: dataKey,
      view: new Uint8Array(dataKey),
      nested: { bytes: dataKey.buffer.slice(0, 4) },
    });
    const line = JSON.parse(await text()) as Record<string, unknown>;
    assert.equal(line['material'], '[32 bytes]');
    assert.equal(line['view'], '[32 bytes]');
    assert.deepEqual(line['nested'], { bytes: '[4 bytes]' });
  });

  it('a Date is logged as its time and a URL as its text with credentials masked, not as {}', async () => {
    const { logger, text } = capturingLogger();
    logger.info('link', {
      expiresAt: new Date('2026-01-02T03:04:05.000Z'),
      url: new URL('https://login.example/cb?code=4%2F0AbCdEf&state=s1'),
    });
    const line = JSON.parse(await text()) as Record<string, unknown>;
    assert.equal(line['expiresAt'], '2026-01-02T03:04:05.000Z');
    assert.equal(line['url'], 'https://login.example/cb?code=[redacted]&state=s1');
  });

  it('key material, one-time codes and message previews are dropped by key', async () => {
    const { logger, text } = capturingLogger();
    logger.info('fields', {
      dataKey: 'k1',
      config_key: 'k2',
      totp: '123456',
      passkey: { id: 'p' },
      subject: 'Offer letter',
      snippet: 'Dear Sam',
      idempotencyKey: 'keep-me',
      code: 'invalid_input',
    });
    const line = JSON.parse(await text()) as Record<string, unknown>;
    for (const key of ['dataKey', 'config_key', 'totp', 'passkey', 'subject', 'snippet'])
      assert.equal(line[key], '[redacted]', key);
    assert.equal(line['idempotencyKey'], 'keep-me');
    assert.equal(line['code'], 'invalid_input', 'an error code is not a secret');
  });

  it('a circular object is logged once with its cycle marked, and an error keeps its status and its aggregate parts', async () => {
    const node: Record<string, unknown> = { name: 'root' };
    node['self'] = node;
    const aggregate = new AggregateError(
      [Object.assign(new Error('refused'), { status: 403 })],
      'two failures',
    );
    const { logger, text } = capturingLogger();
    logger.info('graph', { node, error: aggregate });
    const line = JSON.parse(await text()) as {
      node: Record<string, unknown>;
      error: { errors: { status: number }[] };
    };
    assert.deepEqual(line.node, { name: 'root', self: '[circular]' });
    assert.equal(line.error.errors[0]?.status, 403);
  });

  it('a very long error message (an echoed response page) is cut short', async () => {
    const { logger, text } = capturingLogger();
    logger.error('failed', { error: new Error(`<html>${'x'.repeat(50_000)}</html>`) });
    const log = await text();
    assert.ok(log.length < 5_000, `the line is ${log.length} characters`);
    assert.match(log, /more characters/);
  });

  it('a private key in PEM is masked wherever it appears', async () => {
    // A key made for this test only: no key material is kept in the repository.
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const body = pem.split('\n')[1] ?? '';
    const { logger, text } = capturingLogger();
    logger.error('tls', { error: new Error(`cannot load ${pem}`) });
    assertAbsent(await text(), [body]);
  });
});
