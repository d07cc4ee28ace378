import * as fs from 'fs';
import * as path from 'path';

/**
 * The prepare-time path rules that the ansible, ansible-local and
 * puppet-masterless provisioners share: a named local file or directory must
 * exist when the template is validated, as in Packer 1.6.6. Relative paths
 * are resolved against `cwd`. Each message names the field and the path.
 */

type Want = 'file' | 'dir' | 'any';

function describe(field: string, given: string, abs: string): string {
  return `"${field}" ${JSON.stringify(given)}${abs === given ? '' : ` (resolved to ${abs})`}`;
}

/** Undefined when `given` is the kind of thing wanted; otherwise the problem. */
export function checkPath(field: string, given: string, want: Want, cwd: string): string | undefined {
  const abs = path.resolve(cwd, given);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR'
      ? `${describe(field, given, abs)} does not exist`
      : `${describe(field, given, abs)} cannot be read: ${code ?? String(e)}`;
  }
  if (want === 'file' && stat.isDirectory()) return `${describe(field, given, abs)} is a directory; it must be a file`;
  if (want === 'dir' && !stat.isDirectory()) return `${describe(field, given, abs)} is not a directory`;
  return undefined;
}

/** The problems of several optional paths of one kind. */
export function checkPaths(field: string, given: readonly (string | undefined)[], want: Want, cwd: string): string[] {
  return given.filter((g): g is string => Boolean(g)).map((g) => checkPath(field, g, want, cwd)).filter((m): m is string => m !== undefined);
}
