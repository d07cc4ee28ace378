import * as path from 'path';
import { Construct } from 'constructs';
import { invokeAspects } from './aspects';
import { SynthManifest, synthesizeTemplates, writeOutput } from './synth';

const APP = Symbol.for('kiln.App');

export interface AppProps {
  /**
   * Where synth writes templates, assets and manifest.json.
   * @default - `$KILN_OUTDIR`, else `kiln.out`
   */
  readonly outdir?: string;
}

/**
 * The root of a Kiln app. Add `ImageTemplate`s under it (directly or inside
 * your own constructs), then call `synth()`.
 */
export class App extends Construct {
  public static isApp(x: unknown): x is App {
    return typeof x === 'object' && x !== null && APP in x;
  }

  public readonly outdir: string;

  constructor(props: AppProps = {}) {
    // The root of a construct tree has no scope and an empty id.
    super(undefined as unknown as Construct, '');
    Object.defineProperty(this, APP, { value: true });
    this.outdir = path.resolve(props.outdir ?? process.env.KILN_OUTDIR ?? 'kiln.out');
  }

  /**
   * Applies aspects, validates every template (all problems at once, each
   * with its construct path) and writes the output. Writes nothing if any
   * template has a problem.
   */
  public synth(): SynthManifest {
    invokeAspects(this);
    const templates = synthesizeTemplates(this);
    return writeOutput(this.outdir, templates);
  }
}
