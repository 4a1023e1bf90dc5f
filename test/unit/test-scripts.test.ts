import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const scripts = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const testFiles = readdirSync(join(PROJECT_ROOT, 'test'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.test.ts') && !f.split(/[\\/]/).includes('node_modules'))
  .map((f) => f.split(/[\\/]/).join('/'));

/**
 * `npm test` names its test directories (the contract suite runs through `npm run
 * test:contract`, which `npm test` ends with): a directory of tests it does not name would
 * never run. Every directory holding a `*.test.ts` is one of them — the sandbox package's own
 * tests (test/sim/test/) included.
 */
describe('npm test runs every test file', () => {
  it('names every directory holding tests, and ends with the contract suite', () => {
    const named = /'test\/\{([^}]+)\}\/\*\*\/\*\.test\.ts'/.exec(scripts.test!)?.[1]?.split(',') ?? [];
    assert.ok(named.length > 0, scripts.test);
    assert.match(scripts.test!, /&& npm run test:contract$/);
    assert.match(scripts['test:contract']!, /'test\/contract\/\*\.test\.ts'/);
    const holding = testFiles.map((f) => f.split('/')[0]!);
    assert.deepEqual([...new Set(holding)].filter((d) => d !== 'contract' && !named.includes(d)).sort(), []);
  });

  it('test:fast is the unit and handler tests but those named slow, which npm test still runs', () => {
    assert.match(scripts['test:fast']!, /'test\/\{unit,handlers\}\/\*\*\/!\(\*\.slow\)\.test\.ts'/);
    // a fuzz suite at 10,000 runs a property (`numRuns: RUNS`: fuzz-inputs.ts's, or its own) says so in its name
    const fuzzing = testFiles.filter((f) => /^(unit|handlers)\//.test(f) && f !== 'unit/test-scripts.test.ts' && /numRuns: RUNS\b/.test(readFileSync(join(PROJECT_ROOT, 'test', f), 'utf8')));
    assert.ok(fuzzing.length > 0);
    assert.deepEqual(fuzzing.filter((f) => !f.endsWith('.slow.test.ts')), []);
    // so does every test that packages the service
    assert.deepEqual(testFiles.filter((f) => f.startsWith('package/') && !f.endsWith('.slow.test.ts')), []);
  });
});
