import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { UsageError } from '../flags';
import { CommandContext } from '../main';

/** `kiln.json`: how to run the user's app, like `cdk.json` / `cdktf.json`. */
export interface KilnConfig {
  /** The command that runs the app, e.g. `npx ts-node main.ts`. */
  readonly app: string;
  /** Where synth output goes. Default `kiln.out`. */
  readonly output?: string;
}

export function readKilnConfig(dir: string): KilnConfig {
  const file = path.join(dir, 'kiln.json');
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT'
      ? `no kiln.json in ${dir}: create one such as {"app": "npx ts-node main.ts"}`
      : `kiln.json: ${(e as Error).message}`, 'synth');
  }
  const app = (value as KilnConfig | null)?.app;
  if (typeof app !== 'string' || !app.trim()) throw new UsageError('kiln.json: "app" must be the command that runs your app, e.g. "npx ts-node main.ts"', 'synth');
  const output = (value as KilnConfig).output;
  if (output !== undefined && typeof output !== 'string') throw new UsageError('kiln.json: "output" must be a directory path', 'synth');
  return { app, output };
}

/**
 * Runs the app with KILN_OUTDIR pointing at a fresh staging directory and, if
 * it synthesized, puts the result in place of the previous output at once: a
 * failed app never leaves a half-written output behind.
 */
export async function run({ flags, output }: CommandContext): Promise<number> {
  const cwd = process.cwd();
  const config = readKilnConfig(cwd);
  const app = flags.strings.app ?? config.app;
  const outdir = path.resolve(cwd, flags.strings.output ?? config.output ?? 'kiln.out');
  const staging = `${outdir}.kiln-staging-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  try {
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(app, { shell: true, stdio: 'inherit', env: { ...process.env, KILN_OUTDIR: staging } });
      child.on('error', reject);
      child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
    });
    if (code !== 0) {
      output.err(`kiln: the app failed (exit code ${code}): ${app}`);
      return 1;
    }
    if (!fs.existsSync(path.join(staging, 'manifest.json'))) {
      output.err(`kiln: the app finished without synthesizing anything: call app.synth() at the end of it (command: ${app})`);
      return 1;
    }
    fs.rmSync(outdir, { recursive: true, force: true });
    fs.renameSync(staging, outdir);
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8')) as { templates: { file: string }[] };
    const rel = path.relative(cwd, outdir) || '.';
    output.out(`Synthesized ${manifest.templates.length} template${manifest.templates.length === 1 ? '' : 's'} to ${rel}/: ${manifest.templates.map((t) => t.file).join(', ')}`);
    return 0;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
