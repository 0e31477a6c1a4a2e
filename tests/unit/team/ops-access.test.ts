import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { opsAccessOf } from '../../../orchestrator/src/http/ops-access.ts';

describe('what each ops API route asks of its caller', () => {
  test('sign-in and enrolment are public; adding a member is the bootstrap rule', () => {
    assert.equal(opsAccessOf('POST', '/sessions').access, 'public');
    assert.equal(opsAccessOf('POST', '/team/enrol').access, 'public');
    assert.equal(opsAccessOf('POST', '/team/members').access, 'bootstrap');
  });

  test('client data needs a fresh code, and the reads acting as the member take their actor in the query', () => {
    assert.deepEqual(opsAccessOf('GET', '/clients/acme/audit/export'), {
      access: 'fresh',
      actorInQuery: true,
      clientId: 'acme',
    });
    assert.deepEqual(opsAccessOf('GET', '/clients/acme/export'), {
      access: 'fresh',
      actorInQuery: true,
      clientId: 'acme',
    });
    assert.deepEqual(opsAccessOf('POST', '/incidents/INC-4/evidence'), {
      access: 'fresh',
      actorInQuery: false,
      clientId: null,
    });
    assert.deepEqual(opsAccessOf('GET', '/incidents/INC-4/evidence/acme-20261201T100000Z-a1b2c3.tar.enc'), {
      access: 'fresh',
      actorInQuery: true,
      clientId: null,
    });
    assert.equal(opsAccessOf('POST', '/team/members/bob/remove').access, 'fresh');
  });

  test('reads that show content only under a grant are grant-read', () => {
    assert.deepEqual(opsAccessOf('GET', '/clients/acme/approvals'), {
      access: 'grant-read',
      actorInQuery: true,
      clientId: 'acme',
    });
    assert.deepEqual(opsAccessOf('POST', '/clients/acme/doctor'), {
      access: 'grant-read',
      actorInQuery: false,
      clientId: 'acme',
    });
    assert.deepEqual(opsAccessOf('POST', '/clients/acme/audit/reanchor'), { access: 'fresh', actorInQuery: false, clientId: 'acme' }, 'accepting a break in the audit anchor');
  });

  test('anything else: GET reads, every other method is a change by a member', () => {
    assert.equal(opsAccessOf('GET', '/clients').access, 'read');
    assert.equal(opsAccessOf('GET', '/ops-log').access, 'read');
    assert.equal(opsAccessOf('GET', '/clients/acme/audit/verify').access, 'read');
    for (const [method, path] of [
      ['POST', '/clients/acme/kill'],
      ['PUT', '/clients/acme/secrets/gmail'],
      ['DELETE', '/sessions/current'],
      ['POST', '/no/such/route'],
    ]) {
      assert.equal(opsAccessOf(method as string, path as string).access, 'member', `${method} ${path}`);
    }
    assert.equal(opsAccessOf('GET', '/sessions/current').access, 'member');
  });

  test('a method in lower case and an encoded client id are read the same', () => {
    assert.deepEqual(opsAccessOf('get', '/clients/ac%6De/export'), {
      access: 'fresh',
      actorInQuery: true,
      clientId: 'acme',
    });
    assert.equal(opsAccessOf('GET', '/clients/%E0%A4%A/export').clientId, '%E0%A4%A');
  });
});
