// The data-export routes of the control API: the control token is checked before anything about the
// export session is told, so a caller without it cannot learn whether a session is open.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { createControlApp } from '../../../agent-image/src/http/control-server.ts';
import { DataExportSessions, type RedeemableSecretSource } from '../../../agent-image/src/services/data-export/export-session.ts';
import type { ControlApi } from '../../../agent-image/src/services/runtime/control-api.ts';
import { runtimePaths } from '../../../agent-image/src/services/runtime/runtime-paths.ts';

const VAULT = 'https://127.0.0.1:8200';

interface Answer {
  status: number;
  code: string | undefined;
}

describe('the data-export routes check the control token before telling anything about the session', () => {
  const controlToken = randomBytes(24).toString('hex');
  const strangerToken = randomBytes(24).toString('hex');
  const goodWrap = randomBytes(12).toString('hex');
  const directories: string[] = [];
  const agent = { introduced: true };
  let sessions: DataExportSessions;
  let server: Server;
  let base: string;

  before(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'control-export-auth-data-'));
    const tmpDir = await mkdtemp(join(tmpdir(), 'control-export-auth-tmp-'));
    directories.push(dataDir, tmpDir);
    const wrappedKey = runtimePaths(dataDir).wrappedKey;
    await mkdir(dirname(wrappedKey), { recursive: true });
    await writeFile(wrappedKey, 'wrapped');
    const controlHash = createHash('sha256').update(controlToken).digest('hex');
    sessions = new DataExportSessions({
      clientId: 'acme',
      dataDir,
      tmpDir,
      vaultAddr: VAULT,
      logger: createSilentLogger(),
      // A stand-in Vault: redeems only goodWrap and holds the control token's hash.
      secretSource: (input) =>
        ({
          redeem: async () => {
            if (input.wrappingToken !== goodWrap) throw new FleetError('integrity', 'the wrapping token was not redeemable');
          },
          start: async () => undefined,
          readSecrets: async () => new Map(),
          readSecretData: async (name) => (name === 'control' ? { token_sha256: controlHash } : null),
          writeSecret: async () => undefined,
          dataKey: () => Buffer.alloc(32, 7),
          revoked: false,
          onRevoked: () => () => undefined,
          stop: async () => undefined,
        }) satisfies RedeemableSecretSource,
    });
    const api = {
      clientId: 'acme',
      authenticate: async (bearer: string | null) => {
        if (!agent.introduced) throw new FleetError('unavailable', 'the agent is not introduced yet');
        if (bearer !== controlToken) throw new FleetError('unauthorized', 'missing or wrong control token');
      },
    } as unknown as ControlApi;
    const app = createControlApp(api, createSilentLogger(), { vaultAddr: VAULT, exportSessions: async () => ({ sessions, vaultAddr: VAULT }) });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  // Each test starts without a session, whatever the one before left.
  beforeEach(async () => {
    agent.introduced = true;
    await sessions.close();
  });
  after(async () => {
    await sessions.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    for (const directory of directories) await rm(directory, { recursive: true, force: true });
  });

  async function call(method: 'GET' | 'POST', path: string, bearer?: string): Promise<Answer> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` },
    });
    const text = await response.text();
    const code = text === '' ? undefined : (JSON.parse(text) as { code?: string }).code;
    return { status: response.status, code };
  }

  const openSession = async () => {
    const response = await fetch(`${base}/v1/data-export/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ wrappingToken: goodWrap, vaultAddr: VAULT, creationPath: 'auth/token/create/fleet-acme' }),
    });
    assert.equal(response.status, 204, await response.text());
  };

  /** What a caller without the control token is answered on each data-export route. */
  const strangersAnswers = async () => {
    const answers: string[] = [];
    for (const bearer of [undefined, strangerToken]) {
      for (const [method, path] of [
        ['GET', '/v1/data-export/audit.jsonl'],
        ['GET', '/v1/data-export/no-such-part'],
        ['POST', '/v1/data-export/session/close'],
      ] as const) {
        const answer = await call(method, path, bearer);
        answers.push(`${method} ${path} ${bearer === undefined ? 'no token' : 'a wrong token'}: ${answer.status} ${answer.code}`);
      }
    }
    return answers;
  };

  test('a caller without the control token is answered 401 on every route, whether a session is open or not', async () => {
    const withoutSession = await strangersAnswers();
    await openSession();
    const withSession = await strangersAnswers();
    assert.deepEqual(withoutSession, withSession, 'the answers must not tell whether a session is open');
    for (const line of withoutSession) assert.match(line, /: 401 unauthorized$/);
    assert.equal((await call('POST', '/v1/data-export/session/close', controlToken)).status, 204);
  });

  test('with the control token the caller learns that no session is open, and an unknown part is 404', async () => {
    assert.equal((await call('GET', '/v1/data-export/audit.jsonl', controlToken)).status, 503);
    assert.equal((await call('POST', '/v1/data-export/session/close', controlToken)).status, 503);
    await openSession();
    assert.equal((await call('GET', '/v1/data-export/no-such-part', controlToken)).status, 404);
    assert.equal((await call('POST', '/v1/data-export/session/close', controlToken)).status, 204);
  });

  test('without a session, an agent that cannot check tokens (not introduced, a reader container) refuses every one as 401', async () => {
    agent.introduced = false;
    for (const bearer of [undefined, strangerToken, controlToken]) {
      assert.equal((await call('GET', '/v1/data-export/audit.jsonl', bearer)).status, 401);
      assert.equal((await call('POST', '/v1/data-export/session/close', bearer)).status, 401);
    }
    await openSession();
    assert.equal((await call('GET', '/v1/data-export/no-such-part', controlToken)).status, 404, 'the open session checks the token itself');
    assert.equal((await call('POST', '/v1/data-export/session/close', controlToken)).status, 204);
  });
});
