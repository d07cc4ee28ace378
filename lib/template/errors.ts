/**
 * One thing wrong with a template, located as precisely as Kiln knows.
 *
 * Problems are collected rather than thrown one at a time, so a user sees every
 * mistake in a template in one run instead of fixing them one by one.
 */
export interface Problem {
  /** File name as the user gave it (or `<stdin>`). */
  readonly file?: string;
  /** Where in the document: `builders[1]`, `variables.region`, `post-processors[0][1]`. */
  readonly path?: string;
  /** The component at that place, e.g. `docker "web"` or `shell`. */
  readonly component?: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

/** Renders a problem as one line: `web.json: builders[1] (docker "web"): unknown key "imagee"`. */
export function formatProblem(p: Problem): string {
  let where = p.file ?? '';
  if (p.line !== undefined) {
    where += `:${p.line}`;
    if (p.column !== undefined) where += `:${p.column}`;
  }
  const parts: string[] = [];
  if (where) parts.push(where);
  if (p.path) parts.push(p.component ? `${p.path} (${p.component})` : p.path);
  else if (p.component) parts.push(`(${p.component})`);
  parts.push(p.message);
  return parts.join(': ');
}

/**
 * Thrown when a template cannot be used. Carries every problem found, so the CLI
 * can print them all; `message` is the first one, for callers that print one line.
 */
export class TemplateError extends Error {
  public readonly problems: readonly Problem[];

  constructor(problems: readonly Problem[]) {
    super(problems.length ? formatProblem(problems[0]) : 'invalid template');
    this.name = 'TemplateError';
    this.problems = problems;
  }

  /** Every problem, one per line. */
  public describe(): string {
    return this.problems.map(formatProblem).join('\n');
  }
}

/** Collects problems in order; `assertNone()` throws them together. */
export class ProblemList {
  private readonly items: Problem[] = [];

  constructor(private readonly base: Partial<Problem> = {}) {}

  public add(p: Problem | string): void {
    this.items.push(typeof p === 'string' ? { ...this.base, message: p } : { ...this.base, ...p });
  }

  public addAll(ps: Iterable<Problem>): void {
    for (const p of ps) this.add(p);
  }

  public get length(): number {
    return this.items.length;
  }

  public get all(): readonly Problem[] {
    return this.items;
  }

  public assertNone(): void {
    if (this.items.length) throw new TemplateError(this.items);
  }
}

/** Quote a value the way messages show it: strings in double quotes, others as JSON. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const s = JSON.stringify(value);
  if (s === undefined) return String(value);
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}
