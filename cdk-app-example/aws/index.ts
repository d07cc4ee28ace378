import { Instance } from '@cdktf/provider-aws/lib/instance';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { AmazonEbsBuilder, FileProvisioner, ImageTemplate, ShellProvisioner } from 'kiln';
import { KilnAmi } from 'kiln/cdktf';

export interface WebAmiProps {
  /** AWS region the AMI is built in. */
  readonly region: string;
  /** The web site to serve, a local directory. */
  readonly siteDir: string;
}

/**
 * An AMI for the web site: Debian 12 from its official owner, the site copied
 * in, busybox httpd enabled at boot. Built by `kiln build` where AWS is reachable.
 */
export class WebAmi extends Construct {
  public readonly template: ImageTemplate;

  constructor(scope: Construct, id: string, props: WebAmiProps) {
    super(scope, id);
    this.template = new ImageTemplate(this, 'Template', {
      templateName: 'aws-web',
      description: 'The web site on Debian 12, as an AMI',
    });
    new AmazonEbsBuilder(this.template, 'Ebs', {
      region: props.region,
      instanceType: 't3.micro',
      sourceAmiFilter: {
        filters: { 'name': 'debian-12-amd64-*', 'virtualization-type': 'hvm', 'root-device-type': 'ebs' },
        owners: ['136693071363'],
        most_recent: true,
      },
      sshUsername: 'admin',
      amiName: 'kiln-example-web {{timestamp | clean_resource_name}}',
      amiDescription: 'Static web site served by busybox httpd',
      tags: { Project: 'kiln-example', Role: 'web' },
      runTags: { Project: 'kiln-example' },
    });
    new ShellProvisioner(this.template, 'Packages', {
      inline: [
        'sudo apt-get update',
        'sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends busybox',
        'sudo mkdir -p /srv/www',
      ],
    });
    new FileProvisioner(this.template, 'Site', { source: props.siteDir + '/', destination: '/tmp/site' });
    new ShellProvisioner(this.template, 'Service', {
      inline: [
        'sudo cp -r /tmp/site/. /srv/www/ && sudo chmod -R a+rX /srv/www',
        "printf '[Unit]\\nDescription=Web site\\n[Service]\\nExecStart=/bin/busybox httpd -f -p 80 -h /srv/www\\n[Install]\\nWantedBy=multi-user.target\\n' | sudo tee /etc/systemd/system/web.service",
        'sudo systemctl enable web.service',
      ],
    });
  }
}

export interface WebServerStackProps {
  readonly region: string;
  /** The Kiln image the instance boots from. */
  readonly image: ImageTemplate;
}

/** One EC2 instance running the web AMI built from the same app. */
export class WebServerStack extends TerraformStack {
  public readonly ami: KilnAmi;
  public readonly instance: Instance;

  constructor(scope: Construct, id: string, props: WebServerStackProps) {
    super(scope, id);
    new AwsProvider(this, 'aws', { region: props.region });
    this.ami = new KilnAmi(this, 'WebAmi', { image: props.image });
    this.instance = new Instance(this, 'Web', {
      ami: this.ami.imageId,
      instanceType: 't3.micro',
      tags: { Name: 'kiln-example-web' },
    });
    new TerraformOutput(this, 'public_ip', { value: this.instance.publicIp });
  }
}
