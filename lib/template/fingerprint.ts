import { createHash } from 'crypto';

/**
 * The tag that carries a template's content fingerprint on the images built
 * from it, so that infrastructure code can find exactly the image built from
 * the current definition (see `kiln/cdktf`).
 */
export const FINGERPRINT_TAG = 'kiln:fingerprint';

/** Builder types whose images carry tags, and so the fingerprint tag. */
export const TAGGED_BUILDER_TYPES: ReadonlySet<string> = new Set(['amazon-ebs']);

/**
 * The content fingerprint of a template: sha256 of its JSON with keys sorted
 * at every depth and any fingerprint tag left out, so adding the tag does not
 * change it. Arrays keep their order (provisioners run in order); asset
 * contents take part through their hashed paths.
 */
export function templateFingerprint(template: unknown): string {
  return createHash('sha256').update(canonicalJson(withoutFingerprintTags(template))).digest('hex');
}

/** The same template with `FINGERPRINT_TAG` added to the tags of every builder that tags its images. */
export function withFingerprintTags<T>(template: T, fingerprint: string): T {
  return mapBuilders(template, (b) => ({ ...b, tags: { ...tagsOf(b), [FINGERPRINT_TAG]: fingerprint } }));
}

function withoutFingerprintTags(template: unknown): unknown {
  return mapBuilders(template, (b) => {
    const tags = tagsOf(b);
    if (!(FINGERPRINT_TAG in tags)) return b;
    const rest = Object.fromEntries(Object.entries(tags).filter(([k]) => k !== FINGERPRINT_TAG));
    const copy: Record<string, unknown> = { ...b, tags: rest };
    // A template whose only tag is the fingerprint hashes as one without tags.
    if (Object.keys(rest).length === 0) delete copy.tags;
    return copy;
  });
}

function mapBuilders<T>(template: T, f: (builder: Record<string, unknown>) => Record<string, unknown>): T {
  if (!isObject(template) || !Array.isArray(template.builders)) return template;
  const builders = template.builders.map((b) => (isObject(b) && typeof b.type === 'string' && TAGGED_BUILDER_TYPES.has(b.type) ? f(b) : b));
  return { ...template, builders } as T;
}

function tagsOf(builder: Record<string, unknown>): Record<string, unknown> {
  return isObject(builder.tags) ? builder.tags : {};
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The JSON text a fingerprint is taken of. */
function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (isObject(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k])]));
    return v;
  };
  // The same text as the synth output's (keys sorted, two-space indent).
  return JSON.stringify(sort(value), null, 2) + '\n';
}
