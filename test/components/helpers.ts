import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CheckContext, ComponentDeclaration } from '../../lib/template/component';
import { decodeConfig } from '../../lib/template/schema';

export interface Outcome {
  /** The decoded config (weak values converted). */
  readonly config: Record<string, unknown>;
  /** Decoding errors, or, when decoding succeeded, the messages of the declaration's `check`. */
  readonly errors: string[];
  readonly warnings: string[];
}

/** Decodes a raw template config the way `kiln validate` does, then runs the component's own rules. */
export function validate(decl: ComponentDeclaration, raw: Record<string, unknown>, cwd: string = process.cwd()): Outcome {
  const { config, errors } = decodeConfig(decl, raw);
  const warnings: string[] = [];
  if (errors.length) return { config, errors, warnings };
  const ctx: CheckContext = { cwd, buildName: 'test', warn: (m) => warnings.push(m) };
  const check = decl.check as ((c: Record<string, unknown>, x: CheckContext) => string[]) | undefined;
  return { config, errors: check?.(config, ctx) ?? [], warnings };
}

const created: string[] = [];
afterAll(() => {
  for (const dir of created) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory with the given files (path → content), removed after the tests; `mode` makes them executable when asked. */
export function workdir(files: Record<string, string> = {}, mode = 0o644): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-components-'));
  created.push(dir);
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content, { mode });
  }
  return dir;
}
