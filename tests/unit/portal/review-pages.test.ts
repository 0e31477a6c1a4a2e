// The emails set aside, at the agent's cap of 1000 with long message ids: the whole list in one page was
// about 1.5 MB on a phone. It comes in pages of plain links, each page saying where it is; the buttons
// return to the page they were pressed on; a page past the end (the list shrank) is the last one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ParkedEmail } from '../../../orchestrator/src/portal/client-gateway.ts';
import { pageOf } from '../../../orchestrator/src/portal/http/pagination.ts';
import { REVIEW_PAGE_SIZE, reviewRoutes } from '../../../orchestrator/src/portal/http/routes-review.ts';
import { startRouteHarness, type RouteHarness } from './portal-route-harness.ts';

const CAP = 1000;
const LAST = CAP / REVIEW_PAGE_SIZE;
/** Mailbox ids as long as the agent keeps (2000 characters), numbered so that each page's can be found. */
const idOf = (index: number) => `m${String(index).padStart(4, '0')}-${'x'.repeat(1994)}`;
const PARKED: ParkedEmail[] = Array.from({ length: CAP }, (_, index) => ({
  messageId: idOf(index),
  reason: 'low_confidence',
  since: new Date(Date.parse('2026-03-01T00:00:00.000Z') + index * 60_000).toISOString(),
  sender: `sender${index}@example.com`,
  subject: `Subject ${index}`,
  retried: false,
}));

const idsOn = (page: string) => [...page.matchAll(/name="message" value="(m\d{4})-x+"/g)].map((match) => match[1]);
const pagerOf = (page: string) => /<nav class="pager" aria-label="Pages of the emails set aside">([\s\S]*?)<\/nav>/.exec(page)?.[1];

describe('the emails set aside, a page at a time', () => {
  let harness: RouteHarness;
  let shown: ParkedEmail[] = PARKED;

  before(async () => {
    harness = await startRouteHarness(reviewRoutes, {
      gateway: {
        status: () => Promise.resolve(null),
        parkedEmails: () => Promise.resolve({ emails: shown, limit: CAP }),
        resolveParkedEmail: () => Promise.resolve({ changed: true }),
      } as never,
    });
  });
  after(() => harness.close());

  test('at the cap, the first page holds one page of the oldest, under 150 kB, and says where it is', async () => {
    const page = await harness.get('/review');
    assert.equal(page.status, 200);
    assert.ok(Buffer.byteLength(page.text) < 150_000, `${Buffer.byteLength(page.text)} bytes`);
    const ids = idsOn(page.text);
    assert.equal(new Set(ids).size, REVIEW_PAGE_SIZE);
    assert.equal(ids[0], 'm0000');
    assert.match(page.text, /1000 emails set aside, oldest first\./, 'the count is of the whole list');
    assert.match(page.text, new RegExp(`Showing 1 to ${REVIEW_PAGE_SIZE}: page 1 of ${LAST}\\.`));
    assert.ok(page.text.includes(`<title>Set aside for you (page 1 of ${LAST}) · Client portal</title>`));
    const pager = pagerOf(page.text) ?? '';
    assert.doesNotMatch(pager, /Previous page|First page/, 'nothing before the first page');
    assert.match(pager, /<a href="\/review\?page=2" rel="next">Next page \(newer emails\)<\/a>/);
    assert.ok(pager.includes(`<a href="/review?page=${LAST}">Last page</a>`));
    assert.ok(pager.includes(`<span class="current">Page 1 of ${LAST}</span>`));
    assert.doesNotMatch(page.text, /name="page"/, 'the first page’s buttons need not say their page');
  });

  test('a middle page and the last one list their own emails, link both ways, and their buttons return there', async () => {
    const middle = await harness.get('/review?page=2');
    const expected = Array.from({ length: REVIEW_PAGE_SIZE }, (_, index) => idOf(REVIEW_PAGE_SIZE + index).slice(0, 5));
    assert.deepEqual([...new Set(idsOn(middle.text))], expected);
    assert.match(middle.text, new RegExp(`<h2 id="parked-${REVIEW_PAGE_SIZE}">`), 'ids are unique across pages');
    const pager = pagerOf(middle.text) ?? '';
    assert.match(pager, /<a href="\/review">First page<\/a>/);
    assert.match(pager, /<a href="\/review" rel="prev">Previous page \(older emails\)<\/a>/);
    assert.match(pager, /<a href="\/review\?page=3" rel="next">/);
    assert.equal(middle.text.match(/<input type="hidden" name="page" value="2">/g)?.length, 2 * REVIEW_PAGE_SIZE, 'each button says its page');

    const last = await harness.get(`/review?page=${LAST}`);
    assert.equal(idsOn(last.text).at(-1), 'm0999');
    assert.doesNotMatch(pagerOf(last.text) ?? '', /Next page|Last page/);

    const done = await harness.post('/review/handled', { message: idOf(60), page: '2' });
    assert.equal(done.status, 200);
    assert.match(done.text, /<a href="\/review\?page=2">Back to the emails set aside<\/a>/);
    const fromFirst = await harness.post('/review/retry', { message: idOf(3) });
    assert.match(fromFirst.text, /<a href="\/review">Back to the emails set aside<\/a>/);
  });

  test('a page past the end shows the last one; a short list has no page links; a page that is not a number is refused', async () => {
    const past = await harness.get('/review?page=999');
    assert.equal(past.status, 200);
    assert.equal(idsOn(past.text).at(-1), 'm0999');
    assert.ok(past.text.includes(`page ${LAST} of ${LAST}`));
    shown = PARKED.slice(0, 3);
    try {
      const short = await harness.get('/review?page=4');
      assert.equal(short.status, 200);
      assert.equal(new Set(idsOn(short.text)).size, 3);
      assert.equal(pagerOf(short.text), undefined);
      assert.doesNotMatch(short.text, /Showing/);
    } finally {
      shown = PARKED;
    }
    for (const query of ['page=0', 'page=-1', 'page=two', 'page=1e3', 'page=1&page=2', 'other=1']) {
      assert.equal((await harness.get(`/review?${query}`)).status, 400, query);
    }
    assert.equal((await harness.post('/review/handled', { message: idOf(1), page: 'x' })).status, 400);
  });

  test('pageOf clamps to the pages there are, and an empty list is one empty page', () => {
    const items = [1, 2, 3, 4, 5];
    assert.deepEqual(pageOf(items, 2, 2), { items: [3, 4], page: 2, pages: 3, offset: 2, total: 5 });
    assert.deepEqual(pageOf(items, 9, 2), { items: [5], page: 3, pages: 3, offset: 4, total: 5 });
    assert.deepEqual(pageOf([], 3, 2), { items: [], page: 1, pages: 1, offset: 0, total: 0 });
  });
});
