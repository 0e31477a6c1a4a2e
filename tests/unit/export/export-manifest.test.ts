import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  entryNameProblem,
  manifestBytes,
  parseManifest,
  type ExportManifest,
} from '../../../orchestrator/src/services/export/export-manifest.ts';

const manifest: ExportManifest = {
  format: 'agent-fleet-client-export',
  formatVersion: 1,
  clientId: 'acme',
  createdAt: '2026-12-04T10:30:00.000Z',
  signingKeyId: `sha256:${'b'.repeat(64)}`,
  files: [{ name: 'audit/audit-log.jsonl', size: 12, sha256: 'c'.repeat(64) }],
};

void describe('export manifest', () => {
  void test('entry names are relative paths of plain segments, and the archive keeps its own three names', () => {
    for (const good of ['audit/audit-log.jsonl', 'a', 'approvals/2026-12/a_b-c.json'])
      assert.equal(entryNameProblem(good), null, good);
    for (const bad of [
      '',
      '/etc/passwd',
      '../x',
      'a/../b',
      'a//b',
      'a/',
      '.hidden',
      'a b',
      'é.txt',
      'MANIFEST.json',
      'MANIFEST.sig',
      'README.md',
      'x'.repeat(101),
    ])
      assert.notEqual(entryNameProblem(bad), null, bad);
  });

  void test('MANIFEST.json is canonical JSON without a final newline, and parses back to the same manifest', () => {
    const bytes = manifestBytes(manifest);
    assert.equal(bytes.toString(), JSON.stringify(JSON.parse(bytes.toString())));
    assert.ok(!bytes.toString().endsWith('\n'));
    assert.ok(bytes.toString().startsWith('{"clientId":"acme","createdAt"'));
    assert.deepEqual(parseManifest(bytes), { ok: true, manifest });
  });

  void test('a manifest that is not canonical, not JSON, or not a manifest is refused with the reason', () => {
    const pretty = Buffer.from(JSON.stringify(manifest, null, 2));
    assert.deepEqual(parseManifest(pretty), {
      ok: false,
      problem: 'MANIFEST.json is not in canonical form (it was edited)',
    });
    assert.deepEqual(parseManifest(Buffer.from('{nope')), {
      ok: false,
      problem: 'MANIFEST.json is not JSON',
    });
    const wrong = parseManifest(
      Buffer.from(
        JSON.stringify({ ...manifest, files: [{ name: '../x', size: 1, sha256: 'c'.repeat(64) }] }),
      ),
    );
    assert.equal(wrong.ok, false);
    assert.match(wrong.ok ? '' : wrong.problem, /files\.0\.name/);
    const extra = parseManifest(Buffer.from(JSON.stringify({ ...manifest, extra: true })));
    assert.equal(extra.ok, false);
  });
});
