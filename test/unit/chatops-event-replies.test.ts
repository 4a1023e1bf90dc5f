import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { clusterOf, replyForEvent, threadKeyOf } from '../../shared/chatops/event-replies.js';
import { mention } from '../../shared/chatops/rollout-replies.js';
import { mentionsAsText } from '../../shared/chatops/mentions.js';
import { escapeMrkdwn, SLACK_LIMITS, toSlackMessage, toText } from '../../shared/chatops/render.js';
import type { Reply } from '../../shared/chatops/types.js';
import { DRAIN_BLOCKED, DRAIN_FINISHED } from '../../shared/events/drain-events.js';
import { ROLLOUT_EVENTS } from '../../shared/events/rollout-events.js';

/** the target as every rollout message shows it: release, id, name and owner (who an approver trusts) */
const FULL = '1.31.3-20250103 (ami-0123456789abcdef0, amazon-eks-node-al2023-x86_64-standard-1.31-v20250103, owner amazon 602401143452)';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:ami-rollout:prod-workers-20250115T1200';
const DRAIN_EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:node-drain:i-0a1b2c3d4e5f60718-1736942400';

/** what rolloutNotifier puts in every rollout detail */
const base = {
  cluster: 'prod',
  group: 'workers',
  groupKind: 'self-managed',
  target: { imageId: 'ami-0123456789abcdef0', imageName: 'amazon-eks-node-al2023-x86_64-standard-1.31-v20250103', release: '1.31.3-20250103', ownerId: '602401143452', ownerAlias: 'amazon' },
  executionArn: EXECUTION,
  at: '2025-01-15T12:34:56.000Z',
};

function rollout(event: keyof typeof ROLLOUT_EVENTS, detail: Record<string, unknown>): Reply {
  const reply = replyForEvent(ROLLOUT_EVENTS[event], { ...base, phase: event, summary: `prod/workers: ${event}`, ...detail });
  assert.ok(reply, `a reply for ${event}`);
  return reply;
}

function drain(detail: Record<string, unknown>): Reply {
  const reply = replyForEvent(DRAIN_FINISHED, {
    outcome: 'drained',
    cluster: 'prod',
    instanceId: 'i-0a1b2c3d4e5f60718',
    nodeName: 'ip-10-0-1-23.eu-west-1.compute.internal',
    trigger: 'terminate-hook',
    durationSeconds: 125,
    remaining: 0,
    blockers: [],
    lifecycleAction: 'continued',
    executionArn: DRAIN_EXECUTION,
    ...detail,
  });
  assert.ok(reply);
  return reply;
}

const sectionsOf = <K extends Reply['sections'][number]['kind']>(reply: Reply, kind: K) => reply.sections.filter((s): s is Extract<Reply['sections'][number], { kind: K }> => s.kind === kind);
/** The fields as text reads them: the service's mentions as `<@U…>` */
const fieldsOf = (reply: Reply) => Object.fromEntries(sectionsOf(reply, 'fields').flatMap((s) => s.fields.map(([label, value]) => [label, mentionsAsText(value)])));

describe('Chat-ops event replies: rollouts', () => {
  it('Rollout Planned: the group, the image, the batches and the execution', () => {
    const reply = rollout('planned', { batches: [{ canary: true, nodes: 1 }, { canary: false, nodes: 2 }, { canary: false, nodes: 2 }], maxUnavailable: 2, strategy: 'surge', nodes: 5 });
    assert.match(reply.title, /prod\/workers/);
    assert.match(reply.title, /1\.31\.3-20250103/);
    assert.deepEqual(fieldsOf(reply), {
      'Node group': 'workers (self-managed)',
      Image: FULL,
      Strategy: 'surge',
      Nodes: '5',
      'At a time': '2',
      Batches: '3 (the first a canary of 1)',
    });
    assert.equal(reply.context, 'Execution prod-workers-20250115T1200 · 2025-01-15 12:34 UTC');
  });

  it('Rollout Planned for an EKS managed group: the summary says how', () => {
    const reply = rollout('planned', { groupKind: 'managed', strategy: 'eks-managed-update', summary: 'prod/workers: EKS managed node group update onto 1.31.3-20250103' });
    assert.equal(fieldsOf(reply)['Node group'], 'workers (EKS managed)');
    assert.match(toText(reply), /^EKS managed node group update onto 1\.31\.3-20250103$/m);
  });

  describe('Rollout Approval Requested', () => {
    const detail = {
      approvalId: 'apr-7k2m9q4x',
      expiresAt: '2025-01-16T12:34:56.000Z',
      requestedBy: 'slack:T0123:U0456ABC',
      plan: { summary: 'prod/workers: 6 nodes, 2 at a time, canary 1 (surge)' },
      from: { imageId: 'ami-0fedcba9876543210', release: '1.31.2-20241201' },
    };

    it('has Approve and Deny buttons that carry the approval id and nothing else', () => {
      const reply = rollout('approval-requested', detail);
      assert.deepEqual(reply.actions, [
        { label: 'Approve', actionId: 'approve', value: 'apr-7k2m9q4x', style: 'primary', command: 'approve apr-7k2m9q4x' },
        { label: 'Deny', actionId: 'deny', value: 'apr-7k2m9q4x', style: 'danger', command: 'deny apr-7k2m9q4x' },
      ]);
      const buttons = toSlackMessage(reply).blocks.find((b) => b['type'] === 'actions')!['elements'] as { value: string; action_id: string }[];
      assert.deepEqual(buttons.map((b) => [b.action_id, b.value]), [['approve', 'apr-7k2m9q4x'], ['deny', 'apr-7k2m9q4x']]);
    });

    it('says what changes, who asked (who may not approve it) and until when', () => {
      const reply = rollout('approval-requested', detail);
      const text = toText(reply);
      assert.match(reply.title, /Approval needed: roll prod\/workers onto 1\.31\.3-20250103/);
      assert.deepEqual(fieldsOf(reply), { From: '1.31.2-20241201', To: FULL, 'Requested by': '<@U0456ABC>', 'Approve by': '2025-01-16 12:34 UTC' });
      assert.match(text, /6 nodes, 2 at a time, canary 1 \(surge\)/);
      assert.match(text, /<@U0456ABC> requested this rollout and cannot approve it/);
      assert.match(text, /Unanswered by then, the rollout ends and nothing is changed/);
      assert.match(text, /To approve: approve apr-7k2m9q4x/);
    });

    it('puts no task token anywhere, even when the detail carries one', () => {
      const token = 'AQCEAAAAKgAAAAMAAAAAAAAAAeyJ0YXNrVG9rZW4iOiJzZWNyZXQifQ==';
      const reply = rollout('approval-requested', { ...detail, taskToken: token, plan: { summary: 'plan', taskToken: token } });
      const rendered = JSON.stringify(toSlackMessage(reply));
      assert.ok(!rendered.includes(token));
      assert.ok(!toText(reply).includes(token));
    });

    it('has no buttons without an approval id (or with one that is not an approval id), and says how to answer', () => {
      for (const approvalId of [undefined, 'AQCEAAAAKgAAAAMAAAAAAAAAAeyJ0YXNr', 'apr-has spaces']) {
        const reply = rollout('approval-requested', { ...detail, approvalId });
        assert.equal(reply.actions, undefined);
        assert.match(toText(reply), /Approve with `approve prod\/workers`, or deny with `deny prod\/workers`/);
      }
    });

    it('asked by detection: no one is excluded, and without an expiry the 24 hours are said', () => {
      const { expiresAt: _, ...rest } = detail;
      const reply = rollout('approval-requested', { ...rest, requestedBy: 'detection' });
      const text = toText(reply);
      assert.equal(fieldsOf(reply)['Requested by'], 'automatic detection');
      assert.doesNotMatch(text, /cannot approve/);
      assert.match(text, /Unanswered within 24 hours, the rollout ends and nothing is changed/);
    });
  });

  it('Rollout Approved: by whom', () => {
    const reply = rollout('approved', { approvalId: 'apr-7k2m9q4x', approvedBy: 'slack:T0123:U0999' });
    assert.equal(fieldsOf(reply)['Approved by'], '<@U0999>');
    assert.match(reply.title, /approved: prod\/workers/);
  });

  it('Rollout Canary Passed: progress and nodes replaced', () => {
    const reply = rollout('canary-passed', { batch: 1, of: 4, replaced: 1 });
    assert.deepEqual(sectionsOf(reply, 'progress'), [{ kind: 'progress', label: 'batches', done: 1, total: 4 }]);
    assert.equal(fieldsOf(reply)['Nodes replaced'], '1');
    assert.match(toText(reply), /▰▰▱▱▱▱▱▱▱▱ 1\/4 batches/);
  });

  it('Rollout Batch Finished: batch of batches as a bar, nodes replaced', () => {
    const reply = rollout('batch-finished', { batch: 3, of: 10, replaced: 5 });
    assert.match(reply.title, /prod\/workers: batch 3 of 10 done/);
    assert.deepEqual(sectionsOf(reply, 'progress'), [{ kind: 'progress', label: 'batches', done: 3, total: 10 }]);
    assert.equal(fieldsOf(reply)['Nodes replaced'], '5');
    assert.match(toText(reply), /▰▰▰▱▱▱▱▱▱▱ 3\/10 batches/);
  });

  it('Rollout Paused and Resumed: where, and how to go on', () => {
    const paused = toText(rollout('paused', { afterBatch: 2 }));
    assert.match(paused, /Paused after batch 2/);
    assert.match(paused, /`resume prod\/workers`/);
    assert.match(paused, /`abort prod\/workers`/);
    assert.match(toText(rollout('resumed', { batch: 3 })), /Going on with batch 3/);
  });

  it('Rollout Paused by someone else\'s change: what changed, that nothing was written back, how to go on', () => {
    const reply = rollout('paused', { reason: 'interference', changes: ['desired capacity moved from 5 to 7'] });
    assert.match(reply.title, /Rollout paused: prod\/workers was changed outside the rollout/);
    const text = toText(reply);
    assert.match(text, /desired capacity moved from 5 to 7/);
    assert.match(text, /Nothing was written back/);
    assert.match(text, /`resume prod\/workers` \(the change is kept/);
    assert.equal(reply.ok, false);
    assert.match(toText(rollout('resumed', { batch: 2, adopted: ['desired capacity moved from 5 to 7'] })), /Changed by others during the rollout, and kept[\s\S]*desired capacity moved from 5 to 7/);
  });

  it('Rollout Paused for its maintenance window: the batch finished, when it goes on', () => {
    const text = toText(rollout('paused', { reason: 'window', opensAt: '2026-11-28T09:00:00.000Z' }));
    assert.match(text, /no new batch starts while the window is closed/);
    assert.match(text, /2026-11-28T09:00:00.000Z/);
  });

  it('forced pods, wherever a rollout reports them: each with its budget', () => {
    const forced = ['shop/web-1 (PodDisruptionBudget shop/web)'];
    for (const event of ['canary-passed', 'batch-finished', 'finished', 'rolled-back', 'aborted', 'rollback-failed'] as const) {
      assert.match(toText(rollout(event, { forced })), /Deleted past their PodDisruptionBudget[\s\S]*shop\/web-1 \(PodDisruptionBudget shop\/web\)/, event);
    }
  });

  it('Rollout Rolling Back and Rolled Back: prominent, with the reason', () => {
    const reason = 'health gate after batch 2 of 4: 1 node NotReady after 10 min';
    const rolling = rollout('rolling-back', { reason });
    assert.match(rolling.title, /^:rewind: Rolling back prod\/workers/);
    assert.match(toText(rolling), new RegExp(`Why: ${reason}`));
    const back = rollout('rolled-back', { reason, replaced: 2, remainingOld: 6 });
    assert.match(back.title, /^:rewind: Rolled back: prod\/workers/);
    assert.match(toText(back), new RegExp(`Why: ${reason}`));
    assert.equal(back.ok, false);
  });

  it('Rollout Rollback Failed: a siren and the reason', () => {
    const reply = rollout('rollback-failed', { reason: 'rollback attempt 3 failed: AccessDenied' });
    assert.match(reply.title, /^:rotating_light: ROLLBACK FAILED: prod\/workers needs a person/);
    assert.match(toText(reply), /Why: rollback attempt 3 failed: AccessDenied/);
    assert.equal(reply.ok, false);
  });

  it('Rollout Rollback Failed: what was left, each with the command that finishes it', () => {
    const text = toText(rollout('rollback-failed', { reason: 'rollback could not drain the new nodes', left: ['desired capacity left at 5 (4 before the rollout): aws autoscaling update-auto-scaling-group --auto-scaling-group-name workers --desired-capacity 4'] }));
    assert.match(text, /Left for a person, with the command that finishes each/);
    assert.match(text, /aws autoscaling update-auto-scaling-group --auto-scaling-group-name workers --desired-capacity 4/);
  });

  it('Rollout Aborted by the window closing: why, instead of "by request"', () => {
    const text = toText(rollout('aborted', { reason: 'stopped: the maintenance window "sat 09:00-09:06 UTC" is closed', replaced: 2, remainingOld: 4 }));
    assert.match(text, /Why: stopped: the maintenance window/);
    assert.doesNotMatch(text, /by request/);
  });

  it('Rollout Aborted: replaced and left on the old image', () => {
    const reply = rollout('aborted', { replaced: 4, remainingOld: 8 });
    assert.equal(fieldsOf(reply)['Nodes replaced'], '4');
    assert.equal(fieldsOf(reply)['Left on the old image'], '8');
  });

  it('Rollout Finished: image, nodes replaced, and how long it took when the start is known', () => {
    const reply = rollout('finished', { replaced: 12, remainingOld: 0, startedAt: '2025-01-15T11:30:56.000Z' });
    assert.match(reply.title, /Rollout finished: prod\/workers runs 1\.31\.3-20250103/);
    assert.deepEqual(fieldsOf(reply), { Image: FULL, 'Nodes replaced': '12', Took: '1 h 4 min' });
    const managed = rollout('finished', { updateId: 'a1b2c3d4-0000-1111-2222-333344445555' });
    assert.deepEqual(fieldsOf(managed), { Image: FULL, 'EKS update': 'a1b2c3d4-0000-1111-2222-333344445555' });
  });

  describe('Rollout Failed', () => {
    it('approval expired: says so and that nothing was changed', () => {
      const reply = rollout('failed', { outcome: 'approval-expired', detail: null, summary: 'prod/workers: rollout not approved within 24 hours; nothing was changed' });
      assert.match(reply.title, /Approval expired: prod\/workers — nothing was changed/);
      assert.match(toText(reply), /Nobody approved the rollout onto 1\.31\.3-20250103 in time/);
      assert.equal(reply.ok, false);
    });

    it('rejected: by whom and why', () => {
      const reply = rollout('failed', { outcome: 'rejected', detail: { Error: 'RolloutRejectedError', Cause: 'denied by slack:T0123:U0999: not during the freeze' } });
      assert.match(reply.title, /Rollout rejected: prod\/workers — nothing was changed/);
      assert.deepEqual(fieldsOf(reply), { 'Rejected by': '<@U0999>', Reason: 'not during the freeze' });
    });

    it('rejected: a mention typed in the reason stays text in Slack; only the service\'s own is live', () => {
      const reply = rollout('failed', { outcome: 'rejected', detail: { Error: 'RolloutRejectedError', Cause: 'denied by slack:T0123:U0999: <@U0VICTIM> please & <!channel>' } });
      assert.equal(fieldsOf(reply)['Reason'], '<@U0VICTIM> please & <!channel>', 'kept as typed');
      const slack = JSON.stringify(toSlackMessage(reply));
      assert.ok(!slack.includes('<@U0VICTIM>') && !slack.includes('<!channel>'), slack);
      assert.ok(slack.includes('&lt;@U0VICTIM&gt; please &amp; &lt;!channel&gt;'));
      assert.ok(slack.includes('<@U0999>'), 'who rejected it is named with a live mention');
    });

    it('preflight failed: the failed checks and their fixes, not the passed ones', () => {
      const report = {
        ok: false,
        summary: '2 of 5 checks failed',
        checks: [
          { name: 'image-available', ok: true, detail: 'ami-0123456789abcdef0 is available' },
          { name: 'node-role-can-join', ok: false, detail: 'the node role has no access entry', fix: 'aws eks create-access-entry --cluster-name prod --principal-arn arn:aws:iam::123456789012:role/nodes --type EC2_LINUX' },
          { name: 'subnet-addresses', ok: false, detail: 'subnet-0abc has 2 free addresses; the surge needs 4' },
        ],
      };
      const reply = rollout('failed', { outcome: 'preflight-failed', detail: report });
      const text = toText(reply);
      assert.match(reply.title, /Preflight failed: prod\/workers — nothing was changed/);
      assert.match(text, /^• node-role-can-join: the node role has no access entry$/m);
      assert.match(text, /Fix: aws eks create-access-entry/);
      assert.match(text, /^• subnet-addresses: subnet-0abc has 2 free addresses/m);
      assert.doesNotMatch(text, /image-available/);
    });

    it('an EKS managed update: its summary, likely causes and the blocking budgets', () => {
      const report = {
        updateId: 'u-1',
        status: 'Failed',
        errors: [{ code: 'PodEvictionFailure', message: 'Reached max retries while trying to evict pods from nodes in node group workers', resourceIds: ['ip-10-0-1-23'] }],
        reasons: ['pods covered by shop/web allow no disruption'],
        blockers: [
          { pod: 'shop/web-1', pdb: 'shop/web', disruptionsAllowed: 0 },
          { pod: 'shop/web-2', pdb: 'shop/web', disruptionsAllowed: 0 },
        ],
        summary: 'The update of workers failed: pods could not be evicted.',
      };
      const text = toText(rollout('failed', { report, summary: 'prod/workers: The update of workers failed: pods could not be evicted.' }));
      assert.match(text, /The update of workers failed: pods could not be evicted\./);
      assert.match(text, /• PodEvictionFailure: Reached max retries/);
      assert.match(text, /^shop\/web \(0 disruptions allowed\): web-1, web-2$/m);
    });

    it('a failed step: the Lambda error message rather than its JSON', () => {
      const cause = JSON.stringify({ errorType: 'LockLostError', errorMessage: 'the lock of prod/workers is held by another execution', trace: ['at x'] });
      const text = toText(rollout('failed', { outcome: 'failed', detail: { Error: 'LockLostError', Cause: cause } }));
      assert.match(text, /^LockLostError: the lock of prod\/workers is held by another execution$/m);
      assert.doesNotMatch(text, /trace/);
    });
  });

  it('Rollout Declined: another rollout holds the group', () => {
    const reply = rollout('declined', { reason: 'already-rolling', heldBy: 'arn:aws:states:eu-west-1:123456789012:execution:ami-rollout:prod-workers-earlier' });
    assert.match(toText(reply), /Another rollout of prod\/workers is running \(execution prod-workers-earlier\)/);
    assert.match(toText(reply), /Nothing was changed/);
  });
});

describe('Chat-ops event replies: drains', () => {
  it('a clean drain is a one-liner', () => {
    const reply = drain({});
    assert.equal(reply.title, ':white_check_mark: Drained ip-10-0-1-23.eu-west-1.compute.internal (i-0a1b2c3d4e5f60718) on prod in 2 min 5 s');
    assert.deepEqual(reply.sections, []);
    assert.equal(reply.context, 'Trigger: Auto Scaling termination · drain i-0a1b2c3d4e5f60718-1736942400');
  });

  it('a failed drain groups its blockers by PodDisruptionBudget, with counts, and lists the others apart', () => {
    const refused = "Cannot evict pod as it would violate the pod's disruption budget.";
    const blockers = [
      ...['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((p) => ({ pod: `shop/web-${p}`, pdb: { namespace: 'shop', name: 'web', disruptionsAllowed: 0 }, message: refused })),
      { pod: 'data/kafka-0', pdb: { namespace: 'data', name: 'kafka', disruptionsAllowed: 1 }, message: 'not asked: the disruption budget kafka allows no disruption now' },
      { pod: 'kube-system/coredns-5d78c9869d-x2x', pdb: null, message: 'not asked: the API server is throttling requests' },
      { pod: 'ops/agent-1', pdb: null, message: 'not asked: the pod has more than one PodDisruptionBudget (a, b), which the eviction API does not support' },
    ];
    const reply = drain({ outcome: 'failed', trigger: 'rollout', durationSeconds: 905, remaining: 11, blockers, lifecycleAction: 'left-to-default' });
    assert.equal(reply.ok, false);
    assert.match(reply.title, /^:rotating_light: Drain failed: ip-10-0-1-23/);
    const [byBudget, others] = sectionsOf(reply, 'text').slice(-2);
    assert.deepEqual(byBudget, {
      kind: 'text',
      heading: 'Blocked by PodDisruptionBudgets',
      lines: ['shop/web (0 disruptions allowed): web-a, web-b, web-c, web-d, web-e, +3 more', 'data/kafka (1 disruption allowed): kafka-0'],
    });
    assert.equal(others!.heading, 'Blocked without a PodDisruptionBudget');
    assert.deepEqual(others!.lines, [
      'kube-system/coredns-5d78c9869d-x2x — not asked: the API server is throttling requests',
      'ops/agent-1 — not asked: the pod has more than one PodDisruptionBudget (a, b), which the eviction API does not support',
    ]);
    assert.deepEqual(fieldsOf(reply), { Took: '15 min 5 s', 'Pods left': '11', 'Lifecycle action': "left to the hook's default result" });
    assert.match(toText(reply), /stays cordoned/);
  });

  it('a forced drain says the pods were deleted', () => {
    const reply = drain({ outcome: 'forced', blockers: [] });
    assert.match(reply.title, /^:warning: Drain forced/);
    assert.match(toText(reply), /deleted/);
  });

  it('a forced drain names each pod deleted past its budget', () => {
    const text = toText(drain({ outcome: 'forced', blockers: [], forced: [{ pod: 'shop/web-1', pdb: 'shop/web' }, { pod: 'shop/bare', pdb: null }] }));
    assert.match(text, /shop\/web-1 \(PodDisruptionBudget shop\/web\)/);
    assert.match(text, /• shop\/bare$/m);
  });

  it('Node Drain Blocked: the node is held for its hook, with what blocks it, threaded with its rollout', () => {
    const detail = {
      cluster: 'prod',
      instanceId: 'i-0a1b2c3d4e5f60718',
      nodeName: 'ip-10-0-1-23.eu-west-1.compute.internal',
      remaining: 1,
      blockers: [{ pod: 'bank/ledger-0', pdb: { namespace: 'bank', name: 'ledger', disruptionsAllowed: 0 }, message: 'Cannot evict pod' }],
      rolloutExecutionArn: EXECUTION,
    };
    const reply = replyForEvent(DRAIN_BLOCKED, detail)!;
    assert.match(reply.title, /Drain blocked past its deadline: ip-10-0-1-23\.eu-west-1\.compute\.internal \(i-0a1b2c3d4e5f60718\) on prod/);
    assert.match(toText(reply), /terminate hook is kept alive/);
    assert.match(toText(reply), /bank\/ledger/);
    assert.equal(threadKeyOf(DRAIN_BLOCKED, detail), EXECUTION);
  });

  it('a node gone before its drain ended', () => {
    assert.match(drain({ outcome: 'node-gone', nodeName: null }).title, /Drain ended: i-0a1b2c3d4e5f60718 on prod is gone/);
  });
});

describe('Chat-ops event replies: routing', () => {
  it('shows nothing for detail-types it does not know', () => {
    assert.equal(replyForEvent('EC2 Instance State-change Notification', { ...base }), null);
    assert.equal(replyForEvent('Rollout Something New', { ...base }), null);
  });

  it('threads rollout events by their execution, drains by the rollout that asked for them', () => {
    assert.equal(threadKeyOf(ROLLOUT_EVENTS['batch-finished'], { ...base }), EXECUTION);
    assert.equal(threadKeyOf(DRAIN_FINISHED, { cluster: 'prod', executionArn: DRAIN_EXECUTION, trigger: 'terminate-hook' }), null);
    assert.equal(threadKeyOf(DRAIN_FINISHED, { cluster: 'prod', executionArn: DRAIN_EXECUTION, trigger: 'rollout', rolloutExecutionArn: EXECUTION }), EXECUTION);
    assert.equal(threadKeyOf('Something Else', { executionArn: EXECUTION }), null);
  });

  it('names the cluster', () => {
    assert.equal(clusterOf({ cluster: 'prod' }), 'prod');
    assert.equal(clusterOf({ cluster: 42 }), undefined);
    assert.equal(clusterOf({}), undefined);
  });

  it('mentions Slack users, shows IAM principals as their ARN', () => {
    assert.equal(mentionsAsText(mention('slack:T0123:U0456ABC')), '<@U0456ABC>');
    assert.equal(escapeMrkdwn(mention('slack:T0123:U0456ABC')), '<@U0456ABC>', 'live in Slack: the service wrote it');
    assert.equal(mention('iam:arn:aws:sts::123456789012:assumed-role/Ops/alice'), 'arn:aws:sts::123456789012:assumed-role/Ops/alice');
    assert.equal(mention('detection'), 'automatic detection');
    assert.equal(mention('slack:T0123:<!channel>'), 'slack:T0123:<!channel>');
  });

  it('escapes event data in Slack blocks (a pod name cannot ping a channel)', () => {
    const reply = drain({ outcome: 'failed', blockers: [{ pod: 'ns/<!channel>', pdb: null, message: 'a<b&c>' }] });
    const rendered = JSON.stringify(toSlackMessage(reply).blocks);
    assert.ok(!rendered.includes('<!channel>'));
    assert.ok(rendered.includes('ns/&lt;!channel&gt; — a&lt;b&amp;c&gt;'));
  });
});

describe('Chat-ops event replies: any detail', () => {
  const detailTypes = [...Object.values(ROLLOUT_EVENTS), DRAIN_FINISHED];
  const knownKeys = ['cluster', 'group', 'groupKind', 'target', 'executionArn', 'at', 'summary', 'batch', 'of', 'replaced', 'reason', 'outcome', 'detail', 'report', 'plan', 'approvalId', 'expiresAt', 'requestedBy', 'from', 'blockers', 'nodeName', 'instanceId', 'durationSeconds', 'remaining', 'trigger', 'batches', 'nodes', 'heldBy', 'startedAt'];
  const value = fc.oneof(fc.jsonValue(), fc.string({ maxLength: 6000 }), fc.array(fc.record({ pod: fc.jsonValue(), pdb: fc.oneof(fc.constant(null), fc.jsonValue(), fc.record({ namespace: fc.string(), name: fc.string(), disruptionsAllowed: fc.jsonValue() })), message: fc.jsonValue() }), { maxLength: 80 }));
  const detail = fc.oneof(
    fc.dictionary(fc.string(), fc.jsonValue()),
    fc.dictionary(fc.constantFrom(...knownKeys), value),
  ) as fc.Arbitrary<Record<string, unknown>>;

  it('never throws, and what it renders stays within Slack limits', () => {
    fc.assert(
      fc.property(fc.constantFrom(...detailTypes), detail, (detailType, d) => {
        const reply = replyForEvent(detailType, d);
        assert.ok(reply);
        threadKeyOf(detailType, d);
        clusterOf(d);
        const { blocks, text } = toSlackMessage(reply);
        assert.ok(blocks.length <= SLACK_LIMITS.blocks);
        assert.ok(text.length <= SLACK_LIMITS.messageText);
        for (const block of blocks as unknown as Record<string, unknown>[]) {
          const t = block['text'] as { text: string } | undefined;
          if (block['type'] === 'section' && t) assert.ok(t.text.length <= SLACK_LIMITS.sectionText);
          if (block['type'] === 'header' && t) assert.ok(t.text.length <= SLACK_LIMITS.headerText);
          for (const f of (block['fields'] ?? []) as { text: string }[]) assert.ok(f.text.length <= SLACK_LIMITS.fieldText);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
