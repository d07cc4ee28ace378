import { FlagSpec, ParsedFlags } from './flags';
import { CATALOG } from '../components/catalog';
import { TemplateError } from '../template/errors';
import { loadSource } from '../template/parse';
import { Plan, prepare } from '../template/prepare';
import { Template, readTemplate } from '../template/template';
import { VariableSource, resolveOverrides } from '../template/variables';

/** Flags every command that reads a template shares. */
export const TEMPLATE_FLAGS: readonly FlagSpec[] = [
  { name: 'var', kind: 'list', arg: 'key=value', doc: 'Set a template variable; beats -var-file whatever the order. Repeatable.' },
  { name: 'var-file', kind: 'list', arg: 'path', doc: 'Read variables from a JSON or YAML file of strings. Repeatable; later files win.' },
  { name: 'only', kind: 'list', arg: 'name,...', doc: 'Only the builds with these names.' },
  { name: 'except', kind: 'list', arg: 'name,...', doc: 'Every build but these (also drops post-processors with these names).' },
];

export function variableSources(flags: ParsedFlags): VariableSource[] {
  return flags.ordered
    .filter((f) => f.name === 'var' || f.name === 'var-file')
    .map((f) => (f.name === 'var' ? { kind: 'var', text: f.value } : { kind: 'var-file', file: f.value }));
}

export function loadTemplate(file: string): Template {
  return readTemplate(loadSource(file));
}

/**
 * Command-line variables, with problems reported against the template they are
 * for (a bad -var-file names both files).
 */
function overridesFor(template: Template, flags: ParsedFlags): Record<string, string> {
  try {
    return resolveOverrides(variableSources(flags));
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    throw new TemplateError(e.problems.map((p) => {
      const where = p.file ? `-var-file ${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ` : '';
      return { file: template.file, message: `${where}${p.path ? `${p.path}: ` : ''}${p.message}` };
    }));
  }
}

/** Reads, renders and prepares a template as the flags say. Throws TemplateError. */
export function loadPlan(template: Template, flags: ParsedFlags): Plan {
  return prepare(template, {
    catalog: { kinds: CATALOG },
    overrides: overridesFor(template, flags),
    only: flags.lists.only,
    except: flags.lists.except,
  });
}
