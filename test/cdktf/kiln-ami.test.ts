import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing as TerraformTesting, TerraformStack, App as TerraformApp } from 'cdktf';
import { IConstruct } from 'constructs';
import { KilnAmi, fingerprintOf } from '../../lib/cdktf';
import { AmazonEbsBuilder, App, Aspects, DockerBuilder, ImageTemplate, ShellProvisioner } from '../../lib/constructs';
import { FINGERPRINT_TAG } from '../../lib/template/fingerprint';

function amiTemplate(app: App, id = 'ami'): ImageTemplate {
  const t = new ImageTemplate(app, id);
  new AmazonEbsBuilder(t, 'Ebs', {
    region: 'eu-west-1',
    sourceAmi: 'ami-0123456789abcdef0',
    instanceType: 't3.micro',
    sshUsername: 'admin',
    amiName: 'kiln-test {{timestamp}}',
  });
  new ShellProvisioner(t, 'Hello', { inline: ['echo hello'] });
  return t;
}

function stackFor(image: ImageTemplate): { stack: TerraformStack; ami: KilnAmi } {
  const stack = new TerraformStack(new TerraformApp({ outdir: '/nonexistent' }), 'stack');
  return { stack, ami: new KilnAmi(stack, 'Ami', { image }) };
}

describe('KilnAmi', () => {
  test('the fingerprint it filters on is the one kiln synth writes to the template and manifest', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-cdktf-'));
    try {
      const app = new App({ outdir });
      const image = amiTemplate(app);
      const { stack } = stackFor(image);
      const tf = TerraformTesting.synth(stack);
      const manifest = app.synth();
      const written = JSON.parse(fs.readFileSync(path.join(outdir, 'ami.json'), 'utf8'));
      const fp = written.builders[0].tags[FINGERPRINT_TAG];
      expect(manifest.templates[0].fingerprint).toBe(fp);
      const data = JSON.parse(tf).data as Record<string, Record<string, { filter: unknown }>>;
      expect(Object.values(data.aws_ami)[0].filter).toEqual([{ name: `tag:${FINGERPRINT_TAG}`, values: [fp] }]);
      expect(Object.values(data.aws_ami_ids)[0].filter).toEqual([{ name: `tag:${FINGERPRINT_TAG}`, values: [fp] }]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('aspects are applied before fingerprinting, and only once', () => {
    const app = new App({ outdir: '/nonexistent' });
    const image = amiTemplate(app);
    let visits = 0;
    Aspects.of(app).add({
      visit(node: IConstruct) {
        if (node === image) {
          visits++;
          new ShellProvisioner(image, 'AddedByAspect', { inline: ['echo from an aspect'] });
        }
      },
    });
    const { ami } = stackFor(image);
    const tf = TerraformTesting.synth(ami.node.scope as TerraformStack);
    const written = (app as App).synth();
    expect(visits).toBe(1);
    expect(tf).toContain(written.templates[0].fingerprint);
  });

  test('an image that builds no AMI is a synth error naming both constructs', () => {
    const app = new App({ outdir: '/nonexistent' });
    const t = new ImageTemplate(app, 'containers');
    new DockerBuilder(t, 'Docker', { image: 'kiln/busybox:latest', commit: true, pull: false });
    const { stack } = stackFor(t);
    expect(() => TerraformTesting.synth(stack, true)).toThrow(/stack\/Ami.*the image containers builds no AMI \(builders: docker\); add an AmazonEbsBuilder/s);
  });

  test('an invalid Kiln template is reported with the construct path that asked for its fingerprint', () => {
    const app = new App({ outdir: '/nonexistent' });
    const t = amiTemplate(app);
    new ShellProvisioner(t, 'Broken', { inline: [] as string[], script: 'does-not-exist.sh' });
    expect(() => fingerprintOf(t, 'stack/Ami')).toThrow(/^stack\/Ami: cannot fingerprint ami: synth found .*ami\/Broken/s);
  });

  test('rejects something that is not a Kiln template', () => {
    const stack = new TerraformStack(new TerraformApp({ outdir: '/nonexistent' }), 'stack');
    expect(() => new KilnAmi(stack, 'Ami', { image: {} as ImageTemplate })).toThrow('stack/Ami: "image" must be a Kiln ImageTemplate');
  });
});
