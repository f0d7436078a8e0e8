// Validate Backstage entity files with @backstage/catalog-model, the validator Backstage itself runs.
// Usage: node validate-catalog.js FILE...   Prints one JSON line per document: {file, index, kind, ok, error}.
'use strict';
const fs = require('fs');
const path = require('path');
const YAML = require('yaml');
const model = require('@backstage/catalog-model');

const policy = model.EntityPolicies.allOf([
  new model.DefaultNamespaceEntityPolicy(),
  new model.NoForeignRootFieldsEntityPolicy(),
  new model.FieldFormatEntityPolicy(),
  new model.SchemaValidEntityPolicy(),
]);
const kindValidators = [
  model.componentEntityV1alpha1Validator,
  model.apiEntityV1alpha1Validator,
  model.systemEntityV1alpha1Validator,
  model.resourceEntityV1alpha1Validator,
  model.locationEntityV1alpha1Validator,
];

// Backstage's PlaceholderProcessor resolves $text/$json/$yaml (relative to the file) before validation.
function resolvePlaceholders(value, baseDir) {
  if (Array.isArray(value)) return value.map((item) => resolvePlaceholders(item, baseDir));
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && ['$text', '$json', '$yaml'].includes(keys[0])) {
    const target = path.resolve(baseDir, value[keys[0]]);
    const text = fs.readFileSync(target, 'utf8');
    if (keys[0] === '$text') return text;
    return keys[0] === '$json' ? JSON.parse(text) : YAML.parse(text);
  }
  return Object.fromEntries(keys.map((key) => [key, resolvePlaceholders(value[key], baseDir)]));
}

async function validate(entity) {
  const enforced = await policy.enforce(entity);
  for (const validator of kindValidators) {
    if (await validator.check(enforced)) return enforced;
  }
  throw new Error(`no validator accepts kind ${entity.kind}`);
}

async function main(files) {
  let failed = false;
  for (const file of files) {
    const docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS());
    for (const [index, doc] of docs.entries()) {
      if (doc === null) continue;
      try {
        await validate(resolvePlaceholders(doc, path.dirname(file)));
        console.log(JSON.stringify({ file, index, kind: doc.kind, ok: true }));
      } catch (error) {
        failed = true;
        console.log(JSON.stringify({ file, index, kind: doc && doc.kind, ok: false, error: String(error.message || error) }));
      }
    }
  }
  process.exitCode = failed ? 1 : 0;
}

main(process.argv.slice(2));
