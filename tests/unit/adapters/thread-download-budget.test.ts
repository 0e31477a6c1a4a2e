// The reads of one thread's messages share one download budget, spent newest first (Gmail and Graph).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ThreadDownloadBudget } from '../../../agent-image/src/adapters/thread-download-budget.ts';

describe('thread download budget', () => {
  it('bounds each entry by the per-entry limit or what is left, whichever is less', () => {
    const budget = new ThreadDownloadBudget(10, 4);
    assert.equal(budget.nextEntryLimit(), 4);
    budget.spend(4);
    budget.spend(4);
    assert.equal(budget.nextEntryLimit(), 2);
    assert.equal(budget.admits(2), true);
    assert.equal(budget.admits(3), false);
  });

  it('admits nothing once spent, not even an empty entry, and never goes below zero', () => {
    const budget = new ThreadDownloadBudget(5, 4);
    budget.spend(7);
    assert.equal(budget.nextEntryLimit(), 0);
    assert.equal(budget.admits(0), false);
  });

  it('admits no entry of an unknown size', () => {
    assert.equal(new ThreadDownloadBudget(10, 4).admits(Number.NaN), false);
  });
});
