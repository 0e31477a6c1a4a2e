import { createReadStream, type ReadStream } from 'node:fs';
import { access, open, writeFile, type FileHandle } from 'node:fs/promises';
import type { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { verifyExportArchive } from '../../services/export/export-archive-verifier.ts';
import type { CliContext } from '../cli-context.ts';
import { downloadExport } from '../export-download.ts';
import { formatExportVerification, formatExportWritten } from '../format/data-lifecycle.ts';
import { readBoundedText } from '../options.ts';

/** A PEM public key is a few hundred bytes: more is not a key (and `/dev/zero` is read no further). */
const MAX_PUBLIC_KEY_BYTES = 64 * 1024;

async function readKey(file: string): Promise<string> {
  if (file.trim() === '') throw new FleetError('invalid_input', '--public-key names no file: give the PEM file, or leave the option out to ask the running orchestrator');
  try {
    return await readBoundedText(createReadStream(file), `the public key ${file}`, MAX_PUBLIC_KEY_BYTES);
  } catch (error) {
    if (error instanceof FleetError) throw error;
    throw new FleetError('invalid_input', `cannot read the public key ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The archive to verify, opened before it is read: a missing file, a directory or an empty path is a
 * usage error naming it, not an unhandled stream error that ends the process with a stack trace.
 */
async function openArchive(file: string): Promise<ReadStream> {
  if (file.trim() === '') throw new FleetError('invalid_input', 'the archive path is empty: name the export file to verify');
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, 'r');
    if ((await handle.stat()).isDirectory()) throw new Error('it is a directory');
    return handle.createReadStream();
  } catch (error) {
    await handle?.close();
    throw new FleetError('invalid_input', `cannot read the archive ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The file `export public-key --out` writes, checked before the service is reached: `--out ""` (an unset
 * shell variable) names no file rather than meaning "print it", and an existing file is never replaced.
 */
async function keyOutFile(out: string | undefined): Promise<string | undefined> {
  if (out === undefined) return undefined;
  if (out.trim() === '') throw new FleetError('invalid_input', '--out names no file: give the file to write the PEM to, or leave the option out to print it');
  if (await access(out).then(() => true, () => false)) throw new FleetError('conflict', `${out} already exists: choose another file name`);
  return out;
}

/** Writes the PEM to a new file; one that appeared meanwhile is a conflict, any other failure names the file. */
async function writeKeyFile(out: string, pem: string): Promise<void> {
  try {
    await writeFile(out, pem, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new FleetError('conflict', `${out} already exists: choose another file name`, { cause: error });
    throw new FleetError('invalid_input', `cannot write ${out}: ${(error as Error).message}`, { cause: error });
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
      const expect = options.client === undefined ? {} : { clientId: parseClientId(options.client) };
      const key = options.publicKey !== undefined ? await readKey(options.publicKey) : (await (await context.api()).exportKey()).publicKeyPem;
      const archive = await openArchive(file);
      const verification = await verifyExportArchive(archive, key, expect).finally(() => archive.destroy());
      context.print(verification, () => formatExportVerification(file, verification));
      if (!verification.ok) context.failWith('integrity');
    });
  exporting
    .command('public-key')
    .description('print (or write) the fleet’s public export key, for auditors to verify exports')
    .option('--out <file>', 'write the PEM to this file')
    .action(async (_options: unknown, command: Command) => {
      // `--out` is also an option of `export`, which takes it: read it from the merged options.
      const out = await keyOutFile(command.optsWithGlobals<{ out?: string }>().out);
      const key = await (await context.api()).exportKey();
      if (out !== undefined) await writeKeyFile(out, key.publicKeyPem);
      context.print(key, () => (out !== undefined ? `${out}: ${key.keyId}` : `${key.publicKeyPem.trimEnd()}\n# ${key.keyId}`));
    });
}
