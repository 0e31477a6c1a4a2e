import { randomBytes } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { access, link, open, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { Listr } from 'listr2';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { verifyExportArchive, type ExportVerification } from '../services/export/export-archive-verifier.ts';
import type { FleetApiClient } from './fleet-api-client.ts';

export interface DownloadedExport {
  verification: ExportVerification;
  bytes: number;
}

/**
 * Downloads a client's export into a private temp file beside `out`, checks it against the fleet's public
 * key (signature, every digest, nothing missing or extra), and only then links it to `out`: `out` holds a
 * complete, verified archive or nothing, and an existing file is never replaced. Progress on the terminal.
 */
export async function downloadExport(api: FleetApiClient, clientId: ClientId, out: string, showProgress: boolean): Promise<DownloadedExport> {
  if (await access(out).then(() => true, () => false)) throw new FleetError('conflict', `${out} already exists: choose another file name`);
  const { publicKeyPem } = await api.exportKey();
  const temporary = join(dirname(out), `.${basename(out)}.partial-${randomBytes(6).toString('hex')}`);
  let bytes = 0;
  let verification: ExportVerification | undefined;
  try {
    const steps = new Listr(
      [
        {
          title: `export ${clientId}`,
          task: async (_context: unknown, task: { output: string; title: string }) => {
            const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
            const file = handle.createWriteStream({ flush: true });
            let shown = 0;
            const counting = new Writable({
              write(chunk: Buffer, _encoding, callback) {
                bytes += chunk.length;
                if (bytes - shown >= 1024 * 1024) {
                  shown = bytes;
                  task.output = `${(bytes / 1024 / 1024).toFixed(1)} MiB received`;
                }
                if (file.write(chunk)) callback();
                else file.once('drain', () => callback());
              },
            });
            await api.downloadExport(clientId, counting);
            await new Promise<void>((resolve, reject) => file.end((error?: Error | null) => (error ? reject(error) : resolve())));
            task.title = `export ${clientId}: ${(bytes / 1024 / 1024).toFixed(1)} MiB`;
          },
        },
        {
          title: 'verify signature and digests',
          task: async () => {
            verification = await verifyExportArchive(createReadStream(temporary), publicKeyPem, { clientId });
            if (!verification.ok) throw new FleetError('integrity', `the downloaded export does not verify: ${verification.problems.map((problem) => problem.message).join('; ')}`);
          },
        },
      ],
      { concurrent: false, exitOnError: true, renderer: showProgress ? (process.stdout.isTTY ? 'default' : 'simple') : 'silent', rendererOptions: { collapseErrors: false } },
    );
    await steps.run();
    await link(temporary, out).catch((error: unknown) => {
      throw (error as NodeJS.ErrnoException).code === 'EEXIST' ? new FleetError('conflict', `${out} already exists: choose another file name`) : error;
    });
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  if (verification === undefined) throw new FleetError('internal', 'the export was not verified');
  return { verification, bytes };
}
