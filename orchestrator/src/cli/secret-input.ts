import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { readBoundedText } from './options.ts';

/** Four times the 64 Ki characters the API takes for a secret (UTF-8 needs up to 4 bytes a character). */
export const MAX_STANDARD_INPUT_BYTES = 256 * 1024;

/**
 * All of standard input (a pipe or a redirected file), without the one trailing newline. Refused by name
 * when it passes the bound (read no further: `< /dev/zero` cannot fill the memory) or is not UTF-8 (a
 * secret would otherwise be stored with U+FFFD in place of its bytes, unseen).
 */
export async function readStandardInput(
  what = 'standard input',
  stdin: AsyncIterable<Buffer | string> = process.stdin,
): Promise<string> {
  return (await readBoundedText(stdin, what, MAX_STANDARD_INPUT_BYTES)).replace(/\r?\n$/, '');
}

/**
 * A secret from the operator, never from argv (ps shows it): piped, the whole of standard input; on a
 * terminal, one line typed at a prompt that echoes nothing.
 */
export async function readSecretInput(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return readStandardInput();
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const character of chunk) {
        if (character === '\r' || character === '\n' || character === '\u0004') {
          finish();
          resolve(value);
          return;
        }
        if (character === '\u0003') {
          finish();
          reject(new FleetError('invalid_input', 'cancelled'));
          return;
        }
        value = character === '\u007f' || character === '\b' ? value.slice(0, -1) : value + character;
      }
    };
    stdin.on('data', onData);
  });
}
