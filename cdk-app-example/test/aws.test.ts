import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DataAwsAmi } from '@cdktf/provider-aws/lib/data-aws-ami';
import { DataAwsAmiIds } from '@cdktf/provider-aws/lib/data-aws-ami-ids';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { App as TerraformApp, Testing as TerraformTesting } from 'cdktf';
// Types of cdktf's Jest matchers (toHaveDataSourceWithProperties, …).
import 'cdktf/lib/testing/adapters/jest';
import { App, ShellProvisioner, Testing } from 'kiln';
import { FINGERPRINT_TAG } from 'kiln/cdktf';
import { WebAmi, WebServerStack } from '../aws';

TerraformTesting.setupJest();

const SITE = path.join(__dirname, '..', 'site');

/** The example's two trees, as main.ts makes them, plus what they synthesize. */
function example(customize?: (ami: WebAmi) => void) {
  const app = new App({ outdir: '/nonexistent' });
  const webAmi = new WebAmi(app, 'aws', { region: 'eu-west-1', siteDir: SITE });
  customize?.(webAmi);
  const infra = new TerraformApp({ outdir: '/nonexistent' });
  const stack = new WebServerStack(infra, 'web-server', { region: 'eu-west-1', image: webAmi.template });
  const tf = TerraformTesting.synth(stack);
  const template = Testing.synth(webAmi.template) as { builders: { type: string; tags: Record<string, string> }[] };
  return { tf, tfJson: JSON.parse(tf), template, stack, webAmi };
}

type TfJson = {
  data: Record<string, Record<string, { filter: { name: string; values: string[] }[]; owners: string[]; most_recent?: boolean; lifecycle?: { precondition: { condition: string; error_message: string }[] } }>>;
  resource: Record<string, Record<string, { ami: string }>>;
};

function onlyEntry<T>(block: Record<string, T>): [string, T] {
  const entries = Object.entries(block);
  expect(entries).toHaveLength(1);
  return entries[0];
}

describe('the AWS part of the example (cdktf Testing, no AWS calls)', () => {
  test('the instance boots the aws_ami found by the fingerprint tag, which the template puts on the AMI', () => {
    const { tf, tfJson, template } = example();
    const json = tfJson as TfJson;
    const [amiName] = onlyEntry(json.data.aws_ami);
    const [, instance] = onlyEntry(json.resource.aws_instance);
    expect(instance.ami).toBe(`\${data.aws_ami.${amiName}.id}`);

    const fingerprint = template.builders[0].tags[FINGERPRINT_TAG];
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(template.builders[0].tags).toMatchObject({ Project: 'kiln-example', Role: 'web' });
    expect(tf).toHaveDataSourceWithProperties(DataAwsAmi, {
      owners: ['self'],
      most_recent: true,
      filter: [{ name: `tag:${FINGERPRINT_TAG}`, values: [fingerprint] }],
    });
    expect(tf).toHaveResourceWithProperties(Instance, { instance_type: 't3.micro' });
  });

  test('when no AMI has been built from this definition, the plan stops with a message saying so', () => {
    const { tf, tfJson, template } = example();
    const json = tfJson as TfJson;
    const [idsName] = onlyEntry(json.data.aws_ami_ids);
    expect(tf).toHaveDataSourceWithProperties(DataAwsAmiIds, {
      owners: ['self'],
      filter: [{ name: `tag:${FINGERPRINT_TAG}`, values: [template.builders[0].tags[FINGERPRINT_TAG]] }],
    });
    const [, ami] = onlyEntry(json.data.aws_ami);
    const [pre] = ami.lifecycle!.precondition;
    expect(pre.condition).toBe(`\${(length(data.aws_ami_ids.${idsName}.ids) >= 1)}`);
    expect(pre.error_message).toContain('No AMI built from Kiln template "aws-web"');
    expect(pre.error_message).toContain(template.builders[0].tags[FINGERPRINT_TAG]);
    expect(pre.error_message).toContain('"kiln build"');
  });

  test('changing a provisioner changes the fingerprint; changing nothing keeps it', () => {
    const first = example();
    const again = example();
    const changed = example((ami) => new ShellProvisioner(ami.template, 'Extra', { inline: ['echo one more step'] }));
    const fp = (e: ReturnType<typeof example>) => e.template.builders[0].tags[FINGERPRINT_TAG];
    expect(fp(again)).toBe(fp(first));
    expect(again.tf).toBe(first.tf);
    expect(fp(changed)).not.toBe(fp(first));
    expect(changed.tf).toContain(fp(changed));
    expect(changed.tf).not.toContain(fp(first));
  });

  test('a change to a file the template uploads changes the fingerprint', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-site-'));
    try {
      fs.writeFileSync(path.join(dir, 'index.html'), '<h1>one</h1>\n');
      const synthWith = () => {
        const app = new App({ outdir: '/nonexistent' });
        const t = new WebAmi(app, 'aws', { region: 'eu-west-1', siteDir: dir }).template;
        return (Testing.synth(t) as { builders: { tags: Record<string, string> }[] }).builders[0].tags[FINGERPRINT_TAG];
      };
      const before = synthWith();
      fs.writeFileSync(path.join(dir, 'index.html'), '<h1>two</h1>\n');
      expect(synthWith()).not.toBe(before);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('kiln synth of the example writes both outputs, and the real packer validate accepts the AMI template', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-example-'));
    try {
      const root = path.join(__dirname, '..');
      const kiln = path.join(root, '..', 'bin', 'kiln');
      execFileSync(kiln, ['synth', '-output', path.join(out, 'kiln.out')], { cwd: root, env: { ...process.env, CDKTF_OUTDIR: path.join(out, 'cdktf.out') }, stdio: 'pipe' });
      const template = JSON.parse(fs.readFileSync(path.join(out, 'kiln.out', 'aws-web.json'), 'utf8'));
      const manifest = JSON.parse(fs.readFileSync(path.join(out, 'kiln.out', 'manifest.json'), 'utf8'));
      const fingerprint = template.builders[0].tags[FINGERPRINT_TAG];
      expect(manifest.templates.find((t: { name: string }) => t.name === 'aws-web').fingerprint).toBe(fingerprint);
      const stack = fs.readFileSync(path.join(out, 'cdktf.out', 'stacks', 'web-server', 'cdk.tf.json'), 'utf8');
      expect(stack).toContain(fingerprint);
      // Packer itself must accept what Kiln writes (it checks amazon-ebs options offline).
      execFileSync('packer', ['validate', 'aws-web.json'], { cwd: path.join(out, 'kiln.out'), stdio: 'pipe' });
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
