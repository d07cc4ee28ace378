import { createHash } from 'crypto';
import { Readable } from 'stream';
import type Docker from 'dockerode';
import type * as TarStream from 'tar-stream';
import { readProgress } from './streams';

/** tar-stream, loaded on first use: it is not needed before the container runs, so start-up does not wait for it. */
function tarStream(): typeof TarStream {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('tar-stream') as typeof TarStream;
}

/**
 * Kiln labels every container it starts (`kiln.run`, `kiln.build`) so that
 * `kiln cleanup` can find what a killed run left behind. The engine copies a
 * container's labels into any image committed from it, and offers no way to
 * leave one out. An image carrying them would differ from Packer's, and,
 * worse, every container later started from it would carry a `kiln.run`
 * label of a finished run, which `kiln cleanup` would take for leftovers.
 *
 * So after a commit Kiln writes the image config again without those labels
 * and loads it back: the load refers to the layers the engine already has
 * (none are copied), so this costs a few small API calls whatever the image
 * size. The new image differs from the committed one only by those labels;
 * the commit is removed.
 */

/** The labels Kiln puts on containers. */
export const RUN_LABEL = 'kiln.run';
export const BUILD_LABEL = 'kiln.build';
/** Process id and host of the `kiln build` that owns the container: `kiln cleanup` leaves live runs alone. */
export const PID_LABEL = 'kiln.pid';
export const HOST_LABEL = 'kiln.host';

interface HistoryItem {
  readonly Created: number;
  readonly CreatedBy?: string;
  readonly Comment?: string;
  readonly Size: number;
}

type Labels = Record<string, string> | null | undefined;

/**
 * The labels an image should have once Kiln's own are gone: each of `ours`
 * still holding Kiln's value is removed, or put back to the base image's
 * value when the base image had that label. Undefined when nothing changes.
 */
function cleaned(labels: Labels, ours: Readonly<Record<string, string>>, base: Labels): Record<string, string> | undefined {
  if (!labels) return undefined;
  let changed = false;
  const out: Record<string, string> = { ...labels };
  for (const [k, v] of Object.entries(ours)) {
    if (out[k] !== v) continue;
    if (base && Object.prototype.hasOwnProperty.call(base, k)) {
      if (base[k] === v) continue;
      out[k] = base[k];
    } else {
      delete out[k];
    }
    changed = true;
  }
  return changed ? out : undefined;
}

/** Go's time.Time JSON form for whole seconds. */
function goTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * Returns the id of an image equal to `imageId` but without Kiln's labels
 * (`ours`, with `baseLabels` those of the image the container started from).
 * Returns `imageId` itself when it carries none of them. The caller removes
 * `imageId` when a different id comes back.
 */
export async function withoutKilnLabels(
  docker: Docker,
  imageId: string,
  ours: Readonly<Record<string, string>>,
  baseLabels: Labels,
): Promise<string> {
  const image = docker.getImage(imageId);
  // Untyped on purpose: the engine's JSON is written back as it came.
  const info = await image.inspect() as unknown as Record<string, unknown> & {
    Config?: Record<string, unknown> & { Labels?: Labels };
    ContainerConfig?: Record<string, unknown> & { Labels?: Labels };
    RootFS?: { Layers?: string[] };
  };
  const configLabels = cleaned(info.Config?.Labels, ours, baseLabels);
  const containerLabels = cleaned(info.ContainerConfig?.Labels, ours, baseLabels);
  if (!configLabels && !containerLabels) return imageId;

  const history = (await image.history() as HistoryItem[]).slice().reverse();
  const layers = info.RootFS?.Layers ?? [];
  // The history API drops the empty_layer flags; sizes tell them apart. A
  // layer of size 0 that is not empty (only deletions) is told by counting.
  let empty = history.map((h) => h.Size === 0);
  const nonEmpty = empty.filter((e) => !e).length;
  if (nonEmpty < layers.length && layers.length - nonEmpty === empty.filter(Boolean).length) empty = empty.map(() => false);

  const last = history.length - 1;
  const raw: Record<string, unknown> = {
    architecture: info.Architecture,
    ...(info.Variant ? { variant: info.Variant } : {}),
    ...(info.Author ? { author: info.Author } : {}),
    config: { ...info.Config, ...(configLabels ? { Labels: configLabels } : {}) },
    container: info.Container,
    container_config: { ...info.ContainerConfig, ...(containerLabels ? { Labels: containerLabels } : {}) },
    created: info.Created,
    docker_version: info.DockerVersion,
    history: history.map((h, i) => ({
      created: goTime(h.Created),
      ...(i === last && info.Author ? { author: info.Author } : {}),
      ...(h.CreatedBy ? { created_by: h.CreatedBy } : {}),
      ...(h.Comment ? { comment: h.Comment } : {}),
      ...(empty[i] ? { empty_layer: true } : {}),
    })),
    os: info.Os,
    ...(info.OsVersion ? { 'os.version': info.OsVersion } : {}),
    rootfs: { type: 'layers', diff_ids: layers },
  };
  const bytes = Buffer.from(JSON.stringify(raw));
  const hex = createHash('sha256').update(bytes).digest('hex');

  // A `docker save` layout with no layer data: the engine has every layer already.
  const pack = tarStream().pack();
  pack.entry({ name: `${hex}.json`, mode: 0o644 }, bytes);
  pack.entry({ name: 'manifest.json', mode: 0o644 }, JSON.stringify([{
    Config: `${hex}.json`,
    RepoTags: null,
    Layers: layers.map((_, i) => `${i}/layer.tar`),
  }]));
  pack.finalize();
  const out = await docker.loadImage(Readable.from(pack), { quiet: true });
  await readProgress(out as unknown as Readable, () => {});
  return `sha256:${hex}`;
}
