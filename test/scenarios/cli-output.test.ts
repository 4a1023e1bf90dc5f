import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliInSandbox, sandboxOperator, startCliSandbox } from '../../scripts/cli-sandbox.js';
import { type CommandAnswer, exitCodeOf, renderAnswer } from '../../scripts/cli-send.js';
import { PROJECT_ROOT, putAccessPolicy, SANDBOX_SLACK, type World } from '@eks-node-lifecycle/sandbox';

/**
 * The CLI's read commands in the sandbox, for scripts and for people: every one of them
 * (`status`, `plan`, `history`, `doctor`, `approvals`) answers `-o json` with its documented
 * document (a `kind`, `apiVersion: eks-node-lifecycle/v1`, the items), and prints for a
 * terminal without Slack's emoji codes; `approvals` lists the rollout that waits for a second
 * person, with the id to answer it by. The world enforces the packaged IAM roles on every call
 * the functions make (its stop fails on any denial).
 */
describe('Scenario: the CLI reads, as JSON and for a terminal', () => {
  let world: World;
  let stop: () => Promise<void>;
  let cli: ReturnType<typeof cliInSandbox>;
  let rollout: CommandAnswer;
  const json: Record<string, { answer: CommandAnswer; document: any }> = {};

  before(async () => {
    const sandbox = await startCliSandbox();
    ({ world, stop } = sandbox);
    const operator = sandboxOperator(world.model.accountId);
    // prod's rollouts wait for a second person: another operator
    putAccessPolicy(world, {
      groups: { operators: [operator.id, `iam:arn:aws:iam::${world.model.accountId}:role/other-operator`] },
      clusters: { prod: { read: ['group:operators'], act: ['group:operators'], approve: ['group:operators'], notify: SANDBOX_SLACK.channel, requireApproval: true } },
    });
    cli = cliInSandbox(world);
    rollout = await cli('rollout prod/prod-workers --now');
    // until the rollout waits at its approval gate (its reply may come before Begin decides, on a busy machine)
    await world.settle();
    for (const command of ['status prod', 'plan prod', 'history prod', 'doctor prod', 'approvals prod', 'approvals']) {
      const answer = await cli(command, { output: 'json' });
      json[command] = { answer, document: JSON.parse(renderAnswer(answer, 'json')) };
    }
  });
  after(() => stop());

  it('starts a rollout that waits for approval', () => {
    assert.equal(rollout.ok, true, rollout.text);
    assert.match(rollout.text, /waiting for approval|accepted, not yet started/);
  });

  it('answers every read command with -o json as its documented document', () => {
    const kinds = Object.fromEntries(Object.entries(json).map(([command, { document }]) => [command, [document.apiVersion, document.kind, document.scope]]));
    assert.deepEqual(kinds, {
      'status prod': ['eks-node-lifecycle/v1', 'StatusList', 'prod'],
      'plan prod': ['eks-node-lifecycle/v1', 'PlanList', 'prod'],
      'history prod': ['eks-node-lifecycle/v1', 'History', 'prod'],
      'doctor prod': ['eks-node-lifecycle/v1', 'Diagnosis', 'prod'],
      'approvals prod': ['eks-node-lifecycle/v1', 'ApprovalList', 'prod'],
      approvals: ['eks-node-lifecycle/v1', 'ApprovalList', 'all clusters'],
    });
  });

  it('status: one item per group, with its rollout waiting for the approval', () => {
    const { items } = json['status prod']!.document;
    assert.deepEqual(items.map((i: any) => [i.cluster, i.group, i.kind]).sort(), [['prod', 'prod-workers', 'self-managed'], ['prod', 'system', 'managed']]);
    const workers = items.find((i: any) => i.group === 'prod-workers');
    assert.match(workers.rollout.approvalId, /^apr-[a-z0-9]{12}$/);
    assert.match(workers.rollout.execution, /^chat-prod-prod-workers-/);
    // the view status shows (phase, target, what the instances run) with the lock's record beside it
    assert.equal(workers.rollout.phase, 'waiting for approval');
    assert.match(workers.rollout.lock.owner, /:execution:.*chat-prod-prod-workers-/);
    assert.ok(workers.images.length >= 1 && workers.images.every((i: any) => /^ami-/.test(i.imageId) && i.count > 0));
    assert.equal(typeof workers.optIn, 'string');
    assert.equal(typeof workers.nodeGroup.size.desired, 'number');
    assert.equal(items.find((i: any) => i.group === 'system').rollout, null);
  });

  it('plan, history and doctor: their items as data', () => {
    assert.ok(json['plan prod']!.document.items.every((i: any) => i.cluster === 'prod' && typeof i.action === 'string'));
    const history = json['history prod']!.document.items;
    assert.ok(history.some((e: any) => e.command === 'rollout prod/prod-workers --now' && e.principal.via === 'cli'), JSON.stringify(history).slice(0, 500));
    const doctor = json['doctor prod']!.document;
    assert.equal(typeof doctor.blocking, 'boolean');
    assert.equal(doctor.clusters[0].cluster, 'prod');
    assert.equal(exitCodeOf(json['doctor prod']!.answer), doctor.blocking ? 1 : 0);
  });

  it('approvals: the waiting rollout — group, target, who asked, when, until when, its id', () => {
    const lock = json['status prod']!.document.items.find((i: any) => i.group === 'prod-workers').rollout;
    for (const command of ['approvals prod', 'approvals']) {
      const [item, ...more] = json[command]!.document.items;
      assert.equal(more.length, 0, command);
      assert.equal(item.id, lock.approvalId);
      assert.deepEqual([item.cluster, item.group], ['prod', 'prod-workers']);
      assert.match(item.target, /1\.31\.13-20261215|ami-/);
      assert.equal(item.requestedBy, sandboxOperator(world.model.accountId).id);
      assert.ok(Date.parse(item.expiresAt) - Date.parse(item.requestedAt) === 24 * 3600_000, `${item.requestedAt} → ${item.expiresAt}`);
    }
  });

  it('prints approvals for a terminal: aligned columns, relative and absolute times, no emoji codes', async () => {
    const answer = await cli('approvals prod');
    const text = renderAnswer(answer, 'text');
    assert.match(text, /^prod: 1 approval waiting\n\nGROUP\s+TARGET\s+REQUESTED BY\s+REQUESTED AT\s+EXPIRES AT\s+APPROVAL\n/);
    assert.match(text, /prod\/prod-workers .* ago \(\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\)\s+in 2[34]h \(\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\)\s+apr-[a-z0-9]{12}\n/);
    assert.doesNotMatch(text, /(^|\s):[a-z_]+:(\s|$)/m);
    assert.match(renderAnswer(answer, 'wide'), /APPROVAL\s+PLAN\s+EXECUTION/);
  });

  it('lists nothing once the approval is answered', async () => {
    // the requester may not answer: a second identity denies it
    const other = { accessKeyId: 'ASIAOTHEROPERATOR', secretAccessKey: 'sandbox-secret-of-other', arn: `arn:aws:sts::${world.model.accountId}:assumed-role/other-operator/cli` };
    const otherCli = cliInSandbox(world, other);
    const denied = await otherCli('deny prod/prod-workers --reason not today');
    assert.equal(denied.ok, true, denied.text);
    await world.settle();
    const after = JSON.parse(renderAnswer(await cli('approvals prod', { output: 'json' }), 'json'));
    assert.deepEqual(after.items, []);
  });
});

describe('Scenario: `eks-node-lifecycle --sandbox status -o json` as a process', () => {
  it('prints one JSON document, the StatusList, and exits 0', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [join(PROJECT_ROOT, 'bin/eks-node-lifecycle.mjs'), 'status', 'prod', '--sandbox', '-o', 'json'], { cwd: PROJECT_ROOT, env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' }, timeout: 120_000 }, (error, out, err) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout: out, stderr: err }),
      ),
    );
    assert.equal(code, 0, stderr);
    const document = JSON.parse(stdout);
    assert.deepEqual([document.apiVersion, document.kind, document.scope], ['eks-node-lifecycle/v1', 'StatusList', 'prod']);
    assert.deepEqual(document.items.map((i: { group: string }) => i.group).sort(), ['prod-workers', 'system']);
  });
});
