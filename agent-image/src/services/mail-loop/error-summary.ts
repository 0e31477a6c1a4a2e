/** How long an error's summary may be inside an audit record's parameters. */
const SUMMARY_LIMIT = 300;

/** An error as one bounded line for an audit record ("Name: message"). Pure. */
export function errorSummary(error: unknown): string {
  const line = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return line.slice(0, SUMMARY_LIMIT);
}
