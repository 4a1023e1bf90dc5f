import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { build } from 'esbuild';
import { PROJECT_ROOT } from '@eks-node-lifecycle/sandbox';

const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

/** The packages a module imports, through the project's own files (esbuild follows them; packages stay external). */
async function packagesImportedBy(entry: string, externalFiles: RegExp[] = []): Promise<Set<string>> {
  const out = await build({
    entryPoints: [join(PROJECT_ROOT, entry)],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
    plugins: [
      {
        name: 'leave-out',
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => (externalFiles.some((r) => r.test(args.path)) ? { path: args.path, external: true } : undefined));
        },
      },
    ],
  });
  const found = new Set<string>();
  for (const input of Object.values(out.metafile.inputs)) {
    for (const imported of input.imports) {
      if (!imported.external || imported.path.startsWith('.') || imported.path.startsWith('node:') || builtinModules.includes(imported.path)) continue;
      const parts = imported.path.split('/');
      found.add(imported.path.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!);
    }
  }
  return found;
}

describe('runtime dependencies', () => {
  it('the CLI (all but --sandbox) imports only what `npm ci --omit=dev` installs', async () => {
    // the sandbox (scripts/cli-sandbox.ts) is the test world: a development dependency, loaded only for --sandbox
    const imported = await packagesImportedBy('bin/eks-node-lifecycle.mjs', [/cli-sandbox/]);
    assert.ok(imported.has('tsx') && imported.has('@aws-sdk/client-lambda'), [...imported].join(', '));
    for (const name of imported) assert.ok(pkg.dependencies[name], `the CLI imports ${name}, which is not in dependencies`);
  });

  it('the functions import only runtime dependencies (or the AWS SDK the Lambda runtime provides)', async () => {
    const functions = readFileSync(join(PROJECT_ROOT, 'serverless.yml'), 'utf8').matchAll(/handler: (functions\/[\w-]+)\.handler/g);
    for (const [, handler] of functions) {
      for (const name of await packagesImportedBy(`${handler}.ts`)) assert.ok(pkg.dependencies[name], `${handler} imports ${name}, which is not in dependencies`);
    }
  });

  it('declares nothing for runtime that only the tests, tools or types use', async () => {
    const used = new Set<string>();
    for (const entry of ['bin/eks-node-lifecycle.mjs', ...[...readFileSync(join(PROJECT_ROOT, 'serverless.yml'), 'utf8').matchAll(/handler: (functions\/[\w-]+)\.handler/g)].map((m) => `${m[1]}.ts`)]) {
      for (const name of await packagesImportedBy(entry, [/cli-sandbox/])) used.add(name);
    }
    // what a bundle reaches only through another package (@smithy/* parts the SDK uses) is declared for the versions the code relies on
    const unused = Object.keys(pkg.dependencies).filter((name) => !used.has(name) && !name.startsWith('@smithy/') && !name.startsWith('@aws-sdk/'));
    assert.deepEqual(unused, []);
  });
});
