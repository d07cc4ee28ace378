import { HardenedBase } from '@kiln-example/hardened-base';
import { App as TerraformApp } from 'cdktf';
import { App, DockerBuilder, DockerTagPostProcessor, FileProvisioner, ImageTemplate, ShellProvisioner, SourceImage } from 'kiln';
import { WebAmi, WebServerStack } from './aws';

// Two docker images: a hardened base from a reusable construct package, and a web image built FROM it.
const app = new App();

const base = new HardenedBase(app, 'base', {
  sourceImage: 'kiln/busybox:latest',
  repository: 'kiln-example/base',
  banner: 'Built by Kiln. Authorised use only.',
});

const web = new ImageTemplate(app, 'web', { description: 'A static web site served by busybox httpd, on the hardened base' });
const port = web.addVariable('port', { default: '8080' });

new DockerBuilder(web, 'docker', {
  image: SourceImage.fromTemplate(base.template),
  pull: false,
  commit: true,
  changes: [
    `EXPOSE ${port}`,
    'WORKDIR /srv/www',
    // The builder's `--entrypoint=/bin/sh` stays in committed images (as with Packer): set our own.
    'ENTRYPOINT ["httpd", "-f", "-v", "-h", "/srv/www"]',
    `CMD ["-p", "${port}"]`,
  ],
});
new ShellProvisioner(web, 'Prepare', { inline: ['mkdir -p /srv/www'] });
new FileProvisioner(web, 'Site', { source: 'site/', destination: '/srv/www' });
new ShellProvisioner(web, 'Permissions', { inline: ['chmod -R a+rX /srv/www', 'ls -l /srv/www'] });
new DockerTagPostProcessor(web, 'Tag', { repository: 'kiln-example/web', tags: ['latest'] });

// The same site as an AMI, and a Terraform stack whose EC2 instance boots from it. `kiln synth`
// writes both: the Packer template to kiln.out/, the Terraform JSON to cdktf.out/.
const region = process.env.AWS_REGION ?? 'eu-west-1';
const webAmi = new WebAmi(app, 'aws', { region, siteDir: 'site' });
const infra = new TerraformApp(); // cdktf.out/, or $CDKTF_OUTDIR
new WebServerStack(infra, 'web-server', { region, image: webAmi.template });

app.synth();
infra.synth();
