import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as path from 'path';
import type { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import type { dockerSavePostProcessor } from './declaration';
import { abortError } from '../../../engine/build';
import type { Artifact, BuildEnvironment, PostProcessResult, PostProcessorRuntime } from '../../../engine/types';
import type { ConfigOf } from '../../../template/component';
import { DOCKER_IMPORT_ID, DOCKER_TAG_ID } from '../../docker/artifacts';
import { dockerClient, explainDockerError } from '../../docker/client';

/**
 * docker-save: `docker save` of the input image into `path`. The tar is
 * written under a temporary name next to `path` and renamed when complete.
 * Returns its input unchanged, so it appears twice in the final list, as in
 * Packer.
 */

type SaveConfig = ConfigOf<typeof dockerSavePostProcessor.fields>;

const GO_ERRNO: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
};

export const postProcessor: PostProcessorRuntime = {
  async postProcess(env: BuildEnvironment, rawConfig: Readonly<Record<string, unknown>>, input: Artifact): Promise<PostProcessResult> {
    const config = rawConfig as SaveConfig;
    const { ui, signal } = env;
    if (input.builderId !== DOCKER_IMPORT_ID && input.builderId !== DOCKER_TAG_ID) {
      throw new Error(`Unknown artifact type: ${input.builderId}\nCan only save Docker builder artifacts.`);
    }
    const given = config.path ?? '';
    const target = given ? path.resolve(env.interpolation.cwd ?? process.cwd(), given) : '';
    const partial = `${target}.kiln-partial-${randomBytes(4).toString('hex')}`;
    let out: fs.WriteStream;
    try {
      if (!given) throw Object.assign(new Error('empty path'), { code: 'ENOENT' });
      if ((await fsp.stat(target).catch(() => undefined))?.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      out = fs.createWriteStream(partial, { mode: 0o644 });
      await new Promise<void>((resolve, reject) => {
        out.once('open', () => resolve());
        out.once('error', reject);
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      throw new Error(`Error creating output file: open ${given}: ${GO_ERRNO[code] ?? (e as Error).message}`);
    }
    env.journal?.add('file', partial);
    let renamed = false;
    env.cleanups.defer(`partial file ${partial}`, async () => {
      if (!renamed) await fsp.rm(partial, { force: true });
      env.journal?.remove('file', partial);
    });

    ui.message(`Saving image: ${input.id}`);
    try {
      const stream = await dockerClient().getImage(input.id).get() as unknown as Readable;
      await pipeline(stream, out, { signal });
      await fsp.rename(partial, target);
      renamed = true;
      env.journal?.remove('file', partial);
    } catch (e) {
      out.destroy();
      await fsp.rm(partial, { force: true });
      if (signal.aborted) throw abortError(signal);
      throw new Error(`Error exporting: ${explainDockerError(e)}`);
    }
    ui.message(`Saved to: ${given}`);
    return { artifact: input, keep: true, forceKeep: false };
  },
};
