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

export function badField(field: string, message: string): PageError {
  return new PageError(400, 'Please check the form', `${field}: ${message}`, field);
}
