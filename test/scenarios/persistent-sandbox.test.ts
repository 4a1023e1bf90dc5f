import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as realSleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { endpointFile, findRunningSandbox } from '../../scripts/sandbox-connection.js';
import { startPersistentSandbox, type PersistentSandbox } from '../../scripts/sandbox-server.js';
import { hasKubectl, KUBECTL } from '@eks-node-lifecycle/sandbox';

/**
 * `npm run sandbox` and `npx eks-node-lifecycle --sandbox …`: each command a separate CLI
 * process, all acting on the one world that keeps running, which kubectl sees too.
 */
const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'eks-node-lifecycle.mjs');
const START = Date.parse('2026-11-21T09:00:00Z');
const OPERATOR = 'arn:aws:iam::111122223333:role/sandbox-operator';

async function cli(dir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const out = await run(process.execPath, [BIN, '--sandbox', ...args], { cwd: dir, env: { ...process.env, EKS_NODE_LIFECYCLE_SANDBOX_DIR: dir }, timeout: 60_000 });
    return { code: 0, stdout: out.stdout, stderr: out.stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('Persistent sandbox: npm run sandbox, driven by separate CLI commands', () => {
  let sandbox: PersistentSandbox;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'persistent-sandbox-'));
    sandbox = await startPersistentSandbox({ speed: 20, dir });
  });
  after(async () => {
    await sandbox?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes its endpoint with a token only its owner can read, and refuses a wrong token', async () => {
    assert.equal(statSync(endpointFile(dir)).mode & 0o777, 0o600);
    assert.equal((await findRunningSandbox(dir)).state, 'running');
    const forged = mkdtempSync(join(tmpdir(), 'forged-endpoint-'));
    writeFileSync(endpointFile(forged), JSON.stringify({ ...sandbox.endpoint, token: 'not-the-token' }));
    assert.equal((await findRunningSandbox(forged)).state, 'stale');
    rmSync(forged, { recursive: true, force: true });
  });

  // at 20 virtual s per real s the canary batch (a launch, a join, a drain: 2–3 virtual minutes)
  // outlasts the few CLI processes that start the rollout and pause it, even on a busy machine
  it('a rollout started by one command is paused, shown, resumed and listed in history by later ones; kubectl sees the same nodes', { timeout: 90_000 }, async () => {
    const started = await cli(dir, 'rollout', 'prod/prod-workers', '--now');
    assert.equal(started.code, 0, started.stdout + started.stderr);
    assert.equal(started.stderr, '', 'no fallback line: the running sandbox answered');
    const execution = /execution (chat-prod-prod-workers-\w+)/.exec(started.stdout)?.[1];
    assert.ok(execution, started.stdout);

    const paused = await cli(dir, 'pause', 'prod/prod-workers');
    assert.equal(paused.code, 0, paused.stdout);
    assert.match(paused.stdout, new RegExp(`pause #1 .*\\n[^]*${execution}`));

    const status = await cli(dir, 'status', 'prod');
    assert.equal(status.code, 0, status.stdout);
    assert.match(status.stdout, new RegExp(`prod/prod-workers .*paused #1 by ${OPERATOR} to .*started by ${OPERATOR} \\(${execution}\\)`));

    // resume names the pause it ends: without it the command is refused, exit 1
    assert.equal((await cli(dir, 'resume', 'prod/prod-workers')).code, 1);
    const resumed = await cli(dir, 'resume', 'prod/prod-workers', '--pause', '1');
    assert.equal(resumed.code, 0, resumed.stdout);
    assert.match(resumed.stdout, new RegExp(`ended[^]*${execution}`));

    const history = await cli(dir, 'history', 'prod');
    assert.equal(history.code, 0, history.stdout);
    for (const command of ['rollout prod/prod-workers --now', 'pause prod/prod-workers', 'status prod', 'resume prod/prod-workers --pause 1']) {
      assert.match(history.stdout, new RegExp(`${OPERATOR}\\s+cli\\s+${command.replace(/[/-]/g, '\\$&')}\\s+done`), `${command} in\n${history.stdout}`);
    }

    // the rollout goes on in the running world, to its end (faster now: the pause was the race)
    sandbox.setSpeed(120);
    const execArn = [...sandbox.world.stepFunctions.executions.values()].find((e) => e.name === execution)!;
    for (let i = 0; i < 600 && execArn.status === 'RUNNING'; i++) await realSleep(100);
    assert.equal(execArn.status, 'SUCCEEDED');

    // the kubeconfig's EKS token lives 15 virtual minutes: past them, kubectl still gets in
    for (let i = 0; i < 600 && sandbox.world.clock.now() - START < 20 * 60_000; i++) await realSleep(100);
    const token = JSON.parse(readFileSync(sandbox.kubeconfig, 'utf8')).users[0].user.token as string;
    const amzDate = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString()).searchParams.get('X-Amz-Date')!;
    const age = sandbox.world.clock.now() - Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
    assert.ok(age >= 0 && age <= 6 * 60_000, `token ${age} ms old`);

    if (!(await hasKubectl())) return;
    const store = sandbox.world.cluster('prod').store;
    let same = false;
    let seen = '';
    for (let attempt = 0; attempt < 3 && !same; attempt++) {
      const before = (store.list('nodes') as { metadata: { name: string } }[]).map((n) => n.metadata.name).sort();
      const out = await run(KUBECTL, ['--kubeconfig', sandbox.kubeconfig, 'get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}']);
      const after = (store.list('nodes') as { metadata: { name: string } }[]).map((n) => n.metadata.name).sort();
      seen = out.stdout;
      const names = out.stdout.trim().split(/\s+/).sort();
      same = JSON.stringify(names) === JSON.stringify(before) || JSON.stringify(names) === JSON.stringify(after);
    }
    assert.ok(same, `kubectl saw ${seen}`);
  });

  it('rollout -w follows the managed group live, piped line by line, and ends with the outcome and exit 0; status -w beside it ends when it ends', { timeout: 120_000 }, async () => {
    sandbox.setSpeed(60);
    // each status a poll sends is one of the person's 20 commands a (virtual) minute: 2 s real is 2 virtual minutes here
    const watching = (...args: string[]) =>
      run(process.execPath, [BIN, '--sandbox', ...args], { cwd: dir, env: { ...process.env, EKS_NODE_LIFECYCLE_SANDBOX_DIR: dir, EKS_NODE_LIFECYCLE_WATCH_INTERVAL_MS: '2000' }, timeout: 110_000 }).catch(
        (error: { code: number; stdout: string; stderr: string }) => ({ ...error, failed: true }),
      );
    const rolling = watching('rollout', 'prod/system', '--now', '-w');
    // status -w from the moment the rollout runs (before it, nothing would be in view to follow)
    const runs = () => [...sandbox.world.stepFunctions.executions.values()].some((e) => e.status === 'RUNNING' && e.name.includes('prod-system'));
    for (let i = 0; i < 300 && !runs(); i++) await realSleep(100);
    assert.ok(runs(), 'the rollout of prod/system runs');
    const [out, status] = await Promise.all([rolling, watching('status', 'prod', '-w')]);
    assert.ok(!('failed' in status), `${status.stdout}\n${status.stderr}`);
    assert.match(status.stdout, /prod\/system +rolling .*nodes on /);
    assert.match(status.stdout, /no rollout running any more in view\n$/);
    const stdout = out.stdout;
    assert.ok(!('failed' in out), `${stdout}\n${out.stderr}`);
    const lines = stdout.split('\n');
    assert.ok(lines.some((l) => /^\d\d:\d\d:\d\d {2}prod\/system {2}\S+ .*nodes on /.test(l)), stdout);
    assert.match(stdout, /prod\/system: rollout finished — (\d+) of \1 nodes on ami-/);
    assert.ok(!stdout.includes('\x1b['), 'piped: no redraw codes');
  });
});

describe('Sandbox CLI without a running sandbox', () => {
  it('says so in one line on stderr and runs the command in a one-shot world: no endpoint file, or a stale one', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'no-sandbox-'));
    try {
      const none = await cli(dir, 'status', 'prod');
      assert.equal(none.code, 0, none.stdout + none.stderr);
      assert.equal(none.stderr.trim().split('\n').length, 1, none.stderr);
      assert.match(none.stderr, /no running sandbox \(start one with `npm run sandbox`\): running this command in a one-shot sandbox world/);
      assert.match(none.stdout, /prod: 2 node groups/);

      // a sandbox that was killed: its file is left, its port answers no more
      writeFileSync(endpointFile(dir), JSON.stringify({ url: 'http://127.0.0.1:9', token: 'x', pid: 2 ** 22 + 1, started: new Date().toISOString(), speed: 30 }), { mode: 0o600 });
      const stale = await cli(dir, 'status', 'prod');
      assert.equal(stale.code, 0, stale.stdout + stale.stderr);
      assert.match(stale.stderr, /^stale .*endpoint\.json \(its process \d+ is gone\): running this command in a one-shot sandbox world\n$/);
      assert.match(stale.stdout, /prod: 2 node groups/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
