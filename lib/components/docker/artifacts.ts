import * as fsp from 'fs/promises';
import { dockerClient, engineMessage } from './client';
import type { Artifact, GeneratedData } from '../../engine/types';

/**
 * The artifacts of the docker builder and post-processors, with Packer's
 * builder ids, ids and strings, so that chains accept and reject the same
 * inputs as in Packer.
 */

/** The docker builder with `export_path` or `discard`. */
export const DOCKER_BUILDER_ID = 'packer.docker';
/** The docker builder with `commit`, docker-import and docker-push. */
export const DOCKER_IMPORT_ID = 'packer.post-processor.docker-import';
/** docker-tag. */
export const DOCKER_TAG_ID = 'packer.post-processor.docker-tag';
/** The artifice post-processor, whose files docker-import accepts. */
export const ARTIFICE_ID = 'packer.post-processor.artifice';

/** The `docker_tags` state of an artifact, whatever form it came in. */
export function dockerTagsOf(a: Pick<Artifact, 'state'>): string[] {
  const t = a.state.docker_tags;
  return Array.isArray(t) ? t.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * An image in the Docker engine (Packer's ImportArtifact): its id is an image
 * id or a reference. Destroying it removes that image or reference, like
 * `docker rmi <id>`.
 */
export class ImageArtifact implements Artifact {
  public readonly files: readonly string[] = [];

  constructor(
    public readonly builderId: string,
    public readonly id: string,
    public readonly state: Readonly<Record<string, unknown>> = {},
  ) {}

  public describe(): string {
    const tags = dockerTagsOf(this);
    return tags.length ? `Imported Docker image: ${this.id} with tags ${tags.join(' ')}` : `Imported Docker image: ${this.id}`;
  }

  public async destroy(): Promise<void> {
    try {
      await dockerClient().getImage(this.id).remove();
    } catch (e) {
      throw new Error(`Error deleting image: ${engineMessage(e)}`);
    }
  }
}

/** A container exported to a tar file, or discarded (empty path); Packer's ExportArtifact. */
export class ExportArtifact implements Artifact {
  public readonly builderId = DOCKER_BUILDER_ID;
  public readonly id = 'Container';

  /**
   * @param path the path as the template gave it (shown, listed in `files`)
   * @param state `generated_data` for post-processors
   * @param absolutePath where the file is, when `path` is relative to another directory
   */
  constructor(
    public readonly path: string,
    public readonly state: Readonly<Record<string, unknown>> = {},
    private readonly absolutePath: string = path,
  ) {}

  public get files(): readonly string[] {
    return [this.path];
  }

  public describe(): string {
    return `Exported Docker file: ${this.path}`;
  }

  public async destroy(): Promise<void> {
    if (this.absolutePath) await fsp.unlink(this.absolutePath);
  }
}

/** The generated data an artifact carries for post-processors (`{{ build `ImageSha256` }}`). */
export function generatedDataOf(a: Pick<Artifact, 'state'>): GeneratedData {
  const d = a.state.generated_data;
  return d && typeof d === 'object' ? d as GeneratedData : {};
}
