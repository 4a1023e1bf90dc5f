/**
 * The import rules of the code base, checked by dependency-cruiser in `npm test`
 * (`npm run lint:deps`, which `npm test` runs first); a violation fails the build. test/unit/dependency-rules.test.ts
 * plants one violation of each rule in a scratch tree and checks that it is caught.
 * https://github.com/sverweij/dependency-cruiser/blob/main/doc/rules-reference.md
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle means two modules are one concept split in two, or one of them is in the wrong place.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'product-not-to-test',
      severity: 'error',
      comment: 'Lambda code (functions/, shared/) never imports the tests or the sandbox: what is deployed must not lean on the simulation.',
      from: { path: '^(functions|shared)/' },
      to: { path: ['^test/', '^scripts/', 'node_modules/@eks-node-lifecycle/'] },
    },
    {
      name: 'sdk-clients-in-the-aws-boundary',
      severity: 'error',
      comment: 'SDK clients are built and called only in shared/aws/ (the adapters, from an AwsScope) and functions/lib/; domain code holds a scope and calls adapters.',
      from: { path: '^(functions|shared)/', pathNot: ['^shared/aws/', '^functions/lib/'] },
      to: { path: 'node_modules/@aws-sdk/(client-|lib-dynamodb)' },
    },
    {
      name: 'shared-not-to-functions',
      severity: 'error',
      comment: 'shared/ is the domain and its adapters; the Lambda entry points build on it, never the other way.',
      from: { path: '^shared/' },
      to: { path: '^functions/' },
    },
    {
      name: 'functions-through-shared',
      severity: 'error',
      comment: 'A handler reaches the rest of the code base only through shared/ (and functions/lib/): never another handler.',
      from: { path: '^functions/' },
      to: { path: '^(functions/[^/]+\\.ts$|scripts/|workflows/|deploy/)', pathNot: '^functions/lib/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    // `import type` counts: a type import still ties the modules' designs together
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
