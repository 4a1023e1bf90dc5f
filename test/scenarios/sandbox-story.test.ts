import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';

/** `npm start` reads like a story for an operator: header, one line per step, a summary of every flow. */
const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const simulate = async (...args: string[]) => (await run(process.execPath, ['--import', 'tsx', 'scripts/simulate.ts', ...args], { cwd: ROOT, timeout: 60_000, maxBuffer: 1 << 24 })).stdout;

/** The output's sections, by their title lines. */
function sections(out: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  let current = 'header';
  for (const line of out.split('\n')) {
    if (/^(what happened|summary|nodes now|writes by the service)/.test(line)) current = line.split(' (')[0]!.replace(/:.*/, '');
    found.set(current, [...(found.get(current) ?? []), line]);
  }
  return found;
}

describe('npm start: the default scenario as a story', () => {
  let out: string;
  before(async () => {
    out = await simulate();
  });

  it('opens with the cluster and each group with the tags that opt it in', () => {
    const header = sections(out).get('header')!.join('\n');
    assert.match(header, /^cluster prod \(Kubernetes 1\.31, /m);
    assert.match(header, /^ {2}prod\/system +managed node group .* opted in by eks-node-lifecycle\/rollout=auto$/m);
    assert.match(header, /^ {2}prod\/prod-workers +self-managed .* opted in by eks-node-lifecycle\/rollout=auto; also canary=1, max-unavailable=1/m);
  });

  it('tells each step once: a repeated line is folded with its count, and the sandbox\'s noise is gone', () => {
    const story = sections(out).get('what happened')!.slice(1).filter(Boolean);
    const messages = story.map((line) => line.replace(/^\+\d\d:\d\d:\d\d {2}/, '').replace(/ {2}\(×\d+, last at \+[\d:]+\)$/, ''));
    const repeated = messages.filter((m, i) => messages.indexOf(m) !== i);
    assert.deepEqual(repeated, [], 'no line told twice');
    assert.ok(story.some((line) => /\(×\d+, last at /.test(line)), 'repeats are folded with a count');
    assert.ok(!/chatNotify: no channel|already-tagged/.test(story.join('\n')), story.join('\n'));
    assert.ok(!story.some((line) => /event {5}\S.* $/.test(line)), 'no event line with empty details');
    // the rollout's own drains, with the PodDisruptionBudget that held them
    assert.match(story.join('\n'), /rollout prod\/prod-workers: batch 1 of 2 \(canary\): draining 1 node \(i-\w+\); waiting on shop\/web-\S+ \(PodDisruptionBudget shop\/web\)/);
  });

  it('closes with every flow: the scale-out, the drain, each rollout from → to with the nodes replaced and its duration', () => {
    const summary = sections(out).get('summary')!.join('\n');
    assert.match(summary, /scale-out +prod-workers 1 → 3: i-\w+, i-\w+ launched/);
    assert.match(summary, /drain +i-\w+ \(ip-[\w.-]+, terminate-hook\): drained in \d+ s, held \d+ pass\(es\) by PodDisruptionBudget shop\/web/);
    assert.match(summary, /rollout +prod\/system \(managed\): 1\.31\.13-20261105 → 1\.31\.13-20261215 \(ami-\w+\), succeeded, 2 node\(s\) replaced .*, in \d+ min \d+ s/);
    assert.match(summary, /rollout +prod\/prod-workers \(self-managed\): ami-\w+ → 1\.31\.13-20261215 \(ami-\w+\), succeeded, 2 node\(s\) replaced \(2 drained by the rollout, \d+ drain pass\(es\) waiting on a PodDisruptionBudget\), in \d+ min \d+ s/);
    assert.match(summary, /chat +7 notification\(s\) from the service, 7 not posted: no chat channel/);
  });

  it('with --timeline, prints the full timeline, each notification after the event it tells of, that event named', async () => {
    const lines = (await simulate('--timeline')).split('\n');
    const notify = lines.map((line, i) => [line, i] as const).filter(([line]) => / notify {4}/.test(line));
    assert.ok(notify.length > 0);
    for (const [line, i] of notify) {
      const type = /notify {4}([^:]+):/.exec(line)![1]!;
      assert.match(lines[i - 1]!, new RegExp(`event {5}${type} prod/\\S+ \\(`), `before ${line}`);
    }
  });

  it('in observe mode, still counts the writes (none) and the reports', async () => {
    const observed = await simulate('--observe');
    assert.match(observed, /^writes by the service: 0 to EC2, Auto Scaling and EKS; 0 to Kubernetes$/m);
    assert.match(observed, /^observe reports: \d+ \(/m);
    assert.doesNotMatch(sections(observed).get('summary')!.join('\n'), /rollout +prod/);
  });
});
