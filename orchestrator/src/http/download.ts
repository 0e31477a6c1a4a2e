import type { Response } from 'express';

/**
 * Streams an archive download: `write` writes it into the response. The download's headers go out with
 * its first byte; a refusal before that (unknown client, bundle gone, digest wrong) is the JSON error the
 * error middleware writes, without an attachment name that would make a browser save it as the archive.
 * Once bytes went out the status is sent: the response is cut, and a cut-off archive fails verification.
 */
export async function sendDownload(response: Response, fileName: string, write: (response: Response) => Promise<unknown>): Promise<void> {
  response.type('application/x-tar');
  response.setHeader('content-disposition', `attachment; filename="${fileName}"`);
  try {
    await write(response);
  } catch (error) {
    if (response.headersSent) {
      response.destroy(error as Error);
      return;
    }
    response.removeHeader('content-disposition');
    response.removeHeader('content-type');
    throw error;
  }
}
