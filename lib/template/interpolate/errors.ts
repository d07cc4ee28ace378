/**
 * Packer names every template it parses "root", and its error texts reach the
 * user verbatim, so Kiln keeps Go's message shapes exactly and adds the
 * position (offset/line/column) as properties.
 */
export const TEMPLATE_NAME = 'root';

export interface SourceLocation {
  /** index into the JavaScript string (UTF-16 code units) */
  readonly offset: number;
  /** 1-based line */
  readonly line: number;
  /** 1-based column in UTF-16 code units, as editors count */
  readonly column: number;
  /** 0-based byte column in UTF-8, which is what Go prints in exec errors */
  readonly goColumn: number;
}

export function locate(text: string, offset: number): SourceLocation {
  const clamped = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < clamped; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  const goColumn = Buffer.byteLength(text.slice(lineStart, clamped), 'utf8');
  return { offset: clamped, line, column: clamped - lineStart + 1, goColumn };
}

/** A template that does not parse. The message is Go's: `template: root:LINE: reason`. */
export class TemplateSyntaxError extends Error {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
  /** the message without the `template: root:LINE:` prefix */
  readonly reason: string;

  constructor(reason: string, text: string, offset: number) {
    const where = locate(text, offset);
    super(`template: ${TEMPLATE_NAME}:${where.line}: ${reason}`);
    this.name = 'TemplateSyntaxError';
    this.reason = reason;
    this.offset = where.offset;
    this.line = where.line;
    this.column = where.column;
  }
}

export interface ExecErrorDetails {
  readonly reason: string;
  readonly text: string;
  readonly offset: number;
  /** Go's rendering of the node being evaluated, shown as `at <...>` */
  readonly context: string;
  /** the named template that was executing (`root` unless `{{template}}` was used) */
  readonly templateName?: string;
  readonly functionName?: string;
}

/**
 * A template that parsed but failed while running. The message is Go's:
 * `template: root:LINE:COL: executing "root" at <NODE>: reason`.
 */
export class TemplateExecError extends Error {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
  /** the function whose call (or argument check) failed, if any */
  readonly functionName?: string;
  /** the message without Go's location prefix, e.g. `error calling env: env vars are not allowed here` */
  readonly reason: string;
  /** Go's rendering of the failing node, e.g. ``env `HOME` `` */
  readonly context: string;

  constructor(details: ExecErrorDetails) {
    const where = locate(details.text, details.offset);
    const executing = details.templateName ?? TEMPLATE_NAME;
    super(`template: ${TEMPLATE_NAME}:${where.line}:${where.goColumn}: executing "${executing}" at <${details.context}>: ${details.reason}`);
    this.name = 'TemplateExecError';
    this.reason = details.reason;
    this.context = details.context;
    this.functionName = details.functionName;
    this.offset = where.offset;
    this.line = where.line;
    this.column = where.column;
  }
}

/** Thrown by Packer functions (and Go built-ins); the evaluator wraps it as `error calling NAME: message`. */
export class FunctionCallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FunctionCallError';
  }
}
