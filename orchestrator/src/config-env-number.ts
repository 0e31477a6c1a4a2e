import * as z from 'zod';

const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * A number read from an environment variable, written in decimal, then checked by `schema`. Coercion alone
 * (`z.coerce.number()`) reads an empty or blank value as 0, so `ORCHESTRATOR_PORT=` in an env file would
 * listen on a random port and an empty RECONCILE_INTERVAL_SECONDS would turn reconciling off, and it reads
 * "0x1F" or "1e3" as numbers; each of those is refused with the variable's name instead.
 */
export function envNumber<Schema extends z.ZodType<number, number>>(schema: Schema) {
  return z.string().trim().regex(DECIMAL, 'must be a decimal number, e.g. 30').transform(Number).pipe(schema);
}
