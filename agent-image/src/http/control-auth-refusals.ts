import type express from 'express';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { ControlAuthRefusalReason, ControlRouteFamily } from '../observability/agent-metrics.ts';

/** Where refusals are counted (AgentMetrics: agent_control_auth_refusals_total). */
export interface ControlAuthRefusalCounter {
  controlAuthRefused(route: ControlRouteFamily, reason: ControlAuthRefusalReason): void;
}

export interface ControlAuthRefusalsOptions {
  logger: Logger;
  /** Counts every refusal; none when absent (the log still tells). */
  counter?: ControlAuthRefusalCounter | undefined;
  /** Lines written per window, whatever the flood; default 5. */
  linesPerWindow?: number;
  /** Window length in milliseconds; default 60 000. */
  windowMs?: number;
  /** Milliseconds since the epoch; default Date.now. */
  now?: () => number;
}

/**
 * Control API requests refused for their credential: every one is counted, and a few a minute are
 * logged (warn). One budget for all callers, not one per address: a budget per address would let a
 * flood from many addresses fill memory and the log alike. Past the budget a refusal is only counted;
 * the next line written says how many were left out. A line names the route family, the reason and the
 * peer's address, never the path, a header or anything of the token.
 */
export class ControlAuthRefusals {
  private readonly options: ControlAuthRefusalsOptions;
  private readonly linesPerWindow: number;
  private readonly windowMs: number;
  private windowStart = Number.NEGATIVE_INFINITY;
  private written = 0;
  private suppressed = 0;

  constructor(options: ControlAuthRefusalsOptions) {
    this.options = options;
    this.linesPerWindow = options.linesPerWindow ?? 5;
    this.windowMs = options.windowMs ?? 60_000;
  }

  refused(request: express.Request, route: ControlRouteFamily, reason: ControlAuthRefusalReason): void {
    this.options.counter?.controlAuthRefused(route, reason);
    const now = this.options.now?.() ?? Date.now();
    // A clock stepping back starts a new window too, rather than muting the log until it catches up.
    if (!(now >= this.windowStart && now < this.windowStart + this.windowMs)) {
      this.windowStart = now;
      this.written = 0;
    }
    if (this.written >= this.linesPerWindow) {
      this.suppressed += 1;
      return;
    }
    this.written += 1;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    this.options.logger.warn('control API request refused: missing or wrong control token', {
      route,
      reason,
      method: request.method,
      remoteAddress: request.socket.remoteAddress ?? null,
      suppressedBefore: suppressed,
    });
  }
}
