import { createReadStream } from 'node:fs';
import { MAX_CONFIG_BYTES } from '@agent-fleet/kernel/client-config-document';
import { parseClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AgentRuntimeKind } from './orchestrator-client.ts';

export function runtimeOption(value: string): AgentRuntimeKind {
  if (value !== 'docker' && value !== 'kubernetes') {
    throw new FleetError(
      'invalid_input',
      `--runtime must be docker or kubernetes (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

/** Actions that go to the ops log say why. */
export function requiredReason(reason: string | undefined): string {
  if (!reason?.trim())
    throw new FleetError('invalid_input', 'a reason is required (--reason "…"): it goes to the ops log');
  return reason;
}

/** Decimal digits only: `Number` would also take `1e1`, `0x10`, `' 4 '` and `''` (as 0). */
export function wholeHoursOption(value: string): number {
  const hours = /^\d{1,2}$/.test(value) ? Number(value) : Number.NaN;
  if (!(hours >= 1 && hours <= 24))
    throw new FleetError('invalid_input', `--hours must be a whole number from 1 to 24 (got ${JSON.stringify(value)})`);
  return hours;
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2})))?$/;

/**
 * An ISO 8601 time as the API takes it (UTC, `Z`): a date-time with its zone (`Z` or an offset), or a
 * date alone for midnight UTC. Refused: a day the month does not have (`Date` would roll 2026-02-30 over
 * to 2 March), a time without a zone (read in whatever zone this machine has), and anything else `Date`
 * guesses at (`1`, `Dec 1`).
 */
export function isoTimeOption(name: string, value: string): string {
  const match = ISO_TIME.exec(value);
  if (match === null || !isRealTime(match.slice(1, 10).map((part) => Number(part ?? 0)))) {
    throw new FleetError(
      'invalid_input',
      `${name} must be an ISO 8601 time with its zone, e.g. 2026-12-01T09:00:00Z or 2026-12-01T10:00:00+01:00, or a date such as 2026-12-01 (midnight UTC) (got ${JSON.stringify(value)})`,
    );
  }
  return new Date(match[4] === undefined ? `${value}T00:00:00Z` : value).toISOString();
}

/** Year, month, day, hour, minute, second, (zone), offset hours and minutes: a day the month has, a real clock time. */
function isRealTime([year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, , offsetHours = 0, offsetMinutes = 0]: number[]): boolean {
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year);
  const sameDay = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return sameDay && hour <= 23 && minute <= 59 && second <= 59 && offsetHours <= 23 && offsetMinutes <= 59;
}

/**
 * A client config document from a file, or from standard input for `-`: refused by name when the path is
 * empty, the file cannot be read, it is over the 1 MiB every config is held to (read no further, so
 * `/dev/zero` cannot fill the memory), or it is not UTF-8 (which would otherwise turn into U+FFFD unseen).
 */
export async function readConfigFile(file: string, stdin: AsyncIterable<Buffer | string> = process.stdin): Promise<string> {
  if (file.trim() === '') throw new FleetError('invalid_input', 'the config file path is empty: name a YAML file, or - for standard input');
  const what = file === '-' ? 'the config on standard input' : `config file ${file}`;
  try {
    return await readBoundedText(file === '-' ? stdin : createReadStream(file), what, MAX_CONFIG_BYTES);
  } catch (error) {
    if (error instanceof FleetError) throw error;
    throw new FleetError('invalid_input', `cannot read ${what}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * A client config document read by `readConfigFile` and checked as the service and the agent check it, so
 * that a bad document is refused naming the file (the service's refusal names only "the settings document"
 * or "config of <client>") before the service is reached or started. Returns the text as read.
 */
export async function readClientConfigFile(file: string, stdin: AsyncIterable<Buffer | string> = process.stdin): Promise<string> {
  const text = await readConfigFile(file, stdin);
  parseClientConfigYaml(text, file === '-' ? 'the config on standard input' : `config file ${file}`);
  return text;
}

/** All of a stream as UTF-8 text, refused once it passes `maxBytes` or when it is not valid UTF-8. */
export async function readBoundedText(stream: AsyncIterable<Buffer | string>, what: string, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > maxBytes) throw new FleetError('invalid_input', `${what} is larger than ${maxBytes} bytes`);
    chunks.push(bytes);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch (error) {
    throw new FleetError('invalid_input', `${what} is not UTF-8 text: save it as UTF-8`, { cause: error });
  }
}
