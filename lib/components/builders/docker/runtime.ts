import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as os from 'os';
import * as path from 'path';
import type { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import type Docker from 'dockerode';
import type { dockerBuilder } from './declaration';
import { abortError } from '../../../engine/build';
import type { Artifact, BuildEnvironment, BuilderRuntime, Communicator, GeneratedData, ProvisionHook } from '../../../engine/types';
import type { ConfigOf } from '../../../template/component';
import { renderRepeatedly } from '../../../template/interpolate';
import { ExportArtifact, ImageArtifact, DOCKER_IMPORT_ID } from '../../docker/artifacts';
import { dockerClient, explainDockerError, isEngineUnreachable, statusOf } from '../../docker/client';
import { DockerCommunicator, noneCommunicator } from '../../docker/communicator';
import { BUILD_LABEL, HOST_LABEL, PID_LABEL, RUN_LABEL, withoutKilnLabels } from '../../docker/labels';
import { builderRunArgs, parseRunArgs } from '../../docker/run-args';
import { progressLine, readProgress } from '../../docker/streams';
import { NO_HTTP } from '../generated-data';

/**
 * The docker builder, over the Docker Engine API. Packer's steps (pull, run,
 * connect, provision, then commit, export or discard) with the same output
 * lines and the same resulting images and files, but no `docker` processes
 * and no host directory bind-mounted into the container: uploads go through
 * the archive API.
 *
 * Every container carries the labels `kiln.run` and `kiln.build` and its
 * removal is registered the moment it exists, so neither a failure nor an
 * interrupt leaves one behind; `kiln cleanup` finds those of a killed run.
 */

type DockerConfig = ConfigOf<typeof dockerBuilder.fields>;

const DEFAULT_RUN_COMMAND = ['-d', '-i', '-t', '--entrypoint=/bin/sh', '--', '{{.Image}}'];

/** Fails a step: Packer prints the error in the build's UI, then the build ends with it. */
function stepError(env: BuildEnvironment, message: string): Error {
  if (!env.signal.aborted) env.ui.error(message);
  return new Error(message);
}

/** Packer's registry login options (docker builder and docker-push). */
export interface LoginOptions {
  readonly login?: boolean;
  readonly login_username?: string;
  readonly login_password?: string;
  readonly login_server?: string;
}

/** The `authconfig` for an Engine API call from Packer's login options; undefined without `login`. */
export function loginAuth(config: LoginOptions): Docker.AuthConfig | undefined {
  if (!config.login) return undefined;
  return {
    username: config.login_username ?? '',
    password: config.login_password ?? '',
    serveraddress: config.login_server ?? '',
  };
}

async function pull(env: BuildEnvironment, docker: Docker, config: DockerConfig): Promise<void> {
  const { ui, signal } = env;
  ui.say(`Pulling Docker image: ${config.image}`);
  const authconfig = loginAuth(config);
  if (authconfig) {
    ui.message('Logging in...');
    try {
      await docker.checkAuth({ ...authconfig, abortSignal: signal });
    } catch (e) {
      if (signal.aborted) throw abortError(signal);
      throw stepError(env, `Error logging in: ${explainDockerError(e)}`);
    }
  }
  try {
    const stream = await docker.pull(config.image, { authconfig, abortSignal: signal } as Record<string, unknown>);
    await readProgress(stream as unknown as Readable, (m) => {
      const line = progressLine(m);
      if (line) ui.message(line);
    }, signal);
  } catch (e) {
    if (signal.aborted) throw abortError(signal);
    throw stepError(env, `Error pulling Docker image: ${explainDockerError(e)}`);
  } finally {
    if (authconfig) ui.message('Logging out...');
  }
}

export const builder: BuilderRuntime = {
  async run(env: BuildEnvironment, rawConfig: Readonly<Record<string, unknown>>, provision: ProvisionHook): Promise<Artifact | undefined> {
    const config = rawConfig as DockerConfig;
    const { ui, signal } = env;
    const docker = dockerClient();
    const buildName = env.build.name;

    const communicatorType = config.communicator || (config.windows_container ? 'dockerWindowsContainer' : 'docker');
    if (config.windows_container || communicatorType === 'dockerWindowsContainer') {
      throw new Error('Windows containers are not supported by Kiln\'s docker builder');
    }
    if (communicatorType !== 'docker' && communicatorType !== 'none') {
      throw new Error(`Kiln's docker builder cannot use the "${communicatorType}" communicator yet; use "docker" (the default) or "none"`);
    }
    if (config.ecr_login) throw new Error('"ecr_login" is not supported by Kiln yet; log in with "login", "login_username", "login_password" and "login_server"');
    if (signal.aborted) throw abortError(signal);

    if (config.pull !== false) await pull(env, docker, config);
    if (signal.aborted) throw abortError(signal);

    // Run
    ui.say('Starting docker container...');
    let spec;
    try {
      const runCommand = (config.run_command?.length ? config.run_command : DEFAULT_RUN_COMMAND)
        .map((arg) => renderRepeatedly(arg, { ...env.interpolation, stage: 'builder', data: { Image: config.image } }));
      const args = builderRunArgs(config, runCommand);
      ui.message(`Run command: docker run ${args.join(' ')}`);
      spec = parseRunArgs(args, env.interpolation.cwd);
    } catch (e) {
      throw stepError(env, `Error running container: ${(e as Error).message}`);
    }
    const ours = { [RUN_LABEL]: env.runId, [BUILD_LABEL]: buildName, [PID_LABEL]: String(process.pid), [HOST_LABEL]: os.hostname() };
    const create: Docker.ContainerCreateOptions = { ...spec.create, Labels: { ...spec.create.Labels, ...ours } };

    // Not cancellable: an interrupted create could leave a container whose id we never learn.
    let container: Docker.Container;
    try {
      container = await docker.createContainer(create);
    } catch (e) {
      throw stepError(env, `Error running container: ${explainDockerError(e)}`);
    }
    const id = container.id;
    let started = false;
    // Kills (SIGKILL, as `docker kill` does) and removes the container in one call.
    const removeContainer = async () => {
      try {
        await container.remove({ force: true, v: true });
      } catch (e) {
        if (statusOf(e) === 404) return;
        // Labelled with the run, it is found again once the engine is back.
        const later = isEngineUnreachable(e) ? '; "kiln cleanup" removes it once the engine answers again' : '';
        throw new Error(`cannot remove container ${id.slice(0, 12)}: ${explainDockerError(e)}${later}`);
      }
    };
    // Once the container has been committed it is not needed any more: its removal may start
    // early, alongside the rest of the commit step. This cleanup then waits for it to end.
    let removal: Promise<void> | undefined;
    const removeEarly = () => {
      removal ??= removeContainer();
      removal.catch(() => undefined); // reported when the cleanup awaits it
    };
    env.cleanups.defer(`container ${id.slice(0, 12)}`, async () => {
      if (started) ui.say(`Killing the container: ${id}`);
      await (removal ?? removeContainer());
    });
    if (signal.aborted) throw abortError(signal);
    try {
      await container.start({ abortSignal: signal });
      started = true;
    } catch (e) {
      if (signal.aborted) throw abortError(signal);
      throw stepError(env, `Error running container: ${explainDockerError(e)}`);
    }
    ui.message(`Container ID: ${id}`);

    // Connect
    let inspect: Docker.ContainerInspectInfo;
    try {
      inspect = await container.inspect({ abortSignal: signal });
    } catch (e) {
      if (signal.aborted) throw abortError(signal);
      throw stepError(env, `Failed to inspect the container: ${explainDockerError(e)}`);
    }
    let communicator: Communicator;
    let dockerComm: DockerCommunicator | undefined;
    let data: Record<string, unknown>;
    if (communicatorType === 'none') {
      communicator = noneCommunicator;
      data = { ID: id, PackerRunUUID: env.runId, ...NO_HTTP };
    } else {
      ui.say(`Using docker communicator to connect: ${(inspect.NetworkSettings as { IPAddress?: string } | undefined)?.IPAddress ?? ''}`);
      dockerComm = new DockerCommunicator(container, {
        execUser: config.exec_user,
        pty: config.pty ?? false,
        fixUploadOwner: config.fix_upload_owner ?? true,
        containerUser: inspect.Config?.User ?? '',
        containerEnv: inspect.Config?.Env ?? [],
        signal,
        tempDir: () => env.tempDir('upload'),
        // The engine went away mid-build: say why at once, before the cleanups that will fail too.
        onEngineLost: (cause) => ui.error(cause),
      });
      communicator = dockerComm;
      // Its shell starts while the provisioners get ready; it has exited before the commit.
      dockerComm.openSession();
      data = {
        ID: id,
        Host: '',
        Port: 0,
        User: '',
        Password: '',
        ConnType: 'docker',
        PackerRunUUID: env.runId,
        ...NO_HTTP,
        SSHPublicKey: '',
        SSHPrivateKey: '',
        SSHAgentAuth: false,
        WinRMPassword: '',
      };
    }

    try {
      await provision(communicator, { ...data } as GeneratedData);
    } catch (e) {
      dockerComm?.abandonSession();
      throw e;
    }
    // Before the commit pauses the container, no exec may be starting or running in it.
    await dockerComm?.closeSession();
    if (signal.aborted) throw abortError(signal);

    if (config.commit) {
      const imageId = await commit(env, docker, container, config, ours, inspect.Image, removeEarly);
      const generated = { ...data, ImageSha256: imageId };
      return new ImageArtifact(DOCKER_IMPORT_ID, imageId, { generated_data: generated });
    }
    if (config.export_path) {
      const written = await exportContainer(env, container, config.export_path);
      return new ExportArtifact(config.export_path, { generated_data: { ...data } }, written);
    }
    return new ExportArtifact('', { generated_data: { ...data } });
  },
};

/**
 * Commits the container with `author`, `message` and `changes`, then drops
 * Kiln's labels from the result (see labels.ts). Returns the image id.
 * `onCommitted` is called as soon as the engine has made the image, when the
 * container is no longer needed.
 */
async function commit(
  env: BuildEnvironment,
  docker: Docker,
  container: Docker.Container,
  config: DockerConfig,
  ours: Record<string, string>,
  baseImage: string,
  onCommitted: () => void,
): Promise<string> {
  const { ui, signal } = env;
  ui.say('Committing the container');
  // Query only, no body: the engine then starts from the container's own
  // config (keeping Tty, OpenStdin, Entrypoint...) as `docker commit` does.
  // Repeated `changes` parameters carry one instruction each.
  const query: Record<string, unknown> = { container: container.id };
  if (config.author) query.author = config.author;
  if (config.message) query.comment = config.message;
  if (config.changes?.length) query.changes = config.changes;
  let committed: string;
  try {
    // Not cancellable: the engine would finish the commit anyway and leave an image nobody removes.
    const res = await container.commit({ _query: query, _body: {} } as Record<string, unknown>) as { Id: string };
    committed = res.Id;
    onCommitted();
  } catch (e) {
    throw stepError(env, `Error committing container: ${explainDockerError(e)}`);
  }
  // Images made here are removed again unless the build gets as far as returning one.
  const unkept = new Set<string>([committed]);
  const removeImage = async (imageId: string) => {
    try {
      await docker.getImage(imageId).remove();
    } catch (e) {
      if (statusOf(e) !== 404) throw e;
    }
    unkept.delete(imageId);
  };
  // The raw commit, once relabelled, is removed in the background, alongside the container.
  let rawRemoval: Promise<void> | undefined;
  env.cleanups.defer(`image ${committed.replace(/^sha256:/, '').slice(0, 12)}`, async () => {
    await rawRemoval?.catch(() => undefined); // if it failed, it is tried again below
    for (const imageId of [...unkept].reverse()) await removeImage(imageId);
  });
  let imageId: string;
  try {
    let baseLabels: Record<string, string> | null = null;
    try {
      baseLabels = (await docker.getImage(baseImage).inspect()).Config?.Labels ?? null;
    } catch {
      // The base image is gone: nothing to restore.
    }
    imageId = await withoutKilnLabels(docker, committed, ours, baseLabels);
    if (imageId !== committed) {
      unkept.add(imageId);
      rawRemoval = removeImage(committed);
      rawRemoval.catch(() => undefined); // awaited, and reported, by the cleanup
    }
  } catch (e) {
    throw stepError(env, `Error committing container: ${explainDockerError(e)}`);
  }
  if (signal.aborted) throw abortError(signal);
  ui.message(`Image ID: ${imageId}`);
  // The build's image is kept; the cleanup still sees the raw commit's removal through.
  unkept.delete(imageId);
  return imageId;
}

/**
 * `docker export` into `exportPath`: streamed into a partial file next to it,
 * renamed into place when complete, so the final name never holds half a tar.
 */
async function exportContainer(env: BuildEnvironment, container: Docker.Container, exportPath: string): Promise<string> {
  const { ui, signal } = env;
  const target = path.resolve(env.interpolation.cwd ?? process.cwd(), exportPath);
  try {
    await fsp.mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
  } catch (e) {
    throw stepError(env, `Error creating output directory: ${(e as Error).message}`);
  }
  const partial = `${target}.kiln-partial-${randomBytes(4).toString('hex')}`;
  const journal = env.journal;
  journal?.add('file', partial);
  let renamed = false;
  env.cleanups.defer(`partial file ${partial}`, async () => {
    if (!renamed) await fsp.rm(partial, { force: true });
    journal?.remove('file', partial);
  });
  ui.say('Exporting the container');
  try {
    const stream = await container.export({ abortSignal: signal }) as unknown as Readable;
    await pipeline(stream, fs.createWriteStream(partial, { mode: 0o644 }), { signal });
    await fsp.rename(partial, target);
    renamed = true;
    return target;
  } catch (e) {
    await fsp.rm(partial, { force: true });
    if (signal.aborted) throw abortError(signal);
    const err = e as NodeJS.ErrnoException;
    throw stepError(env, `Error exporting: ${err.code && !statusOf(e) ? err.message : explainDockerError(e)}`);
  }
}
