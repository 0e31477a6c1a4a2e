import express from 'express';
import { PageError } from './page-error.ts';

/**
 * Big enough for the longest field a form offers once the browser has percent-encoded it: an edited body of
 * 100 000 characters is up to 900 kB in a script of three-byte characters (each `%E6%97%A5`), a block list of
 * 10 000 entries about 350 kB with its line breaks. Each field has its own, smaller limit that names it.
 */
export const FORM_BYTE_LIMIT = '1mb';

/**
 * The most fields a form may carry. The largest form (the approval rules: one choice per email type, and the
 * token, version and reason) sends 18, and grows with every email type or capability the kernel adds; this
 * leaves room for several times that, and still bounds what a hostile body makes the parser build. Every
 * route refuses fields its form does not have, naming them.
 */
export const FORM_FIELD_LIMIT = 100;

/** The parser of every portal form (`application/x-www-form-urlencoded`, flat: no nested names). */
export function formBody(): express.RequestHandler {
  return express.urlencoded({ extended: false, limit: FORM_BYTE_LIMIT, parameterLimit: FORM_FIELD_LIMIT });
}

/** The form parser's refusals as the portal's 400 page (the form as a whole: no single field is to blame). */
export function formBodyError(error: unknown): PageError | null {
  const type = (error as { type?: unknown } | null)?.type;
  if (type === 'entity.too.large')
    return new PageError(400, 'The form is too large', `form: larger than ${FORM_BYTE_LIMIT}; nothing was changed.`, 'form');
  if (type === 'parameters.too.many')
    return new PageError(
      400,
      'The form has too many fields',
      `form: more than ${FORM_FIELD_LIMIT} fields, more than any page of the portal sends; nothing was changed. Reload the page and send the form again.`,
      'form',
    );
  if (type === 'entity.parse.failed' || type === 'charset.unsupported' || type === 'encoding.unsupported')
    return new PageError(400, 'The form could not be read', 'form: it is malformed; nothing was changed.', 'form');
  return null;
}
