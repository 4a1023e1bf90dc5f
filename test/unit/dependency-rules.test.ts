import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The import rules (.dependency-cruiser.cjs) catch what they forbid: a scratch tree laid out
 * like the project plants one violation of each rule beside code each rule allows, and
 * dependency-cruiser — run as `npm test` runs it, with the project's configuration — must
 * name exactly the planted ones.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DEPCRUISE = join(ROOT, 'node_modules', '.bin', 'depcruise');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

const planted: Record<string, string> = {
  // allowed: a handler through functions/lib and shared/, an adapter building an SDK client
  'functions/ok.ts': "import { ports } from './lib/ports.js';\nimport { run } from '../shared/domain/run.js';\nexport const handler = () => run(ports);\n",
  'functions/lib/ports.ts': "import { EC2Client } from '@aws-sdk/client-ec2';\nexport const ports = { ec2: EC2Client };\n",
  'shared/domain/run.ts': "import { describe } from '../aws/instances.js';\nexport const run = (p: unknown) => describe(p);\n",
  'shared/aws/instances.ts': "import { EC2Client } from '@aws-sdk/client-ec2';\nexport const describe = (p: unknown) => [EC2Client, p];\n",
  // violations, one per rule
  'shared/domain/uses-sandbox.ts': "import { world } from '../../test/sim/world.js';\nexport const w = world;\n",
  'test/sim/world.ts': 'export const world = 1;\n',
  'shared/domain/calls-sdk.ts': "import { SFNClient } from '@aws-sdk/client-sfn';\nexport const c = SFNClient;\n",
  'shared/domain/cycle-a.ts': "import { b } from './cycle-b.js';\nexport const a = () => b;\n",
  'shared/domain/cycle-b.ts': "import { a } from './cycle-a.js';\nexport const b = () => a;\n",
  'shared/domain/calls-handler.ts': "import { handler } from '../../functions/ok.js';\nexport const h = handler;\n",
  'functions/calls-handler.ts': "import { handler } from './ok.js';\nexport const again = handler;\n",
};

describe('dependency rules (.dependency-cruiser.cjs)', () => {
  let scratch: string;
  let violations: Violation[];

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'dependency-rules-'));
    for (const [path, text] of Object.entries(planted)) {
      mkdirSync(dirname(join(scratch, path)), { recursive: true });
      writeFileSync(join(scratch, path), text);
    }
    cpSync(join(ROOT, 'tsconfig.json'), join(scratch, 'tsconfig.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(scratch, 'node_modules'));
    let out: string;
    try {
      out = execFileSync(DEPCRUISE, ['--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'json', 'functions', 'shared', 'test'], { cwd: scratch, encoding: 'utf8' });
    } catch (error) {
      // depcruise exits non-zero when it finds violations: the report is still on stdout
      out = (error as { stdout: string }).stdout;
    }
    violations = (JSON.parse(out) as { summary: { violations: Violation[] } }).summary.violations;
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  const found = (rule: string) => violations.filter((v) => v.rule.name === rule).map((v) => `${v.from} → ${v.to.replace(/.*node_modules\//, 'node_modules/')}`);

  it('refuses product code importing the tests or the sandbox', () => {
    assert.deepEqual(found('product-not-to-test'), ['shared/domain/uses-sandbox.ts → test/sim/world.ts']);
  });

  it('refuses SDK clients outside shared/aws/ and functions/lib/', () => {
    assert.deepEqual(found('sdk-clients-in-the-aws-boundary').map((v) => v.replace(/client-sfn\/.*/, 'client-sfn')), ['shared/domain/calls-sdk.ts → node_modules/@aws-sdk/client-sfn']);
  });

  it('refuses circular imports', () => {
    // a cycle is reported once, from the module the cruise reached first
    assert.deepEqual(found('no-circular'), ['shared/domain/cycle-a.ts → shared/domain/cycle-b.ts']);
  });

  it('refuses shared/ importing a handler, and a handler importing another', () => {
    assert.deepEqual(found('shared-not-to-functions'), ['shared/domain/calls-handler.ts → functions/ok.ts']);
    assert.deepEqual(found('functions-through-shared'), ['functions/calls-handler.ts → functions/ok.ts']);
  });

  it('names nothing else: the allowed imports pass', () => {
    assert.equal(violations.length, 5, violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).join('\n'));
  });
});
