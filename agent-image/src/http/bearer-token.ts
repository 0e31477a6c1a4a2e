import type express from 'express';
import type { ControlAuthRefusalReason } from '../observability/agent-metrics.ts';

/** Longest bearer token read; a longer one is no control token and is never hashed. */
const MAX_TOKEN_LENGTH = 4096;
// The scheme is case-insensitive (RFC 9110 §11.1); the token is taken as sent.
const BEARER = new RegExp(`^Bearer ([^\\s]{1,${MAX_TOKEN_LENGTH}})$`, 'i');

/** What a request presents as its control token: the token, or null with why it has none. */
export type PresentedBearer = { token: string } | { token: null; reason: ControlAuthRefusalReason };

/** The bearer token of the request's Authorization header (node keeps only the first of duplicates). */
export function presentedBearer(request: express.Request): PresentedBearer {
  const header = request.get('authorization');
  if (header === undefined || header.trim() === '') return { token: null, reason: 'missing' };
  const token = BEARER.exec(header)?.[1];
  return token === undefined ? { token: null, reason: 'wrong' } : { token };
}
