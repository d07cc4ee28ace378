import type { Readable, Writable } from 'stream';
import type { Communicator as CommunicatorContract, ExecIo } from '../../../engine/types';

/**
 * The stand-in that the file builder gives provisioners, like Packer's mock
 * communicator: commands "run" without output and exit 0, uploads are read and
 * thrown away, downloads deliver nothing. A `shell` provisioner with `exit 3`
 * therefore succeeds, as it does in Packer.
 */
export class Communicator implements CommunicatorContract {
  public async exec(_command: string, io: ExecIo): Promise<number> {
    if (io.stdin) await drain(io.stdin);
    return 0;
  }

  public async upload(_dst: string, src: Readable): Promise<void> {
    await drain(src);
  }

  public async uploadDir(): Promise<void> {
    // Nothing is copied anywhere.
  }

  /** Writes nothing; `dst` stays open, it belongs to the caller. */
  public async download(_src: string, _dst: Writable): Promise<void> {
    // The remote file is empty.
  }

  public async downloadDir(): Promise<void> {
    // Nothing to copy.
  }
}

/** Reads a stream to its end, discarding the data. */
async function drain(stream: Readable): Promise<void> {
  for await (const chunk of stream) void chunk;
}
