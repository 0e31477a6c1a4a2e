import * as z from 'zod';
import { jsonBodyParser } from './json-body.ts';

/** Bounds of an introduction's fields (the orchestrator's wrap, Vault address and creation path). */
const MAX_WRAPPING_TOKEN = 1000;
const MAX_VAULT_ADDR = 1000;
const MAX_CREATION_PATH = 200;

/** The body of the open introduction routes (`/v1/introduce`, `/v1/data-export/session`). */
export const introductionBody = z
  .object({
    wrappingToken: z.string().min(1).max(MAX_WRAPPING_TOKEN),
    vaultAddr: z.url().max(MAX_VAULT_ADDR).optional(),
    creationPath: z.string().min(1).max(MAX_CREATION_PATH),
  })
  .strict();

/**
 * What an introduction may weigh: its longest valid form is about 2.3 kB of JSON, and these routes read it
 * from anyone who reaches the port, before any credential is checked; the default 256 kB would let each
 * such request cost a hundred times that in buffering and parsing.
 */
export const INTRODUCTION_BODY_LIMIT_BYTES = 4 * 1024;

/** The JSON body parser of the open introduction routes, bounded by INTRODUCTION_BODY_LIMIT_BYTES. */
export function introductionBodyParser(): ReturnType<typeof jsonBodyParser> {
  return jsonBodyParser(`${INTRODUCTION_BODY_LIMIT_BYTES}b`);
}
