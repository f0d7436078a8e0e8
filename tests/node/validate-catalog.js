// Validate Backstage entity files with @backstage/catalog-model, the validator Backstage itself runs.
// Usage: node validate-catalog.js FILE...   Prints one JSON line per document: {file, index, kind, ok, error}.
'use strict';
const fs = require('fs');
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
        await validate(doc);
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
