import { UsageError } from '../flags';
import { loadTemplate } from '../load';
import { CommandContext } from '../main';

function table(rows: string[][], indent = '  '): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => indent + r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i] + 2) : c)).join('').trimEnd());
}

function filterText(only?: readonly string[], except?: readonly string[]): string {
  if (only?.length) return `only: ${only.join(', ')}`;
  if (except?.length) return `except: ${except.join(', ')}`;
  return '';
}

export async function run({ flags, output, machineReadable }: CommandContext): Promise<number> {
  if (flags.positionals.length !== 1) {
    throw new UsageError(`expected one template path (or - for stdin), got ${flags.positionals.length}`, 'inspect');
  }
  const t = loadTemplate(flags.positionals[0]);
  // Sensitive defaults are masked by name (not by comparing values), so nothing else is hidden by accident.
  const shownDefault = (v: (typeof t.variables)[number]) => (v.sensitive ? '<sensitive>' : v.default ?? '');
  const variables = [...t.variables].sort((a, b) => a.name.localeCompare(b.name));
  const builders = [...t.builders].sort((a, b) => a.name.localeCompare(b.name));

  if (machineReadable) {
    const ts = Math.floor(Date.now() / 1000);
    const esc = (s: string) => s.replace(/,/g, '%!(PACKER_COMMA)').replace(/\r/g, '\\r').replace(/\n/g, '\\n');
    for (const v of variables) output.out(`${ts},,template-variable,${esc(v.name)},${esc(shownDefault(v))},${v.required ? 1 : 0}`);
    for (const b of builders) output.out(`${ts},,template-builder,${esc(b.name)},${esc(b.type)}`);
    for (const p of t.provisioners) output.out(`${ts},,template-provisioner,${esc(p.type)}`);
    t.postProcessors.forEach((chain, i) => chain.forEach((pp) => output.out(`${ts},,template-post-processor,${i},${esc(pp.type)},${esc(pp.name)}`)));
    return 0;
  }

  const lines: string[] = [`Template: ${t.file}`, ''];
  if (t.description) lines.push('Description:', '', ...t.description.split('\n').map((l) => `  ${l}`), '');
  if (t.minPackerVersion) lines.push(`Requires Packer templates of version ${t.minPackerVersion} or newer.`, '');

  const required = variables.filter((v) => v.required);
  const optional = variables.filter((v) => !v.required);
  if (!variables.length) lines.push('Variables:', '', '  <none>', '');
  if (required.length) lines.push('Required variables:', '', ...required.map((v) => `  ${v.name}${v.sensitive ? '  (sensitive)' : ''}`), '');
  if (optional.length) {
    lines.push('Optional variables and their defaults:', '');
    lines.push(...table(optional.map((v) => [v.name, `= ${shownDefault(v)}`])), '');
  }

  lines.push('Builds:', '');
  lines.push(...table(builders.map((b) => [b.name, b.name === b.type ? '' : `(${b.type})`])), '');

  lines.push('Provisioners:', '');
  if (!t.provisioners.length) lines.push('  <none>');
  t.provisioners.forEach((p, i) => {
    const extra = [filterText(p.only, p.except), p.override ? `override: ${Object.keys(p.override).join(', ')}` : ''].filter(Boolean).join('; ');
    lines.push(`  ${i + 1}. ${p.type}${extra ? `  (${extra})` : ''}`);
  });
  if (t.errorCleanupProvisioner) lines.push(`  on error: ${t.errorCleanupProvisioner.type}`);
  lines.push('');

  lines.push('Post-processors:', '');
  if (!t.postProcessors.length) lines.push('  <none>');
  t.postProcessors.forEach((chain, i) => {
    const steps = chain.map((pp) => {
      const name = pp.name !== pp.type ? ` "${pp.name}"` : '';
      const extra = filterText(pp.only, pp.except);
      return `${pp.type}${name}${extra ? ` (${extra})` : ''}`;
    });
    lines.push(`  ${i + 1}. ${steps.join(' -> ')}`);
  });
  lines.push('');
  lines.push('Build names and defaults are shown as written; {{ }} expressions are rendered at build time.');
  for (const l of lines) output.out(l);
  return 0;
}
