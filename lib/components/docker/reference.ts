/**
 * Image references (`registry:5000/team/app:1.2`, `app@sha256:…`), read as
 * the Docker CLI reads them, so that Kiln refuses the same names with the
 * same message.
 */

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*';
const DOMAIN_PART = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_PART}(?:\\.${DOMAIN_PART})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);

export interface ImageReference {
  /** The repository, with its registry if given: `127.0.0.1:5000/team/app`. */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** Reads a reference; undefined when the CLI would call it an invalid reference format. */
export function parseReference(ref: string): ImageReference | undefined {
  const m = REFERENCE.exec(ref);
  if (!m || m[1].length > 255) return undefined;
  return { repository: m[1], tag: m[2], digest: m[3] };
}

/** The CLI's error for a reference it cannot read. */
export function invalidReference(ref: string): Error {
  return new Error(`Error parsing reference: ${JSON.stringify(ref)} is not a valid repository/tag: invalid reference format`);
}

/** `repo` and `tag` for the tag and push API calls; the tag defaults to `latest`, as with the CLI. */
export function splitReference(ref: string): { repo: string; tag: string } {
  const parsed = parseReference(ref);
  if (!parsed) throw invalidReference(ref);
  return { repo: parsed.repository, tag: parsed.digest ? '' : parsed.tag ?? 'latest' };
}
