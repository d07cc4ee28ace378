import { DataAwsAmi } from '@cdktf/provider-aws/lib/data-aws-ami';
import { DataAwsAmiIds } from '@cdktf/provider-aws/lib/data-aws-ami-ids';
import { Fn, Lazy, Op } from 'cdktf';
import { Construct } from 'constructs';
import { invokeAspects } from '../constructs/aspects';
import { ImageTemplate } from '../constructs/image-template';
import { synthesizeTemplates } from '../constructs/synth';
import { FINGERPRINT_TAG, TAGGED_BUILDER_TYPES } from '../template/fingerprint';

/**
 * `kiln/cdktf`: use an image defined with Kiln constructs from a Terraform
 * stack of the same app. This entry point is the only part of Kiln that loads
 * cdktf and `@cdktf/provider-aws` (optional peer dependencies).
 */

export { FINGERPRINT_TAG } from '../template/fingerprint';

export interface KilnAmiProps {
  /**
   * The Kiln template that builds the AMI. It must have an `amazon-ebs`
   * builder; the AMI is found by the fingerprint tag Kiln puts on it.
   */
  readonly image: ImageTemplate;

  /**
   * Owners to search, as in `aws_ami`'s `owners`.
   * @default ['self'] - the account the stack deploys to, where `kiln build` made the AMI
   */
  readonly owners?: string[];
}

/**
 * The AMI that `kiln build` made from a Kiln template of this app, for an
 * `aws_instance`, a launch template or anything that takes an AMI id.
 *
 * Synthesizes a `data "aws_ami"` (most recent, owners self) filtered on the
 * `kiln:fingerprint` tag, whose value is the content fingerprint of the
 * template as it is defined now: `terraform apply` picks exactly the AMI built
 * from the current definition. When none has been built yet, a precondition
 * stops the plan with a message saying so, instead of deploying an old image.
 *
 * Order: `kiln synth` → `kiln build` → `cdktf deploy` (or `terraform apply`).
 */
export class KilnAmi extends Construct {
  /** The AMI id, a token for `ami` of an `aws_instance`. */
  public readonly imageId: string;
  /** The fingerprint the AMI is looked up by (a token resolved at synth). */
  public readonly fingerprint: string;
  /** The `aws_ami` data source, for its other attributes (name, root device, …). */
  public readonly ami: DataAwsAmi;
  /** All AMIs carrying the fingerprint; the precondition checks there is one. */
  public readonly candidates: DataAwsAmiIds;

  private readonly image: ImageTemplate;
  private cachedFingerprint?: string;

  constructor(scope: Construct, id: string, props: KilnAmiProps) {
    super(scope, id);
    if (!ImageTemplate.isImageTemplate(props.image)) {
      throw new Error(`${this.node.path}: "image" must be a Kiln ImageTemplate`);
    }
    this.image = props.image;
    const owners = props.owners ?? ['self'];
    this.fingerprint = Lazy.stringValue({ produce: () => this.computedFingerprint() });
    const filter = [{ name: `tag:${FINGERPRINT_TAG}`, values: [this.fingerprint] }];

    this.candidates = new DataAwsAmiIds(this, 'Candidates', { owners, filter });
    this.ami = new DataAwsAmi(this, 'Ami', {
      owners,
      mostRecent: true,
      filter,
      lifecycle: {
        precondition: [{
          // Not `> 0`: cdktf 0.21's operators drop a right operand of 0.
          condition: Op.gte(Fn.lengthOf(this.candidates.ids), 1),
          errorMessage: Lazy.stringValue({
            produce: () => `No AMI built from Kiln template "${this.image.templateName}" (${this.image.node.path}) as it is defined now `
              + `(tag ${FINGERPRINT_TAG} = ${this.computedFingerprint()}) exists in this account and region. `
              + 'Run "kiln synth" and "kiln build" first, then apply again.',
          }),
        }],
      },
    });
    this.imageId = this.ami.id;

    this.node.addValidation({ validate: () => this.checkImage() });
  }

  /**
   * The fingerprint, worked out when the stack is synthesized (the trees are
   * complete by then) and kept: each place the token appears would otherwise
   * synthesize the whole Kiln app again.
   */
  private computedFingerprint(): string {
    this.cachedFingerprint ??= fingerprintOf(this.image, this.node.path);
    return this.cachedFingerprint;
  }

  private checkImage(): string[] {
    const tagged = this.image.builders.filter((b) => TAGGED_BUILDER_TYPES.has(b.type));
    if (tagged.length === 0) {
      const types = this.image.builders.map((b) => b.type).join(', ') || 'none';
      return [`the image ${this.image.node.path} builds no AMI (builders: ${types}); add an AmazonEbsBuilder`];
    }
    return [];
  }
}

/**
 * The fingerprint of a template, as `kiln synth` writes it into the template's
 * tags and `manifest.json`: the template's whole app is synthesized in memory
 * (aspects applied, everything validated), nothing is written.
 */
export function fingerprintOf(image: ImageTemplate, requestedBy?: string): string {
  const root = image.node.root;
  invokeAspects(root);
  let templates;
  try {
    templates = synthesizeTemplates(root);
  } catch (e) {
    const who = requestedBy ? `${requestedBy}: ` : '';
    throw new Error(`${who}cannot fingerprint ${image.node.path}: ${(e as Error).message}`);
  }
  const found = templates.find((t) => t.template === image);
  if (!found) throw new Error(`${image.node.path} was not synthesized`);
  return found.fingerprint;
}
