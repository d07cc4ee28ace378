import { App, ImageTemplate, Testing, setupJest } from 'kiln';
import { HardenedBase } from '../index';

setupJest();

describe('HardenedBase', () => {
  function make(props: Partial<ConstructorParameters<typeof HardenedBase>[2]> = {}) {
    const app = new App({ outdir: '/nonexistent' });
    return new HardenedBase(app, 'base', { sourceImage: 'kiln/busybox:latest', repository: 'acme/base', ...props });
  }

  test('commits the source image and tags it as repository:tag', () => {
    const base = make({ tag: '2' });
    const json = Testing.synth(base.template);
    expect(json).toHaveBuilder('docker', { image: 'kiln/busybox:latest', commit: true, pull: false });
    expect(json).toHavePostProcessor('docker-tag', { repository: 'acme/base', tags: ['2'] });
    expect(base.imageName).toBe('acme/base:2');
  });

  test('writes the hardening marker and creates the app user', () => {
    const json = Testing.synth(make().template) as { provisioners: { inline: string[] }[] };
    const commands = json.provisioners.flatMap((p) => p.inline);
    expect(commands).toContain('echo hardened > /etc/kiln/hardened');
    expect(commands.some((c) => c.includes('app:x:1000:1000'))).toBe(true);
  });

  test('adds a banner only when asked, quoting it for the shell', () => {
    expect((Testing.synth(make().template) as { provisioners: unknown[] }).provisioners).toHaveLength(1);
    const json = Testing.synth(make({ banner: "it's ours" }).template);
    expect(json).toHaveProvisioner('shell', { inline: ["printf '%s\\n' 'it'\\''s ours' > /etc/motd"] });
  });

  test('the template is named after the construct id', () => {
    expect(ImageTemplate.isImageTemplate(make().template)).toBe(true);
    expect(make().template.templateName).toBe('base');
  });
});
