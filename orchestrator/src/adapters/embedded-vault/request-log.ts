/** One served request, as recorded for audits and tests. Never a token value or a body. */
export interface RequestLogEntry {
  time: string;
  method: string;
  path: string;
  /** Accessor of the token that made the request, null when there was no valid token. */
  accessor: string | null;
  status: number;
}

/** A bounded in-memory log of served requests (the oldest entries are dropped first). */
export class RequestLog {
  private readonly limit: number;
  private readonly items: RequestLogEntry[] = [];

  constructor(limit = 10_000) {
    this.limit = limit;
  }

  record(entry: RequestLogEntry): void {
    this.items.push(entry);
    if (this.items.length > this.limit) this.items.splice(0, this.items.length - this.limit);
  }

  entries(): readonly RequestLogEntry[] {
    return [...this.items];
  }

  /** Requests made with the token behind this accessor (e.g. to prove a killed agent stopped). */
  byAccessor(accessor: string): readonly RequestLogEntry[] {
    return this.items.filter((entry) => entry.accessor === accessor);
  }
}
