import type { dockerTagPostProcessor } from './declaration';
import type { Artifact, BuildEnvironment, PostProcessResult, PostProcessorRuntime } from '../../../engine/types';
import type { ConfigOf } from '../../../template/component';
import { DOCKER_IMPORT_ID, DOCKER_TAG_ID, ImageArtifact } from '../../docker/artifacts';
import { dockerClient, explainDockerError } from '../../docker/client';
import { splitReference } from '../../docker/reference';

/**
 * docker-tag: gives the image of a commit, import or earlier tag artifact
 * `repository:tag` for each of `tags` (then the deprecated `tag`), or plain
 * `repository` when there is none. The input is always kept, whatever
 * `keep_input_artifact` says: removing it would remove the tags.
 */

type TagConfig = ConfigOf<typeof dockerTagPostProcessor.fields>;

/** `docker tag <image> <ref>` through the API. */
export async function tagImage(image: string, ref: string): Promise<void> {
  let target: { repo: string; tag: string };
  try {
    target = splitReference(ref);
  } catch (e) {
    throw new Error(`Error tagging image: ${(e as Error).message}`);
  }
  try {
    await dockerClient().getImage(image).tag(target);
  } catch (e) {
    throw new Error(`Error tagging image: ${explainDockerError(e)}`);
  }
}

export const postProcessor: PostProcessorRuntime = {
  async postProcess(env: BuildEnvironment, rawConfig: Readonly<Record<string, unknown>>, input: Artifact): Promise<PostProcessResult> {
    const config = rawConfig as TagConfig;
    const { ui } = env;
    if (config.tag?.length) {
      ui.say('Deprecation warning: "tag" option has been replaced with "tags". In future versions of Packer, this configuration may not work. Please call `packer fix` on your template to update.');
    }
    if (input.builderId !== DOCKER_TAG_ID && input.builderId !== DOCKER_IMPORT_ID) {
      throw new Error(`Unknown artifact type: ${input.builderId}\nCan only tag from Docker builder artifacts.`);
    }
    const repository = config.repository ?? '';
    const tags = [...(config.tags ?? []), ...(config.tag ?? [])];
    const refs: string[] = [];
    let last = repository;
    if (tags.length) {
      for (const tag of tags) {
        const ref = `${repository}:${tag}`;
        ui.message(`Tagging image: ${input.id}`);
        ui.message(`Repository: ${ref}`);
        await tagImage(input.id, ref);
        refs.push(ref);
        last = ref;
      }
    } else {
      ui.message(`Tagging image: ${input.id}`);
      ui.message(`Repository: ${repository}`);
      await tagImage(input.id, repository);
    }
    return { artifact: new ImageArtifact(DOCKER_TAG_ID, last, { docker_tags: refs }), keep: true, forceKeep: true };
  },
};
