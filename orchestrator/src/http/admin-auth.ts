import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * Bearer-token check for the TCP API. Only the token's SHA-256 is configured, so no usable credential
 * sits in the orchestrator's config or environment. Without a configured hash the TCP API is closed.
 */
export function requireAdminToken(expectedSha256Hex: string | undefined): RequestHandler {
  const expected = expectedSha256Hex ? Buffer.from(expectedSha256Hex, 'hex') : null;
  return (request, _response, next) => {
    if (!expected) {
      next(new FleetError('forbidden', 'the TCP API is disabled: set ORCHESTRATOR_ADMIN_TOKEN_SHA256, or use the local socket'));
      return;
    }
    const match = /^Bearer ([A-Za-z0-9._~+/=-]{16,512})$/.exec(request.get('authorization') ?? '');
    const presented = match ? createHash('sha256').update(match[1]!).digest() : Buffer.alloc(32);
    if (!match || !timingSafeEqual(presented, expected)) {
      next(new FleetError('unauthorized', 'missing or invalid admin bearer token'));
      return;
    }
    next();
  };
}
