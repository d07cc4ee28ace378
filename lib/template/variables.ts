import * as fs from 'fs';
import { TemplateError, show } from './errors';
import { formatOf, parseSource } from './parse';

/** Where a variable's value came from, in the order the user gave them on the command line. */
export type VariableSource =
  | { readonly kind: 'var'; readonly text: string }
  | { readonly kind: 'var-file'; readonly file: string };

/** Splits `-var` text at the first `=`; the value may itself contain `=`. */
export function parseVarAssignment(text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq < 0) {
    throw new TemplateError([{ message: `-var ${show(text)} has no "=": write -var 'name=value'` }]);
  }
  return [text.slice(0, eq), text.slice(eq + 1)];
}

/** Reads a `-var-file`: a JSON (or YAML) object whose values are all strings. */
export function readVarFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TemplateError([{ file, message: `cannot read the variables file: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}` }]);
  }
  // Unlike templates, variable files may repeat a key (the last one wins), as in Packer.
  let value: unknown;
  let locate: (p: string[]) => { line: number; column: number } | undefined = () => undefined;
  if (formatOf(file) === 'json') {
    try {
      value = JSON.parse(text);
    } catch {
      parseSource(text, file); // throws the positioned syntax error
    }
  } else {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const YAML = require('yaml') as typeof import('yaml');
    const doc = YAML.parseDocument(text, { uniqueKeys: false });
    if (doc.errors.length) parseSource(text, file);
    value = doc.toJS();
    locate = () => undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TemplateError([{ file, message: 'a variables file must be an object of name → string value' }]);
  }
  const problems = [];
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as object)) {
    // A null value sets the variable to the empty string (it still counts as given).
    if (v === null) {
      out[k] = '';
      continue;
    }
    if (typeof v !== 'string') {
      problems.push({ file, ...locate([k]), path: k, message: `value must be a string, got ${show(v)}` + (typeof v === 'number' || typeof v === 'boolean' ? ` — write "${String(v)}"` : '') });
      continue;
    }
    out[k] = v;
  }
  if (problems.length) throw new TemplateError(problems);
  return out;
}

/**
 * Merges command-line values with Packer's precedence: files in the order
 * given (a later file wins), then every `-var` on top, whatever its position
 * relative to the files (the last `-var` for a name wins).
 */
export function resolveOverrides(sources: readonly VariableSource[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of sources) if (s.kind === 'var-file') Object.assign(out, readVarFile(s.file));
  for (const s of sources) {
    if (s.kind === 'var') {
      const [k, v] = parseVarAssignment(s.text);
      out[k] = v;
    }
  }
  return out;
}
