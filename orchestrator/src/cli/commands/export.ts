import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { verifyExportArchive } from '../../services/export/export-archive-verifier.ts';
import type { CliContext } from '../cli-context.ts';
import { downloadExport } from '../export-download.ts';
import { formatExportVerification, formatExportWritten } from '../format/data-lifecycle.ts';

async function readKey(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new FleetError('invalid_input', `cannot read the public key ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/** export, export verify, export public-key: everything held about a client, signed, checkable offline. */
export function registerExportCommands(program: Command, context: CliContext): void {
  const exporting = program
    .command('export')
    .description('write everything the fleet holds about a client to a signed tar archive (needs an approved support grant)')
    .argument('[client]')
    .option('--out <file>', 'the archive to write (never replaced if it exists)')
    .action(async (rawClientId: string | undefined, options: { out?: string }) => {
      if (rawClientId === undefined) throw new FleetError('invalid_input', 'usage: fleet export <client> --out <file>');
      const clientId = parseClientId(rawClientId);
      if (!options.out) throw new FleetError('invalid_input', '--out <file> is required');
      const result = await downloadExport(await context.api(), clientId, options.out, context.json ? null : context.io.stdout);
      context.print({ file: options.out, bytes: result.bytes, manifest: result.verification.manifest }, () => formatExportWritten(options.out ?? '', result.verification, result.bytes));
    });
  exporting
    .command('verify')
    .description('check an export offline: the signature, every file’s size and SHA-256, nothing missing or extra')
    .argument('<file>')
    .option('--public-key <pem>', 'the fleet’s public export key (default: ask the running orchestrator)')
    .option('--client <id>', 'also require the export to be of this client')
    .action(async (file: string, options: { publicKey?: string; client?: string }) => {
      const key = options.publicKey ? await readKey(options.publicKey) : (await (await context.api()).exportKey()).publicKeyPem;
      const verification = await verifyExportArchive(createReadStream(file), key, options.client ? { clientId: parseClientId(options.client) } : {});
      context.print(verification, () => formatExportVerification(file, verification));
      if (!verification.ok) context.failWith('integrity');
    });
  exporting
    .command('public-key')
    .description('print (or write) the fleet’s public export key, for auditors to verify exports')
    .option('--out <file>', 'write the PEM to this file')
    .action(async (_options: unknown, command: Command) => {
      // `--out` is also an option of `export`, which takes it: read it from the merged options.
      const options = command.optsWithGlobals<{ out?: string }>();
      const key = await (await context.api()).exportKey();
      if (options.out) await writeFile(options.out, key.publicKeyPem, { flag: 'wx' });
      context.print(key, () => (options.out ? `${options.out}: ${key.keyId}` : `${key.publicKeyPem.trimEnd()}\n# ${key.keyId}`));
    });
}
