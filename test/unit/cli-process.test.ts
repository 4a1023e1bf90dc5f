import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '@eks-node-lifecycle/sandbox';

/**
 * `npx eks-node-lifecycle` as a person runs it: a child process (`node bin/eks-node-lifecycle.mjs`)
 * with a clean environment — no AWS variables, a HOME without ~/.aws, the instance metadata
 * service switched off (as it is on a laptop, quickly) — and asserted by its exit code and output:
 * help and the version need nothing; no credentials, or no service at the other end, say what
 * to do in one line and exit 3.
 */
const home = mkdtempSync(join(tmpdir(), 'eks-node-lifecycle-cli-'));
const CLEAN_ENV = { PATH: process.env['PATH'] ?? '', HOME: home, AWS_EC2_METADATA_DISABLED: 'true', NO_COLOR: '1' };

function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(PROJECT_ROOT, 'bin/eks-node-lifecycle.mjs'), ...argv], { cwd: home, env: { ...CLEAN_ENV, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A local port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('CLI process: with no credentials and no network', () => {
  for (const argv of [[], ['help'], ['--help'], ['-h'], ['help', 'rollout'], ['status', '--help'], ['--sandbox', 'help', 'approvals']]) {
    it(`\`eks-node-lifecycle ${argv.join(' ')}\` prints help and exits 0`, async () => {
      const { code, stdout, stderr } = await run(argv);
      assert.equal(code, 0, stderr);
      assert.equal(stderr, '');
      assert.match(stdout, argv.includes('rollout') ? /^rollout: Move a node group/ : argv.includes('status') ? /^status: / : argv.includes('approvals') ? /^approvals: / : /^eks-node-lifecycle commands/);
      assert.doesNotMatch(stdout, /Credentials|ENOTFOUND/);
    });
  }

  it('`--version` prints package.json\'s version and exits 0', async () => {
    const { code, stdout } = await run(['--version']);
    assert.equal(code, 0);
    assert.equal(stdout.trim(), JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')).version);
  });

  it('an unknown flag is a usage error: exit 2, the usage, nothing sent', async () => {
    const { code, stdout, stderr } = await run(['status', 'prod', '--bogus']);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /status takes no flags, so "--bogus" is not understood/);
    assert.match(stderr, /status \[cluster\[\/group\]\]/);
  });

  it('a bad option value is a usage error: exit 2', async () => {
    const { code, stderr } = await run(['-o', 'yaml', 'status']);
    assert.equal(code, 2);
    assert.match(stderr, /-o "yaml" is not an output format/);
  });

  it('without credentials, says in one line to set a profile, a region or use --sandbox, and exits 3', async () => {
    const { code, stdout, stderr } = await run(['status', 'prod']);
    assert.equal(code, 3, stderr);
    assert.equal(stdout, '');
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0]!, /^eks-node-lifecycle: no AWS credentials found: set AWS_PROFILE .* --region or AWS_REGION .* --sandbox\.$/);
  });

  it('with credentials but no service at the URL, says in one line what to check and exits 3', async () => {
    const port = await closedPort();
    const { code, stdout, stderr } = await run(['status', 'prod', '-o', 'json'], { AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', EKS_NODE_LIFECYCLE_URL: `http://127.0.0.1:${port}/` });
    assert.equal(code, 3, stderr);
    assert.equal(stdout, '');
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0]!, /^eks-node-lifecycle: cannot reach the service \(ECONNREFUSED\): check .*--stage dev and --region eu-west-1 \(or EKS_NODE_LIFECYCLE_URL\).*--sandbox\.$/);
  });
});
