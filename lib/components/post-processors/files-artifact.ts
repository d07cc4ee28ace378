import * as fsp from 'fs/promises';
import * as path from 'path';
import type { Artifact } from '../../engine/types';

/**
 * An artifact that is just a list of files (artifice, checksum): destroying it
 * deletes them, recursively and in turn, as Packer's `os.RemoveAll` loop does.
 */
export class FilesArtifact implements Artifact {
  public readonly id = '';
  public readonly state = {};

  constructor(public readonly builderId: string, public readonly files: readonly string[], private readonly cwd: string) {}

  public describe(): string {
    return `Created artifact from files: ${this.files.join(', ')}`;
  }

  public async destroy(): Promise<void> {
    for (const f of this.files) await fsp.rm(path.resolve(this.cwd, f), { recursive: true, force: true });
  }
}
