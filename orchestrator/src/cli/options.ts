import { createReadStream } from 'node:fs';
import { MAX_CONFIG_BYTES } from '@agent-fleet/kernel/client-config-document';
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

export function wholeHoursOption(value: string): number {
  const hours = Number(value);
  if (!Number.isInteger(hours))
    throw new FleetError('invalid_input', '--hours must be a whole number from 1 to 24');
  return hours;
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
