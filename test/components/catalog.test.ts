import Ajv from 'ajv';
import { CATALOG, findDeclaration } from '../../lib/components/catalog';
import { ComponentDeclaration, ComponentKind } from '../../lib/template/component';
import { jsonSchemaOf } from '../../lib/template/schema';

const entries: [string, ComponentDeclaration][] = (Object.keys(CATALOG) as ComponentKind[])
  .flatMap((kind) => Object.entries(CATALOG[kind]).map(([type, decl]): [string, ComponentDeclaration] => [`${kind} "${type}"`, decl]));

/** Keys the template layer takes out before a component sees its config. */
const META_KEYS: Record<ComponentKind, readonly string[]> = {
  'builder': ['type', 'name'],
  'provisioner': ['type', 'only', 'except', 'override', 'pause_before', 'max_retries', 'timeout'],
  'post-processor': ['type', 'name', 'only', 'except', 'keep_input_artifact'],
};

describe.each(entries)('the declaration of the %s', (_, decl) => {
  test('is filed under its own kind and type', () => {
    expect(findDeclaration(decl.kind, decl.type)).toBe(decl);
  });

  test('has a summary and a doc for every field', () => {
    expect(decl.summary.trim()).not.toBe('');
    const undocumented = Object.entries(decl.fields).filter(([, spec]) => !spec.doc?.trim()).map(([name]) => name);
    expect(undocumented).toEqual([]);
  });

  test('gives a default for every field that is not required', () => {
    const missing = Object.entries(decl.fields).filter(([, spec]) => !spec.required && !spec.default?.trim()).map(([name]) => name);
    expect(missing).toEqual([]);
  });

  test('does not declare the template-level meta keys', () => {
    expect(Object.keys(decl.fields).filter((k) => META_KEYS[decl.kind].includes(k))).toEqual([]);
  });

  test('has a JSON Schema that ajv compiles', () => {
    const ajv = new Ajv({ strict: false });
    const validate = ajv.compile(jsonSchemaOf(decl));
    // Required fields are checked by decodeConfig (an empty value counts as missing), not by the schema.
    expect(validate({ type: decl.type })).toBe(true);
    expect(validate({ type: decl.type, no_such_key: 1 })).toBe(false);
  });
});
