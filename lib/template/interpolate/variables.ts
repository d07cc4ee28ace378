import { randomUUID } from 'crypto';
import { InterpolateContext } from './context';
import { TemplateExecError, TemplateSyntaxError } from './errors';
import { VARIABLE_NOT_SET } from './functions';
import { render } from './render';

/*
 * Packer's variable pass (packer/core.go renderVarsRecursively at v1.6.6),
 * reproduced with its quirks because they decide which templates work:
 *
 * - Keys are visited in sorted order, for up to 100 rounds. Each round
 *   renders the ORIGINAL text of every pending variable once.
 * - A variable leaves the pending list once it rendered and its original text
 *   has no ``{{ user `...` }}`` call written with backquotes. Others are
 *   rendered again in every round.
 * - A "variable not set" failure is retried next round. The pass fails only
 *   if, in its last round, nothing rendered at all. So while some
 *   backquoted-user variable keeps rendering, an undefined reference
 *   elsewhere is silently dropped (checked with packer 1.6.6).
 * - `{{ .Name }}` actions are masked and come out literally.
 */

const MAX_ROUNDS = 100;

const REGEX_SPACE = /[\t\n\f\r ]/;

/** Go's `\s` is narrower than JavaScript's. */
function isRegexSpace(ch: string | undefined): boolean {
  return ch !== undefined && REGEX_SPACE.test(ch);
}

/**
 * The end of a match of Packer's mask regex `{{(\s|)\.(.*?)(\s|)}}` starting
 * at `start`, or -1. Written out by hand to stay linear: `.` stops at a
 * newline, but one whitespace (a newline too) may sit right before `}}`.
 */
function dataReferenceEnd(text: string, start: number): number {
  let i = start + 2;
  if (isRegexSpace(text[i]) && text[i + 1] === '.') i++;
  if (text[i] !== '.') return -1;
  for (i++; i < text.length; i++) {
    if (text.startsWith('}}', i)) return i + 2;
    if (text[i] === '\n') return text.startsWith('}}', i + 1) ? i + 3 : -1;
  }
  return -1;
}

export interface MaskedText {
  /** the text with every `{{ .X }}` replaced by a unique token */
  readonly text: string;
  /** puts the original actions back into a rendered string */
  restore(rendered: string): string;
}

/**
 * Hides `{{.X}}`-style actions from a render, as Packer does for variable
 * values, so that they survive until a later pass supplies the data.
 */
export function maskDataReferences(text: string): MaskedText {
  const masks: Array<[token: string, original: string]> = [];
  let out = '';
  let copied = 0;
  for (let at = text.indexOf('{{'); at !== -1; at = text.indexOf('{{', at + 1)) {
    const end = dataReferenceEnd(text, at);
    if (end === -1) continue;
    const token = `kiln-mask-${randomUUID()}`;
    masks.push([token, text.slice(at, end)]);
    out += text.slice(copied, at) + token;
    copied = end;
    at = end - 1;
  }
  if (masks.length === 0) return { text, restore: (rendered) => rendered };
  out += text.slice(copied);
  return {
    text: out,
    restore: (rendered) => masks.reduce((result, [token, original]) => result.split(token).join(original), rendered),
  };
}

/** Packer's isDoneInterpolating: does the text still call user with a backquoted name? */
function hasBackquotedUserCall(text: string): boolean {
  for (let at = text.indexOf('{{'); at !== -1; at = text.indexOf('{{', at + 1)) {
    let i = at + 2;
    while (isRegexSpace(text[i])) i++;
    if (!text.startsWith('user', i)) continue;
    i += 4;
    while (isRegexSpace(text[i])) i++;
    if (text[i] !== '`') continue;
    // `.*` cannot cross a newline; any later backquote on the line may close it.
    for (let close = i + 1; close < text.length && text[close] !== '\n'; close++) {
      if (text[close] !== '`') continue;
      let j = close + 1;
      while (isRegexSpace(text[j])) j++;
      if (text.startsWith('}}', j)) return true;
    }
  }
  return false;
}

/** Thrown when the variable pass cannot finish; the message is Packer's. */
export class VariableInterpolationError extends Error {
  constructor(message: string, readonly variable: string) {
    super(message);
    this.name = 'VariableInterpolationError';
  }
}

export type VariablesContext = Omit<InterpolateContext, 'stage' | 'userVariables'>;

/**
 * Renders the user variables: template defaults (null marks a required
 * variable, whose value must come from `overrides`) and the merged
 * -var/-var-file values, which win. Returns name -> rendered value.
 */
export function renderVariables(
  defs: ReadonlyMap<string, string | null>,
  overrides: Readonly<Record<string, string>>,
  ctx: VariablesContext,
): Record<string, string> {
  const base: InterpolateContext = { ...ctx, stage: 'variables', data: null, now: ctx.now ?? new Date() };
  const raw = new Map<string, string>();
  for (const [name, value] of defs) raw.set(name, value ?? '');
  for (const [name, value] of Object.entries(overrides)) raw.set(name, value);

  // Packer starts from the command-line values, unrendered.
  const variables: Record<string, string> = { ...overrides };
  // A quirk of Packer's loop defines the empty name before anything else.
  const lookup = (): Record<string, string> => ({ '': '', ...variables });

  let pending = [...raw.keys()].sort();
  let lastFailure: { name: string; detail: string } | undefined;
  let changed = false;
  let retry = false;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    changed = false;
    retry = false;
    const done = new Set<string>();
    for (const name of pending) {
      const original = raw.get(name) ?? '';
      try {
        const masked = maskDataReferences(original);
        variables[name] = masked.restore(render(masked.text, { ...base, userVariables: lookup() }));
        changed = true;
        if (hasBackquotedUserCall(original)) retry = true;
        else done.add(name);
      } catch (e) {
        if (e instanceof TemplateExecError && e.message.includes(VARIABLE_NOT_SET)) {
          retry = true;
          lastFailure = { name, detail: `"${name}": "${original}"; error: ${e.message}` };
        } else if (e instanceof TemplateSyntaxError) {
          throw new VariableInterpolationError(`error interpolating default value for '${name}': ${e.message}`, name);
        } else {
          throw e;
        }
      }
    }
    if (!retry) break;
    pending = pending.filter((name) => !done.has(name));
  }

  if (!changed && retry && lastFailure) {
    throw new VariableInterpolationError(
      `Failed to interpolate ${lastFailure.detail}: Please make sure that the variable you're referencing has been defined; `
      + 'Packer treats all variables used to interpolate other user variables as required.',
      lastFailure.name,
    );
  }
  return variables;
}
