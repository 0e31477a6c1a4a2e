import tar from 'tar-stream';

/** A tar archive holding one file, for the Engine's archive API (how config reaches a volume). */
export function tarSingleFile(name: string, content: string, options: { uid: number; gid: number; mode: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const pack = tar.pack();
    const chunks: Buffer[] = [];
    pack.on('data', (chunk: Buffer) => chunks.push(chunk));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
    pack.entry({ name, mode: options.mode, uid: options.uid, gid: options.gid, mtime: new Date() }, content, (error) => {
      if (error) reject(error);
      else pack.finalize();
    });
  });
}
