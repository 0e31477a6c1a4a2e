/** An error page the portal shows: a status, a short title and what the person can do about it. */
export class PageError extends Error {
  readonly status: number;
  readonly title: string;
  /** For a 400: the form field at fault. */
  readonly field: string | null;

  constructor(status: number, title: string, message: string, field: string | null = null) {
    super(message);
    this.name = 'PageError';
    this.status = status;
    this.title = title;
    this.field = field;
  }
}

/** The one 404: the same words whether the thing never existed, belongs to another client, expired or was used. */
export function notFound(): PageError {
  return new PageError(
    404,
    'Not found',
    'There is nothing here for you. A link from an email works once and for a limited time; it may have been used or have expired. Open the portal to see what is waiting.',
  );
}

/** How the portal's own fields are named (`reason`, `type.invoice`, `freeText.thanks`, `_csrf`). */
const FIELD_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The 400 naming the field at fault. A name the request chose (a field the form does not have) is shown only
 * when it is spelled as the portal's own fields are: otherwise a link with a sentence for a field name would
 * put that sentence, bidirectional overrides and all, on a page of the portal's own address.
 */
export function badField(field: string, message: string): PageError {
  if (!FIELD_NAME.test(field))
    return new PageError(400, 'Please check the form', `a field with an unusual name: ${message}`, 'form');
  return new PageError(400, 'Please check the form', `${field}: ${message}`, field);
}
