import { BUILTINS } from './builtins';
import { CleanResourceNameRule, InterpolateContext } from './context';
import { execute, FunctionLookup } from './evaluate';
import { CLEAN_AMI_NAME, CLEAN_RESOURCE_NAME, PACKER_FUNCTIONS } from './functions';
import { parseTemplate, TemplateTree } from './parser';
import { TemplateFunction } from './signature';

/*
 * The entry points: parse (cached), render once, and render until stable.
 * The CLI renders every string of a template, and most of them hold no
 * action at all, so those never reach the parser.
 */

export interface ParseOptions {
  /** make `clean_resource_name` a known function (cloud builders' own configs) */
  readonly enableCleanResourceName?: boolean | CleanResourceNameRule;
}

const [CLEAN_NAME, CLEAN_FUNCTION] = CLEAN_RESOURCE_NAME;

function functionTable(clean: TemplateFunction | undefined): FunctionLookup {
  return (name: string): TemplateFunction | undefined => {
    if (clean && name === CLEAN_NAME) return clean;
    return BUILTINS.get(name) ?? PACKER_FUNCTIONS.get(name);
  };
}

const STANDARD_FUNCTIONS = functionTable(undefined);
const CLOUD_FUNCTIONS = functionTable(CLEAN_FUNCTION);
const AMAZON_FUNCTIONS = functionTable(CLEAN_AMI_NAME);

/** Parsed trees by text; Map keeps insertion order, so the oldest entry is evicted first. */
const CACHE_LIMIT = 2000;
const cache = new Map<string, TemplateTree>();

/** Parses Go template text; throws TemplateSyntaxError. Results are cached. */
export function parse(text: string, options: ParseOptions = {}): TemplateTree {
  const clean = Boolean(options.enableCleanResourceName);
  // The set of known functions is part of the parse, so it is part of the key.
  const key = (clean ? 'c' : 's') + text;
  const cached = cache.get(key);
  if (cached) {
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  const lookup = clean ? CLOUD_FUNCTIONS : STANDARD_FUNCTIONS;
  const tree = parseTemplate(text, { isFunction: (name) => lookup(name) !== undefined });
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(key, tree);
  return tree;
}

/** A cheap test for whether a string needs the template engine at all. */
export function hasActions(text: string): boolean {
  return text.includes('{{');
}

/** Parses only; used to validate fields that are rendered later, at run time. */
export function checkSyntax(text: string, options: ParseOptions = {}): void {
  if (hasActions(text)) parse(text, options);
}

/** Parses and executes once (Packer's RenderOnce). Throws TemplateSyntaxError or TemplateExecError. */
export function render(text: string, ctx: InterpolateContext): string {
  if (!hasActions(text)) return text;
  const clean = ctx.enableCleanResourceName;
  const tree = parse(text, { enableCleanResourceName: clean });
  // One clock reading per render, so timestamp and isotime agree within a string.
  const fixed = ctx.now ? ctx : { ...ctx, now: new Date() };
  const table = clean === 'amazon' ? AMAZON_FUNCTIONS : clean ? CLOUD_FUNCTIONS : STANDARD_FUNCTIONS;
  return execute(tree, fixed, table);
}

/** Packer loops until the output stops changing; Kiln stops after this many rounds instead of hanging. */
export const MAX_RENDER_ROUNDS = 100;
const MAX_RENDER_LENGTH = 16 * 1024 * 1024;

/**
 * Packer's Render: render, then render the result again, until it no longer
 * changes. A value that injects `{{.X}}` (for example through `build`) is
 * resolved this way.
 */
export function renderRepeatedly(text: string, ctx: InterpolateContext): string {
  const fixed = ctx.now ? ctx : { ...ctx, now: new Date() };
  let current = text;
  for (let round = 0; round < MAX_RENDER_ROUNDS; round++) {
    const next = render(current, fixed);
    if (next === current) return next;
    if (next.length > MAX_RENDER_LENGTH) {
      throw new Error(`template output grew past ${MAX_RENDER_LENGTH} characters while rendering it again and again: ${JSON.stringify(text)}`);
    }
    current = next;
  }
  throw new Error(`template output kept changing after ${MAX_RENDER_ROUNDS} renders (Packer would loop forever): ${JSON.stringify(text)}`);
}
