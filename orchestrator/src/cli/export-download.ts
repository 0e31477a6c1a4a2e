import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { access, link, open, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { Listr } from 'listr2';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { verifyExportArchive, type ExportVerification } from '../services/export/export-archive-verifier.ts';
import type { FleetApiClient } from './fleet-api-client.ts';
import { progressOptions, withInertFailure } from './progress-options.ts';

export interface DownloadedExport {
  verification: ExportVerification;
  bytes: number;
}

export interface VerifiedDownload {
  /** What the progress line says, e.g. `export acme`. */
  title: string;
  clientId: ClientId;
  out: string;
  /** Where the progress goes (the CLI's stdout), or null for none (`--json`). */
  progressTo: NodeJS.WritableStream | null;
  publicKeyPem: string;
  /** Copies the archive to `sink` as it arrives. */
  download(sink: NodeJS.WritableStream): Promise<void>;
  /** The archive's SHA-256 when it is known in advance (an evidence bundle's, from the incident). */
  sha256?: string | undefined;
}

/**
 * Downloads a signed archive into a private temp file beside `out`, checks it against the fleet's public
 * key (signature, every digest, nothing missing or extra) and the expected SHA-256 if one is given, and
 * only then links it to `out`: `out` holds a complete, verified archive or nothing, and an existing file
 * is never replaced. Progress on the terminal.
 */
export async function downloadVerifiedArchive(request: VerifiedDownload): Promise<DownloadedExport> {
  const { out, clientId, title } = request;
  if (await access(out).then(() => true, () => false)) throw new FleetError('conflict', `${out} already exists: choose another file name`);
  const temporary = join(dirname(out), `.${basename(out)}.partial-${randomBytes(6).toString('hex')}`);
  let bytes = 0;
  const hash = createHash('sha256');
  let verification: ExportVerification | undefined;
  try {
    const steps = new Listr(
      [
        {
          title,
          task: withInertFailure(async (_context: unknown, task: { output: string; title: string }) => {
            const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
            const file = handle.createWriteStream({ flush: true });
            let shown = 0;
            const counting = new Writable({
              write(chunk: Buffer, _encoding, callback) {
                bytes += chunk.length;
                hash.update(chunk);
                if (bytes - shown >= 1024 * 1024) {
                  shown = bytes;
                  task.output = `${(bytes / 1024 / 1024).toFixed(1)} MiB received`;
                }
                if (file.write(chunk)) callback();
                else file.once('drain', () => callback());
              },
            });
            await request.download(counting);
            await new Promise<void>((resolve, reject) => file.end((error?: Error | null) => (error ? reject(error) : resolve())));
            task.title = `${title}: ${(bytes / 1024 / 1024).toFixed(1)} MiB`;
          }),
        },
        {
          title: 'verify signature and digests',
          task: withInertFailure(async () => {
            const digest = hash.digest('hex');
            if (request.sha256 !== undefined && digest !== request.sha256) {
              throw new FleetError('integrity', `the downloaded archive's SHA-256 is ${digest}, not the recorded ${request.sha256}`);
            }
            verification = await verifyExportArchive(createReadStream(temporary), request.publicKeyPem, { clientId });
            if (!verification.ok) throw new FleetError('integrity', `the downloaded archive does not verify: ${verification.problems.map((problem) => problem.message).join('; ')}`);
          }),
        },
      ],
      progressOptions(request.progressTo),
    );
    await steps.run();
    await link(temporary, out).catch((error: unknown) => {
      throw (error as NodeJS.ErrnoException).code === 'EEXIST' ? new FleetError('conflict', `${out} already exists: choose another file name`) : error;
    });
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  if (verification === undefined) throw new FleetError('internal', 'the archive was not verified');
  return { verification, bytes };
}

/** A client's complete export, downloaded and verified (see `downloadVerifiedArchive`). */
export async function downloadExport(api: FleetApiClient, clientId: ClientId, out: string, progressTo: NodeJS.WritableStream | null): Promise<DownloadedExport> {
  const { publicKeyPem } = await api.exportKey();
  return downloadVerifiedArchive({
    title: `export ${clientId}`,
    clientId,
    out,
    progressTo,
    publicKeyPem,
    download: (sink) => api.downloadExport(clientId, sink),
  });
}
