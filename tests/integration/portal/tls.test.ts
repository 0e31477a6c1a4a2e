import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { after, describe, test } from 'node:test';
import { startPortalHarness, type PortalHarness } from './portal-harness.ts';

function handshake(
  port: number,
  ca: string,
  options: tls.ConnectionOptions,
): Promise<{ protocol: string | null; peer: tls.PeerCertificate }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, ...options }, () => {
      resolve({ protocol: socket.getProtocol(), peer: socket.getPeerCertificate() });
      socket.end();
    });
    socket.once('error', reject);
  });
}

void describe('portal TLS: TLS 1.3 only, a fleet-CA certificate, the CA key sealed at rest', () => {
  const open: PortalHarness[] = [];
  /** Homes a restarted harness reused: not its own, so it leaves them; removed here. */
  const reusedHomes: string[] = [];
  after(async () => {
    for (const harness of open) await harness.close().catch(() => undefined);
    for (const home of reusedHomes) await rm(home, { recursive: true, force: true });
  });

  void test('the listener speaks TLS 1.3 with a certificate for its name from the fleet CA, and refuses TLS 1.2', async () => {
    const h = await startPortalHarness();
    open.push(h);
    const port = Number(new URL(h.portal.url).port);
    const ca = h.portal.caCertificatePem ?? '';
    const { protocol, peer } = await handshake(port, ca, {});
    assert.equal(protocol, 'TLSv1.3');
    assert.match(peer.subjectaltname ?? '', /DNS:localhost/);
    const leaf = new X509Certificate(peer.raw);
    assert.ok(leaf.verify(new X509Certificate(ca).publicKey), 'signed by the fleet CA');
    await assert.rejects(handshake(port, ca, { maxVersion: 'TLSv1.2' }), /protocol version|alert/i);
    await assert.rejects(
      handshake(port, '', { ca: undefined }),
      /self-signed|unable to verify|certificate/i,
      'not trusted without the fleet CA',
    );
    await assert.rejects(
      handshake(port, ca, { servername: 'portal.example.com' }),
      /does not match|altnames/i,
      'only for its own names',
    );
  });

  void test('the CA key is sealed at rest (0600) and the same CA comes back after a restart', async () => {
    const h = await startPortalHarness();
    const caPem = h.portal.caCertificatePem;
    const dir = path.join(h.config.dataDir, 'fleet-ca');
    assert.deepEqual((await readdir(dir)).sort(), ['ca.crt', 'ca.key.sealed']);
    const sealed = await readFile(path.join(dir, 'ca.key.sealed'), 'utf8');
    assert.match(sealed, /^ps1\./);
    assert.ok(!sealed.includes('PRIVATE KEY') && !sealed.includes('MII'), 'no PEM or DER key in the clear');
    assert.equal((await stat(path.join(dir, 'ca.key.sealed'))).mode & 0o777, 0o600);
    assert.equal((await stat(path.join(h.config.dataDir, 'master.key'))).mode & 0o777, 0o600);
    await h.portal.close();
    await h.sql.close();
    const again = await startPortalHarness({}, h.home);
    open.push(again);
    reusedHomes.push(h.home);
    assert.equal(again.portal.caCertificatePem, caPem);
  });

  void test('behind a TLS-terminating proxy (PORTAL_PUBLIC_URL) it serves plain HTTP and links use the public URL', async () => {
    const h = await startPortalHarness({
      tls: 'proxy',
      publicUrl: 'https://portal.example.com',
      host: '127.0.0.1',
      port: 0,
    });
    open.push(h);
    assert.equal(h.portal.url, 'https://portal.example.com');
    assert.equal(h.portal.caCertificatePem, null);
    assert.match(h.portal.approvalLink('acme', 'ap-1'), /^https:\/\/portal\.example\.com\/a\/l1\./);
    assert.match(
      (await h.portal.inviteAdmin('acme', 'admin@acme.com')).url,
      /^https:\/\/portal\.example\.com\/enrol\//,
    );
    const answer = await fetch(`http://127.0.0.1:${h.portal.address.port}/sign-in`);
    assert.equal(answer.status, 200);
    assert.match(
      answer.headers.get('set-cookie') ?? '',
      /^__Host-fleet-pre=[^;]+; Path=\/; Secure; HttpOnly; SameSite=Lax/,
    );
  });
});
