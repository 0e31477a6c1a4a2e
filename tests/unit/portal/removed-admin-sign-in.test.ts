// A right code from an address the client has since removed from its admins was refused, but not counted
// among the portal's refused authentications: sign-in attempts by former admins went unseen by the alert.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startEnrolledAdminPortal, type EnrolledAdminPortal } from '../../helpers/enrolled-admin-portal.ts';

const ADMIN = { clientId: 'acme', email: 'dana@acme.example' };

describe('sign-in of an admin the client removed', () => {
  let portal: EnrolledAdminPortal;

  before(async () => {
    portal = await startEnrolledAdminPortal(ADMIN, 'portal-removed-admin-');
  });
  after(() => portal.close());

  test('a right code is refused and counted as a refused authentication; while an admin it is not counted', async () => {
    await portal.signedIn();
    assert.equal(portal.app.authRefusals, 0, 'an admin signing in is no refusal');

    portal.f.admins.set(ADMIN.clientId, []);
    await assert.rejects(portal.signedIn(), 'the sign-in is refused');
    assert.equal(portal.app.authRefusals, 1);
  });
});
