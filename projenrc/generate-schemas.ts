/**
 * Compiles every component's JSON Schema to validation code ahead of time
 * (ajv standalone), one small module per component type, so `kiln validate`
 * neither compiles schemas nor loads code for types the template does not use.
 * Run at pre-compile; the modules are build artifacts next to the compiled
 * sources (git-ignored). Each carries the hash of the schema it was made from,
 * and schema.ts compiles at run time instead when they differ.
 */
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import { CATALOG } from '../lib/components/catalog';
import { ComponentKind } from '../lib/template/component';
import { jsonSchemaOf, precompiledFile, schemaHash } from '../lib/template/schema';

const DIR = path.join(__dirname, '..', 'lib', 'template', 'schemas');
fs.mkdirSync(DIR, { recursive: true });
for (const kind of Object.keys(CATALOG) as ComponentKind[]) {
  for (const decl of Object.values(CATALOG[kind])) {
    const schema = jsonSchemaOf(decl);
    const ajv = new Ajv({ allErrors: true, strict: false, code: { source: true } });
    const code = standaloneCode(ajv, ajv.compile(schema));
    const text = `${code}\nmodule.exports.validate = module.exports;\nmodule.exports.hash = ${JSON.stringify(schemaHash(schema))};\n`;
    const file = path.join(DIR, precompiledFile(schema));
    if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) fs.writeFileSync(file, text);
  }
}
