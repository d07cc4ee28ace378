import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as path from 'path';
import type { BuildUi, Communicator } from '../../engine/types';

/** Adds the context Packer gives a failed step, keeping the cause on the same line. */
export async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
}

export interface GuestOptions {
  /** Put `sudo` in front of the commands that create directories. */
  readonly sudo?: boolean;
  /** Open created directories to everyone (`chmod 0777`), so uploads work whichever user the communicator is. */
  readonly openDirectories?: boolean;
}

const FAILED = 'Non-zero exit status. See output above for more information.';

/**
 * A unix machine as the provisioners that stage files on it (ansible-local,
 * puppet-masterless) use it: commands with their output shown, directories
 * created, files and directory contents uploaded through the communicator.
 */
export class Guest {
  constructor(
    private readonly comm: Communicator,
    private readonly ui: BuildUi,
    private readonly signal: AbortSignal,
    private readonly options: GuestOptions = {},
  ) {}

  /** Runs a command with its output shown; resolves to the exit code. */
  public run(command: string): Promise<number> {
    return this.comm.exec(command, { stdout: (l) => this.ui.message(l), stderr: (l) => this.ui.error(l), signal: this.signal });
  }

  public async mkdir(dir: string): Promise<void> {
    const sudo = this.options.sudo ? 'sudo ' : '';
    this.ui.message(`Creating directory: ${dir}`);
    if (await this.run(`${sudo}mkdir -p '${dir}'`) !== 0) throw new Error(FAILED);
    if (this.options.openDirectories && await this.run(`${sudo}chmod 0777 '${dir}'`) !== 0) throw new Error(FAILED);
  }

  public async uploadFile(dst: string, src: string): Promise<void> {
    let size: number;
    try {
      size = (await fsp.stat(src)).size;
    } catch (e) {
      throw new Error(`Error opening: ${(e as Error).message}`);
    }
    try {
      await this.comm.upload(dst, fs.createReadStream(src), { size });
    } catch (e) {
      throw new Error(`Error uploading ${src}: ${(e as Error).message}`);
    }
  }

  /** Creates `dst` and copies the contents of the local directory `src` into it. */
  public async uploadDir(dst: string, src: string): Promise<void> {
    await this.mkdir(dst);
    await this.comm.uploadDir(dst, src.endsWith(path.sep) ? src : src + path.sep);
  }
}
