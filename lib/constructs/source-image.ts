import type { ImageTemplate } from './image-template';

const TOKEN_PREFIX = '${Kiln.SourceImage:';

/**
 * Where a docker builder's base image comes from: a name the engine already
 * has, or another template of the same app. With `fromTemplate`, the base is
 * built first and the dependent build starts from its image — something
 * Packer templates cannot say on their own.
 */
export abstract class SourceImage {
  /** An image the Docker engine has or can pull, e.g. `debian:bookworm`. */
  public static fromImageName(name: string): SourceImage {
    return new NamedImage(name);
  }

  /**
   * The image another template of this app builds. That template must commit a
   * docker image and tag it (a `DockerTagPostProcessor`); `kiln build` builds it
   * first and passes it on.
   */
  public static fromTemplate(template: ImageTemplate): SourceImage {
    return new TemplateImage(template);
  }

  /** True for a SourceImage, also from another copy of this library. */
  public static isSourceImage(x: unknown): x is SourceImage {
    return typeof x === 'object' && x !== null && typeof (x as SourceImage).imageName === 'string' && 'template' in x;
  }

  /** The value to put in a builder's `image`: a name, or a token resolved at synth. */
  public abstract readonly imageName: string;
  /** The template that builds the image, if any. */
  public abstract readonly template: ImageTemplate | undefined;
}

class NamedImage extends SourceImage {
  public readonly template = undefined;
  constructor(public readonly imageName: string) {
    super();
  }
}

class TemplateImage extends SourceImage {
  public readonly imageName: string;
  constructor(public readonly template: ImageTemplate) {
    super();
    this.imageName = `${TOKEN_PREFIX}${template.node.path}}`;
  }
}

/** Finds the source-image tokens in a string: the construct paths of the templates they name. */
export function sourceImageTokens(s: string): string[] {
  const out: string[] = [];
  let i = s.indexOf(TOKEN_PREFIX);
  while (i >= 0) {
    const end = s.indexOf('}', i + TOKEN_PREFIX.length);
    if (end < 0) break;
    out.push(s.slice(i + TOKEN_PREFIX.length, end));
    i = s.indexOf(TOKEN_PREFIX, end);
  }
  return out;
}

/** Replaces each token by the image name `resolve` gives for that template path. */
export function resolveSourceImageTokens(s: string, resolve: (templatePath: string) => string): string {
  let out = s;
  for (const p of sourceImageTokens(s)) out = out.split(`${TOKEN_PREFIX}${p}}`).join(resolve(p));
  return out;
}
