import { formatProblem } from '../../template/errors';
import { UsageError } from '../flags';
import { loadPlan, loadTemplate, variableSources } from '../load';
import { CommandContext } from '../main';

export async function run({ flags, output }: CommandContext): Promise<number> {
  if (flags.positionals.length !== 1) {
    throw new UsageError(`expected one template path (or - for stdin), got ${flags.positionals.length}`, 'validate');
  }
  const template = loadTemplate(flags.positionals[0]);
  if (flags.bools['syntax-only']) {
    output.out(`${template.file}: syntax is valid`);
    return 0;
  }
  // Mask what is known to be secret before anything can be printed about it.
  const sensitive = new Set(template.sensitiveVariables);
  output.addSecrets(template.variables.filter((v) => sensitive.has(v.name) && v.default).map((v) => v.default!));
  for (const s of variableSources(flags)) {
    if (s.kind === 'var') {
      const eq = s.text.indexOf('=');
      if (eq > 0 && sensitive.has(s.text.slice(0, eq))) output.addSecrets([s.text.slice(eq + 1)]);
    }
  }
  const plan = loadPlan(template, flags);
  output.addSecrets(plan.secrets);
  for (const w of plan.warnings) output.err(`warning: ${formatProblem(w)}`);
  const names = plan.builds.map((b) => b.name);
  output.out(`${template.file}: valid (${names.length} build${names.length === 1 ? '' : 's'}${names.length ? ': ' + names.join(', ') : ''})`);
  return 0;
}
