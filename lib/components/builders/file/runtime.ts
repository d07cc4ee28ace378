import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as path from 'path';
import { Transform } from 'stream';
import { pipeline } from 'stream/promises';
import { Communicator } from './communicator';
import type { Artifact, BuilderRuntime } from '../../../engine/types';

/** Packer's id for artifacts of the file builder. */
export const FILE_BUILDER_ID = 'packer.file';

interface FileConfig {
  readonly target: string;
  readonly source?: string;
  readonly content?: string;
}

/** The file written; `files` holds the target as the template gave it, as in Packer. */
export class FileArtifact implements Artifact {
  public readonly builderId = FILE_BUILDER_ID;
  public readonly id = 'File';
  public readonly files: readonly string[];
  /** No generated data: `{{ build `ID` }}` renders as `<no value>` in post-processors. */
  public readonly state = {};

  constructor(private readonly target: string, private readonly absPath: string) {
    this.files = [target];
  }

  public describe(): string {
    return `Stored file: ${this.target}`;
  }

  /** Deletes the file; fails if it is already gone, as Packer's does. */
  public async destroy(): Promise<void> {
    await fsp.unlink(this.absPath);
  }
}

/**
 * Writes `target` from `source` (copied) or `content` (mode 0600), creating
 * missing parent directories (0755), then runs the provisioners against a
 * stand-in communicator.
 *
 * Difference from Packer: when the build fails or is cancelled before it
 * finishes, Kiln removes the target and the directories it created for it
 * (Packer leaves them). `-on-error=abort` keeps them, as it keeps everything.
 */
export const builder: BuilderRuntime = {
  async run(env, raw, provision) {
    const { ui, signal } = env;
    const config = raw as unknown as FileConfig;
    const cwd = env.interpolation.cwd ?? process.cwd();
    const target = config.target;
    const absTarget = path.resolve(cwd, target);

    // Opened before anything is made, so a missing source leaves no directory behind and an existing target alone.
    const source = config.source ? await fsp.open(path.resolve(cwd, config.source), 'r') : undefined;
    const dir = path.dirname(target);
    let createdDir: string | undefined;
    try {
      if (dir !== '.') createdDir = await fsp.mkdir(path.resolve(cwd, dir), { recursive: true, mode: 0o755 });
    } catch (e) {
      await source?.close();
      throw e;
    }

    let finished = false;
    env.journal?.add('file', absTarget);
    env.cleanups.defer(`unfinished file ${target}`, async () => {
      if (!finished) {
        // Only a file is removed: a target that names a directory was never written.
        await fsp.unlink(absTarget).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT' && e.code !== 'EISDIR') throw e;
        });
        if (createdDir) await removeEmptyDirs(path.dirname(absTarget), createdDir);
      }
      env.journal?.remove('file', absTarget);
    });

    if (source) {
      try {
        ui.say(`Copying ${config.source} to ${target}`);
        let bytes = 0;
        const count = new Transform({
          transform(chunk: Buffer, _enc, done) {
            bytes += chunk.length;
            done(null, chunk);
          },
        });
        await pipeline(source.createReadStream({ autoClose: false }), count, fs.createWriteStream(absTarget, { mode: 0o666 }), { signal });
        ui.say(`Copied ${bytes} bytes`);
      } finally {
        await source.close();
      }
    } else {
      // An empty content makes an empty file.
      await fsp.writeFile(absTarget, config.content ?? '', { mode: 0o600 });
    }

    // Packer hands the provisioners no generated data here.
    await provision(new Communicator(), {});
    finished = true;
    return new FileArtifact(target, absTarget);
  },
};

/** Removes `from` and its parents up to and including `upTo`, stopping at the first one that is not empty. */
async function removeEmptyDirs(from: string, upTo: string): Promise<void> {
  const stop = path.resolve(upTo);
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    try {
      await fsp.rmdir(dir);
    } catch {
      return;
    }
    if (dir === stop || path.dirname(dir) === dir) return;
  }
}
