import assert from 'node:assert/strict';
import { test } from 'node:test';
import tar from 'tar-stream';
import { tarFiles } from '../../../orchestrator/src/adapters/docker/tar-files.ts';
import { checkPlacedFileName } from '../../../orchestrator/src/adapters/placed-file-name.ts';

async function entriesOf(archive: Buffer): Promise<Array<{ name: string; mode: number; uid: number; gid: number; content: string }>> {
  const extract = tar.extract();
  const entries: Array<{ name: string; mode: number; uid: number; gid: number; content: string }> = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        entries.push({ name: header.name, mode: header.mode ?? -1, uid: header.uid ?? -1, gid: header.gid ?? -1, content: Buffer.concat(chunks).toString('utf8') });
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.end(archive);
  await done;
  return entries;
}

void test('one archive carries every file placed together, each owned by the agent user and not world-readable', async () => {
  const archive = await tarFiles({ 'vault-ca.crt': '-----BEGIN CERTIFICATE-----\n', 'tls-handover': 'hvs.wrapped', 'grüße.txt': 'ü' }, { uid: 10001, gid: 10002, mode: 0o640 });
  assert.deepEqual(await entriesOf(archive), [
    { name: 'vault-ca.crt', mode: 0o640, uid: 10001, gid: 10002, content: '-----BEGIN CERTIFICATE-----\n' },
    { name: 'tls-handover', mode: 0o640, uid: 10001, gid: 10002, content: 'hvs.wrapped' },
    { name: 'grüße.txt', mode: 0o640, uid: 10001, gid: 10002, content: 'ü' },
  ]);
});

void test('a placed file is a plain name, never a path', () => {
  for (const name of ['config.yaml', 'KILLED', 'tls-handover', 'vault-ca.crt']) checkPlacedFileName(name);
  for (const name of ['../etc/passwd', 'a/b', '.', '..', '', 'x'.repeat(254), 'new\nline']) {
    assert.throws(() => checkPlacedFileName(name), { code: 'invalid_input' }, name);
  }
});
