// Lets code that jest does not load (worker threads, child processes started with --expose-gc)
// require the TypeScript of lib/ and test/ as it is now, not a possibly stale dist/: each .ts file
// is transpiled when it is loaded, without type checks (ts-jest and tsc do those). Use it as
// `node -r ./test/helpers/register-ts.js file.ts`, or require it first in a worker.
'use strict';
const fs = require('fs');
const ts = require('typescript');

const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  // lib/native.ts's const enums are read across files, which a file-by-file transpile cannot inline.
  preserveConstEnums: true,
};

require.extensions['.ts'] ??= (module, filename) => {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), { compilerOptions, fileName: filename });
  module._compile(outputText, filename);
};
