import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Readable } from 'stream';

/** Streams up to this size are measured in memory; larger ones go to a scratch file. */
const MEMORY_SPOOL_LIMIT = 8 * 1024 * 1024;

export interface Spooled {
  readonly size: number;
  /** The scratch file, when one was used: the caller removes it. */
  readonly file?: string;
  /** A fresh stream of the content. */
  open(): Readable;
}

/**
 * Measures a stream of unknown length (uploads must announce their size):
 * in memory when small, else in a private scratch file under `tempDir()`.
 */
export async function spool(src: Readable, tempDir?: () => Promise<string>): Promise<Spooled> {
  const chunks: Buffer[] = [];
  let size = 0;
  let file: string | undefined;
  let out: fs.WriteStream | undefined;
  for await (const chunk of src) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += b.length;
    if (out) {
      if (!out.write(b)) await new Promise<void>((r) => out!.once('drain', () => r()));
      continue;
    }
    chunks.push(b);
    if (size > MEMORY_SPOOL_LIMIT) {
      const dir = tempDir ? await tempDir() : os.tmpdir();
      file = path.join(dir, `kiln-upload-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
      out = fs.createWriteStream(file, { mode: 0o600 });
      for (const c of chunks) out.write(c);
      chunks.length = 0;
    }
  }
  if (out) {
    await new Promise<void>((resolve, reject) => out!.end((err?: Error | null) => (err ? reject(err) : resolve())));
    const f = file!;
    return { size, file: f, open: () => fs.createReadStream(f) };
  }
  const whole = Buffer.concat(chunks);
  return { size, open: () => Readable.from([whole]) };
}
