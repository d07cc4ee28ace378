import * as fs from 'fs';
import * as path from 'path';
import type { Readable } from 'stream';
import type { dockerImportPostProcessor } from './declaration';
import { abortError } from '../../../engine/build';
import type { Artifact, BuildEnvironment, PostProcessResult, PostProcessorRuntime } from '../../../engine/types';
import type { ConfigOf } from '../../../template/component';
import { ARTIFICE_ID, DOCKER_BUILDER_ID, DOCKER_IMPORT_ID, ImageArtifact } from '../../docker/artifacts';
import { dockerClient, explainDockerError } from '../../docker/client';
import { invalidReference, parseReference } from '../../docker/reference';
import { readProgress } from '../../docker/streams';

/**
 * docker-import: turns the tar file of an exported container (or the first
 * file of an artifice artifact) into an image named `repository[:tag]`,
 * applying `changes`, through the import API. The tar is streamed from disk.
 */

type ImportConfig = ConfigOf<typeof dockerImportPostProcessor.fields>;

export const postProcessor: PostProcessorRuntime = {
  async postProcess(env: BuildEnvironment, rawConfig: Readonly<Record<string, unknown>>, input: Artifact): Promise<PostProcessResult> {
    const config = rawConfig as ImportConfig;
    const { ui, signal } = env;
    if (input.builderId !== DOCKER_BUILDER_ID && input.builderId !== ARTIFICE_ID) {
      throw new Error(`Unknown artifact type: ${input.builderId}\nCan only import from Docker builder and Artifice post-processor artifacts. `
        + 'If you are getting this error after having run the docker builder, it may be because you set commit: true in your Docker builder, '
        + 'so the image is already imported. ');
    }
    let repo = config.repository ?? '';
    if (config.tag) repo += `:${config.tag}`;
    ui.message(`Importing image: ${input.id}`);
    ui.message(`Repository: ${repo}`);
    if (repo && !parseReference(repo)) throw new Error(`Error importing container: ${invalidReference(repo).message}`);

    const file = input.files[0] ?? '';
    let body: fs.ReadStream;
    try {
      body = fs.createReadStream(file ? path.resolve(env.interpolation.cwd ?? process.cwd(), file) : file);
      await new Promise<void>((resolve, reject) => {
        body.once('open', () => resolve());
        body.once('error', reject);
      });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new Error(`open ${file}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
    }
    let id = '';
    try {
      const query: Record<string, unknown> = { abortSignal: signal };
      if (repo) query.repo = repo;
      if (config.changes?.length) query.changes = config.changes;
      const stream = await dockerClient().importImage(body, query);
      const messages = await readProgress(stream as unknown as Readable, () => {}, signal);
      id = messages.map((m) => m.status ?? '').filter((s) => s.startsWith('sha256:')).pop() ?? '';
    } catch (e) {
      body.destroy();
      if (signal.aborted) throw abortError(signal);
      throw new Error(`Error importing container: ${explainDockerError(e)}`);
    }
    ui.message(`Imported ID: ${id}`);
    return { artifact: new ImageArtifact(DOCKER_IMPORT_ID, repo), keep: false, forceKeep: false };
  },
};
