import { Construct } from 'constructs';
import { DockerBuilder, DockerTagPostProcessor, ImageTemplate, ShellProvisioner } from 'kiln';

export interface HardenedBaseProps {
  /** The image to harden, e.g. `debian:bookworm`. It must exist locally (no pull). */
  readonly sourceImage: string;
  /** Repository of the hardened image. */
  readonly repository: string;
  /**
   * Tag of the hardened image.
   * @default 'latest'
   */
  readonly tag?: string;
  /**
   * Shown to anyone who logs in (`/etc/motd`).
   * @default - no banner
   */
  readonly banner?: string;
}

/**
 * A base image with the usual hardening applied: no world-writable files
 * outside /tmp, a non-root `app` user, a banner, and a marker other images
 * and tests can check for. One `ImageTemplate`, reusable across apps.
 */
export class HardenedBase extends Construct {
  /** The template that builds the image; pass it to `SourceImage.fromTemplate`. */
  public readonly template: ImageTemplate;
  /** `repository:tag` of the hardened image. */
  public readonly imageName: string;

  constructor(scope: Construct, id: string, props: HardenedBaseProps) {
    super(scope, id);
    const tag = props.tag ?? 'latest';
    this.imageName = `${props.repository}:${tag}`;
    this.template = new ImageTemplate(this, 'Template', {
      templateName: id,
      description: `Hardened ${props.sourceImage}`,
    });
    new DockerBuilder(this.template, 'docker', {
      image: props.sourceImage,
      pull: false,
      commit: true,
      changes: ['LABEL org.kiln.hardened=true', 'ENV KILN_HARDENED=1'],
    });
    new ShellProvisioner(this.template, 'Harden', {
      inline: [
        'mkdir -p /etc/kiln /home/app',
        'echo "app:x:1000:1000:app:/home/app:/bin/sh" >> /etc/passwd',
        'echo "app:x:1000:" >> /etc/group',
        'chown 1000:1000 /home/app',
        'find / -xdev -type f -perm -0002 ! -path "/tmp/*" -exec chmod o-w {} + || true',
        'echo hardened > /etc/kiln/hardened',
      ],
    });
    if (props.banner) {
      new ShellProvisioner(this.template, 'Banner', { inline: [`printf '%s\\n' '${props.banner.replace(/'/g, "'\\''")}' > /etc/motd`] });
    }
    new DockerTagPostProcessor(this.template, 'Tag', { repository: props.repository, tags: [tag] });
  }
}
