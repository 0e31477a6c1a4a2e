import * as z from 'zod';

/** A page number from the address bar or a form: 1 or more, a few digits (a page past the end shows the last). */
export const pageNumber = z
  .string()
  .regex(/^[1-9]\d{0,5}$/, 'must be a page number such as 2')
  .transform(Number);

/** One page of a list, with where it sits in the whole. */
export interface ListPage<T> {
  items: T[];
  /** 1-based; within 1..pages. */
  page: number;
  /** At least 1, even for an empty list. */
  pages: number;
  /** The 0-based position in the whole list of the page's first item. */
  offset: number;
  total: number;
}

/**
 * The `requested` page of `items`, `size` a page. A page past the end is the last one: the list shrinks as
 * items are dealt with, and a link or form from a moment ago must still land somewhere useful.
 */
export function pageOf<T>(items: readonly T[], requested: number, size: number): ListPage<T> {
  const pages = Math.max(1, Math.ceil(items.length / size));
  const page = Math.min(Math.max(1, Math.floor(requested)), pages);
  const offset = (page - 1) * size;
  return { items: items.slice(offset, offset + size), page, pages, offset, total: items.length };
}
