import { AmazonEbsBuilder, App, ImageTemplate, SynthError, Testing } from '../../lib/constructs';

describe('options Packer 1.6.6 does not know', () => {
  test('kiln synth refuses them, naming the construct and the option', () => {
    const app = new App({ outdir: '/nonexistent' });
    const t = new ImageTemplate(app, 'ami');
    new AmazonEbsBuilder(t, 'Ebs', {
      region: 'eu-west-1',
      sourceAmi: 'ami-0123456789abcdef0',
      instanceType: 't3.micro',
      sshUsername: 'admin',
      amiName: 'kiln-test',
      skipCreateAmi: true,
    });
    let error: unknown;
    try {
      Testing.synth(t);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SynthError);
    expect((error as SynthError).problems).toEqual([
      'ami/Ebs (amazon-ebs): "skip_create_ami" is an option of Kiln\'s engine that Packer 1.6.6 rejects; synthesized templates must be real Packer JSON, so set it only in hand-written templates',
    ]);
  });
});
