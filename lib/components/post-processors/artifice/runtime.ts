import * as fs from 'fs';
import * as path from 'path';
import type { artificePostProcessor } from './declaration';
import { glob } from './glob';
import type { PostProcessorRuntime } from '../../../engine/types';
import type { ConfigOf } from '../../../template/component';
import { goPathError } from '../compress/go-errors';
import { FilesArtifact } from '../files-artifact';

/**
 * artifice: replaces the artifact with the files named in `files` (Go glob
 * patterns, relative to the working directory), so that later
 * post-processors in the chain work on them. Its input is kept by default.
 *
 * Difference from Packer 1.6.6: a malformed pattern (`[`) makes Packer's
 * plugin crash; Kiln fails the post-processor with Go's `syntax error in
 * pattern`.
 */

export const ARTIFICE_BUILDER_ID = 'packer.post-processor.artifice';

type ArtificeConfig = ConfigOf<typeof artificePostProcessor.fields>;

export const postProcessor: PostProcessorRuntime = {
  async postProcess(env, rawConfig, input) {
    const config = rawConfig as ArtificeConfig;
    const cwd = env.interpolation.cwd ?? process.cwd();
    if (input.files.length > 0) env.ui.say(`Discarding files from artifact: ${input.files.join(', ')}`);
    const files: string[] = [];
    for (const pattern of config.files) {
      for (const match of glob(pattern, cwd)) {
        try {
          fs.statSync(path.resolve(cwd, match));
        } catch (e) {
          throw new Error(goPathError('stat', match, e));
        }
        files.push(match);
      }
    }
    env.ui.say(`Using these artifact files: ${files.join(', ')}`);
    return { artifact: new FilesArtifact(ARTIFICE_BUILDER_ID, files, cwd), keep: true, forceKeep: false };
  },
};
