// The meter that linear-work tests rely on: it must tell a single pass from a quadratic one, and stop the
// quadratic one early rather than let it run.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { measureStringWork } from './string-work-meter.ts';

const text = 'a'.repeat(1_000);

describe('the string work meter', () => {
  test('counts one scan of a text as its length, and a scan from every position as the square', () => {
    assert.equal(measureStringWork(() => text.indexOf('b')).charactersRead, 1_000);
    assert.equal(measureStringWork(() => /b/.test(text)).charactersRead, 1_000);
    const quadratic = measureStringWork(() => Array.from({ length: 1_000 }, (_, at) => text.indexOf('b', at))).charactersRead;
    assert.equal(quadratic, (1_000 * 1_001) / 2);
  });

  test('counts a global pattern by how far its matches advanced, not by what was left each time', () => {
    assert.equal(measureStringWork(() => [...text.matchAll(/a/g)].length).charactersRead, 1_000);
  });

  test('throws once the budget is spent, and leaves the built-ins as they were', () => {
    const indexOf = String.prototype.indexOf;
    const exec = RegExp.prototype.exec;
    assert.throws(() => measureStringWork(() => Array.from({ length: 1_000 }, (_, at) => text.slice(at).indexOf('b')), 10_000), /not linear in the input/);
    assert.equal(String.prototype.indexOf, indexOf);
    assert.equal(RegExp.prototype.exec, exec);
  });
});
