import type { Readable } from 'stream';
import type Docker from 'dockerode';
import type { dockerPushPostProcessor } from './declaration';
import { abortError } from '../../../engine/build';
import type { Artifact, BuildEnvironment, PostProcessResult, PostProcessorRuntime } from '../../../engine/types';
import type { ConfigOf } from '../../../template/component';
import { DOCKER_IMPORT_ID, DOCKER_TAG_ID, ImageArtifact, dockerTagsOf } from '../../docker/artifacts';
import { dockerClient, explainDockerError } from '../../docker/client';
import { splitReference } from '../../docker/reference';
import { progressLine, readProgress } from '../../docker/streams';

/**
 * docker-push: pushes the input image and then every tag docker-tag gave it
 * (after docker-tag the last tag is pushed twice, as in Packer). With
 * `login`, the credentials are checked first and sent with each push;
 * without, an empty `X-Registry-Auth` is sent, which the engine requires.
 * Errors arrive inside the progress stream and fail the push.
 */

type PushConfig = ConfigOf<typeof dockerPushPostProcessor.fields>;

export const postProcessor: PostProcessorRuntime = {
  async postProcess(env: BuildEnvironment, rawConfig: Readonly<Record<string, unknown>>, input: Artifact): Promise<PostProcessResult> {
    const config = rawConfig as PushConfig;
    const { ui, signal } = env;
    if (input.builderId !== DOCKER_IMPORT_ID && input.builderId !== DOCKER_TAG_ID) {
      throw new Error(`Unknown artifact type: ${input.builderId}\nCan only import from docker-import and docker-tag artifacts.`);
    }
    if (config.ecr_login) throw new Error('"ecr_login" is not supported by Kiln yet; use "login" with "login_username", "login_password" and "login_server"');
    const docker = dockerClient();
    const auth: Docker.AuthConfig = config.login
      ? { username: config.login_username ?? '', password: config.login_password ?? '', serveraddress: config.login_server ?? '' }
      : {} as Docker.AuthConfig;

    if (config.login) {
      ui.message('Logging in...');
      try {
        await docker.checkAuth({ ...auth, abortSignal: signal });
      } catch (e) {
        if (signal.aborted) throw abortError(signal);
        throw new Error(`Error logging in to Docker: ${explainDockerError(e)}`);
      }
    }
    const tags = dockerTagsOf(input);
    const names = [input.id, ...tags];
    try {
      for (const name of names) {
        ui.message(`Pushing: ${name}`);
        await push(docker, name, auth, signal, (line) => ui.message(line));
      }
    } finally {
      if (config.login) ui.message('Logging out...');
    }
    return { artifact: new ImageArtifact(DOCKER_IMPORT_ID, names[0], { docker_tags: tags }), keep: true, forceKeep: false };
  },
};

async function push(docker: Docker, name: string, auth: Docker.AuthConfig, signal: AbortSignal, say: (line: string) => void): Promise<void> {
  try {
    const { repo, tag } = splitReference(name);
    const stream = await docker.getImage(repo).push({ tag, authconfig: auth, abortSignal: signal } as Record<string, unknown>);
    await readProgress(stream as unknown as Readable, (m) => {
      const line = progressLine(m);
      if (line) say(line);
    }, signal);
  } catch (e) {
    if (signal.aborted) throw abortError(signal);
    throw new Error(`Error pushing ${name}: ${explainDockerError(e)}`);
  }
}
