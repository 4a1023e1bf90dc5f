import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../sim/serverless-config.js';

/**
 * `npm test` names its test directories (the contract suite runs through `npm run
 * test:contract`, which `npm test` ends with): a directory of tests it does not name would
 * never run. Every directory holding a `*.test.ts` is one of them.
 */
describe('npm test runs every test file', () => {
  it('names every directory holding tests, and ends with the contract suite', () => {
    const scripts = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const named = /'test\/\{([^}]+)\}\/\*\*\/\*\.test\.ts'/.exec(scripts.test!)?.[1]?.split(',') ?? [];
    assert.ok(named.length > 0, scripts.test);
    assert.match(scripts.test!, /&& npm run test:contract$/);
    assert.match(scripts['test:contract']!, /'test\/contract\/\*\.test\.ts'/);
    const holding = readdirSync(join(PROJECT_ROOT, 'test'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => f.split(/[\\/]/)[0]!);
    assert.deepEqual([...new Set(holding)].filter((d) => d !== 'contract' && !named.includes(d)).sort(), []);
  });
});
