import { Construct } from 'constructs';
import { invokeAspects } from './aspects';
import { ImageTemplate } from './image-template';
import { synthesizeTemplates } from './synth';

/**
 * Helpers for testing your own constructs: synthesize without writing files,
 * then assert on the template JSON, e.g. with the matchers of `kiln/testing`.
 */
export class Testing {
  /** A fresh root to build a test tree under. */
  public static app(): Construct {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { App } = require('./app') as typeof import('./app');
    return new App({ outdir: '/nonexistent/kiln-testing' });
  }

  /**
   * The template JSON of `template`, as `kiln synth` would write it (keys
   * sorted). Aspects are applied and the whole tree is validated first, so
   * a problem anywhere throws.
   */
  public static synth(template: ImageTemplate): Record<string, unknown> {
    const root = template.node.root;
    invokeAspects(root);
    const all = synthesizeTemplates(root);
    const mine = all.find((t) => t.template === template);
    if (!mine) throw new Error(`${template.node.path} was not synthesized`);
    return mine.json;
  }
}

type Json = Record<string, unknown>;

function isSubset(expected: unknown, actual: unknown): boolean {
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && expected.length === actual.length && expected.every((e, i) => isSubset(e, actual[i]));
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null) return false;
    return Object.entries(expected).every(([k, v]) => isSubset(v, (actual as Json)[k]));
  }
  return expected === actual;
}

function entries(template: Json, key: 'builders' | 'provisioners' | 'post-processors'): Json[] {
  const list = (template[key] ?? []) as unknown[];
  return key === 'post-processors' ? list.flatMap((c) => (Array.isArray(c) ? c : [c])) as Json[] : list as Json[];
}

function matcher(key: 'builders' | 'provisioners' | 'post-processors', noun: string) {
  return (received: Json, type: string, properties: Json = {}) => {
    const candidates = entries(received, key).filter((e) => e.type === type);
    const pass = candidates.some((e) => isSubset(properties, e));
    const shown = JSON.stringify(properties);
    return {
      pass,
      message: () => pass
        ? `expected no ${noun} "${type}" with ${shown}`
        : `expected a ${noun} "${type}" with ${shown}; the template has ${candidates.length ? JSON.stringify(candidates, null, 2) : `no ${noun} of that type`}`,
    };
  };
}

/**
 * Jest matchers on a synthesized template (`Testing.synth(...)`); properties
 * use the template's keys (`export_path`) and match as a subset.
 */
export const templateMatchers = {
  toHaveBuilder: matcher('builders', 'builder'),
  toHaveBuilderWithProperties: matcher('builders', 'builder'),
  toHaveProvisioner: matcher('provisioners', 'provisioner'),
  toHaveProvisionerWithProperties: matcher('provisioners', 'provisioner'),
  toHavePostProcessor: matcher('post-processors', 'post-processor'),
  toHavePostProcessorWithProperties: matcher('post-processors', 'post-processor'),
};

/** Registers the template matchers with Jest's `expect` (call once, e.g. in a setup file). */
export function setupJest(): void {
  const g = globalThis as unknown as { expect?: { extend(m: object): void } };
  if (!g.expect) throw new Error('setupJest() must run inside Jest');
  g.expect.extend(templateMatchers);
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Matchers<R> {
      /** The template has a builder of this type whose config includes these properties. */
      toHaveBuilder(type: string, properties?: Record<string, unknown>): R;
      toHaveBuilderWithProperties(type: string, properties: Record<string, unknown>): R;
      toHaveProvisioner(type: string, properties?: Record<string, unknown>): R;
      toHaveProvisionerWithProperties(type: string, properties: Record<string, unknown>): R;
      toHavePostProcessor(type: string, properties?: Record<string, unknown>): R;
      toHavePostProcessorWithProperties(type: string, properties: Record<string, unknown>): R;
    }
  }
}
