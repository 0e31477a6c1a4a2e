// The orchestrator service's libuv thread count has one source, SERVICE_THREADPOOL_SIZE: the CLI starts the
// service with it and the systemd unit renders it; the image's Dockerfile (copied as is into the build
// context by scripts/build-images.sh) cannot import it, so its ENV is held to it here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { SERVICE_THREADPOOL_SIZE } from '../../../orchestrator/src/cli/orchestrator-client.ts';

const dockerfile = readFileSync(new URL('../../../Dockerfile', import.meta.url), 'utf8');

/** The KEY=value pairs of every ENV instruction, its line continuations joined and comments dropped. */
function envPairs(text: string): Array<[string, string]> {
  const instructions = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n');
  return instructions
    .filter((line) => /^\s*ENV\s/i.test(line))
    .flatMap((line) => line.trim().replace(/^ENV\s+/i, '').split(/\s+/))
    .filter((word) => word.includes('='))
    .map((word) => {
      const at = word.indexOf('=');
      return [word.slice(0, at), word.slice(at + 1).replace(/^"(.*)"$/, '$1')] as [string, string];
    });
}

describe('the orchestrator service’s libuv thread pool', () => {
  test('the Dockerfile sets UV_THREADPOOL_SIZE once, to SERVICE_THREADPOOL_SIZE', () => {
    const values = envPairs(dockerfile)
      .filter(([key]) => key === 'UV_THREADPOOL_SIZE')
      .map(([, value]) => value);
    assert.deepEqual(values, [String(SERVICE_THREADPOOL_SIZE)]);
  });

  test('ENV pairs are read across line continuations, comments left out', () => {
    const text = 'FROM x\n# ENV UV_THREADPOOL_SIZE=1\nENV A=1 \\\n    UV_THREADPOOL_SIZE="8" \\\n    B=2\nENV C=3\n';
    assert.deepEqual(envPairs(text), [['A', '1'], ['UV_THREADPOOL_SIZE', '8'], ['B', '2'], ['C', '3']]);
  });
});
