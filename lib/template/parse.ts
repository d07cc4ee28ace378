import * as fs from 'fs';
import * as path from 'path';
import type { Document, LineCounter } from 'yaml';
import { Problem, TemplateError } from './errors';

/** A parsed template file: its value and enough of its text to point at a place in it. */
export interface SourceDocument {
  /** The name to show in messages: the path as the user gave it, or `<stdin>`. */
  readonly file: string;
  /** Absolute path of the file; undefined for stdin. */
  readonly absPath?: string;
  /** The parsed value (plain JSON data). */
  readonly value: unknown;
  /** Line and column (1-based) of the value at a JSON path, when known. */
  locate(jsonPath: readonly (string | number)[]): { line: number; column: number } | undefined;
}

export type SourceFormat = 'json' | 'yaml';

/** `.yaml`/`.yml` files are YAML; everything else, stdin included, is JSON. */
export function formatOf(file: string): SourceFormat {
  return /\.ya?ml$/i.test(file) ? 'yaml' : 'json';
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, column: offset - last };
}

function excerpt(text: string, line: number, column: number): string {
  const src = text.split('\n')[line - 1] ?? '';
  return `\n    ${src.replace(/\t/g, ' ')}\n    ${' '.repeat(Math.max(0, column - 1))}^`;
}

/**
 * Parses template text. JSON is checked strictly (as Packer's decoder does:
 * no comments, no trailing commas); both formats reject duplicate keys at any
 * depth, which a plain JSON.parse would silently accept.
 */
export function parseSource(text: string, file: string, format: SourceFormat = formatOf(file)): SourceDocument {
  if (format === 'json') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new TemplateError([jsonSyntaxProblem(text, file, (e as Error).message)]);
    }
    // The common case stays on JSON.parse; the YAML parser (for positions) loads only when needed.
    if (!hasDuplicateKeys(text)) {
      let full: SourceDocument | undefined;
      return { file, value, locate: (p) => (full ??= parseWithPositions(text, file, format)).locate(p) };
    }
  }
  return parseWithPositions(text, file, format);
}

/**
 * True when some object in (already valid) JSON text repeats a key. A plain
 * scan, much cheaper than a second full parse.
 */
export function hasDuplicateKeys(text: string): boolean {
  const stack: ({ keys: Set<string>; expectKey: boolean } | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      while (j < text.length) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) {
          escaped = true;
          j += 2;
          continue;
        }
        if (d === 0x22) break;
        j++;
      }
      const top = stack[stack.length - 1];
      if (top && top.expectKey) {
        const raw = text.slice(i + 1, j);
        const key = escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
        if (top.keys.has(key)) return true;
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      stack.push({ keys: new Set(), expectKey: true });
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top) top.expectKey = true;
    }
  }
  return false;
}

function parseWithPositions(text: string, file: string, format: SourceFormat): SourceDocument {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const YAML = require('yaml') as typeof import('yaml');
  const counter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: counter, uniqueKeys: true, prettyErrors: false, strict: true, version: '1.2' });
  if (doc.errors.length) {
    throw new TemplateError(doc.errors.map((err) => {
      const at = counter.linePos(err.pos[0]);
      const message = /Map keys must be unique/.test(err.message)
        ? `duplicate key ${JSON.stringify(keyAt(text, err.pos[0]))}: keys must be unique in every object`
        : `invalid ${format === 'json' ? 'JSON' : 'YAML'}: ${err.message.split('\n')[0]}`;
      return { file, line: at.line, column: at.col, message: message + excerpt(text, at.line, at.col) };
    }));
  }
  const value = doc.toJS({ maxAliasCount: 100 });
  return { file, value, locate: (p) => locateIn(doc, counter, p) };
}

function keyAt(text: string, offset: number): string {
  const m = /^\s*"?([^":\n]*)"?/.exec(text.slice(offset, offset + 200));
  return m ? m[1] : '?';
}

function jsonSyntaxProblem(text: string, file: string, message: string): Problem {
  const m = /at position (\d+)/.exec(message) ?? /position (\d+)/.exec(message);
  const offset = m ? Number(m[1]) : text.length;
  const { line, column } = lineColumn(text, offset);
  const reason = message.replace(/ in JSON at position \d+.*$/s, '').replace(/\s*\(line \d+ column \d+\)$/, '');
  return { file, line, column, message: `invalid JSON: ${reason}` + excerpt(text, line, column) };
}

function locateIn(doc: Document, counter: LineCounter, jsonPath: readonly (string | number)[]) {
  let node: unknown = doc.contents;
  for (const seg of jsonPath) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const YAML = require('yaml') as typeof import('yaml');
    if (YAML.isMap(node)) {
      const pair = node.items.find((p) => YAML.isScalar(p.key) && String(p.key.value) === String(seg));
      node = pair?.value;
    } else if (YAML.isSeq(node)) {
      node = node.items[Number(seg)];
    } else {
      return undefined;
    }
  }
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  if (!range) return undefined;
  const pos = counter.linePos(range[0]);
  return { line: pos.line, column: pos.col };
}

/** Reads and parses a template: a path, or `-` for standard input (parsed as JSON). */
export function loadSource(fileArg: string, readStdin: () => string = () => fs.readFileSync(0, 'utf8')): SourceDocument & { absPath?: string } {
  if (fileArg === '-') return parseSource(readStdin(), '<stdin>', 'json');
  let text: string;
  try {
    text = fs.readFileSync(fileArg, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory, not a template file' : (e as Error).message;
    throw new TemplateError([{ file: fileArg, message: `cannot read the template: ${why}` }]);
  }
  const doc = parseSource(text, fileArg);
  return { ...doc, locate: doc.locate, absPath: path.resolve(fileArg) };
}
