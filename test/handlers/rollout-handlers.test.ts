import assert from 'node:assert/strict';
import { before, beforeEach, describe, it } from 'node:test';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { lambdaContext, quietLogs } from './lambda-context.js';

/**
 * The ami-rollout functions: bad input is an InvalidInputError before any AWS call (so a
 * malformed or hostile payload changes nothing), and the cheap happy paths.
 */
Object.assign(process.env, {
  AWS_REGION: 'eu-west-1',
  MANAGED_CLUSTERS: 'prod',
  ROLLOUTS_TABLE: 'rollouts',
  DRAIN_TABLE: 'drains',
  CHATOPS_TABLE: 'chatops',
  FLEET_TABLE: 'fleet',
  ACCESS_POLICY_PARAMETER: '/eks-node-lifecycle/test/chatops/access-policy',
  NODE_DRAIN_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:eks-node-lifecycle-test-node-drain',
});
quietLogs();

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const events = mockClient(EventBridgeClient);
const autoscaling = mockClient(AutoScalingClient);
const ssm = mockClient(SSMClient);
const mocks = [ddb, sfn, events, autoscaling, ssm, mockClient(DynamoDBClient), mockClient(EKSClient), mockClient(EC2Client), mockClient(IAMClient), mockClient(STSClient)];
const awsCalls = () => mocks.reduce((n, m) => n + m.calls().length, 0);

type Handler = (event: unknown, context: unknown) => Promise<any>;
const handlers: Record<string, Handler> = {};
before(async () => {
  for (const name of ['begin-rollout', 'roll-step', 'finish-rollout', 'request-approval', 'rollout-control', 'rollout-preflight']) {
    handlers[name] = (await import(`../../functions/${name}.js`)).handler as Handler;
  }
});

const EXEC = 'arn:aws:states:eu-west-1:123456789012:execution:eks-node-lifecycle-test-ami-rollout:prod-prod-workers-ami-0123456789abcdef0';
const TOKEN = `AQ${'x'.repeat(86)}`;
const LOCK_KEY = 'prod/prod-workers';
const cluster = 'prod';
const group = { kind: 'self-managed', name: 'prod-workers', autoScalingGroup: 'prod-workers', launchTemplate: { id: 'lt-0123456789abcdef0', version: 3 } };
const target = { imageId: 'ami-0123456789abcdef0', release: '1.31.0-20261120' };
const policy = {
  maxUnavailable: 1,
  canary: 1,
  strategy: 'surge',
  approval: false,
  selfManagedStrategy: 'batches',
  drain: { drainTimeoutSeconds: 900, onDrainTimeout: 'fail', maxGracePeriodSeconds: 600 },
};

/** a valid input per function, and the fields it cannot do without */
const VALID: Record<string, { input: Record<string, unknown>; required: string[] }> = {
  'begin-rollout': { input: { input: { cluster, group, target }, executionArn: EXEC }, required: ['input', 'executionArn'] },
  'roll-step': {
    input: { cluster, group, target, executionArn: EXEC, policy, launchTemplate: { launchTemplateId: 'lt-0123456789abcdef0', version: 4, created: true, pruned: [], family: 'al2023' }, roll: { first: true } },
    required: ['cluster', 'group', 'target', 'executionArn', 'policy', 'launchTemplate'],
  },
  'finish-rollout': { input: { cluster, group, target, executionArn: EXEC, outcome: 'preflight-failed', detail: { ok: false } }, required: ['cluster', 'group', 'target', 'executionArn', 'outcome'] },
  'request-approval': { input: { taskToken: TOKEN, cluster, group, target, from: { imageId: 'ami-0fedcba9876543210' }, executionArn: EXEC, plan: { summary: 'prod/prod-workers: 4 nodes, 1 at a time' } }, required: ['taskToken', 'cluster', 'group', 'target', 'executionArn', 'plan'] },
  'rollout-control': { input: { kind: 'rollout-control', cluster, group: 'prod-workers', action: 'approve', requestedBy: 'U123' }, required: ['kind', 'cluster', 'group', 'action', 'requestedBy'] },
  'rollout-preflight': { input: { cluster, group, target, surge: 1, executionArn: EXEC }, required: ['cluster', 'group', 'target', 'surge'] },
};

const BAD_ARNS = [
  'not-an-arn',
  'arn:aws:states:eu-west-1:123456789012:stateMachine:eks-node-lifecycle-test-ami-rollout',
  'arn:aws:states:eu-west-1:1234:execution:ami-rollout:x',
  'arn:aws:lambda:eu-west-1:123456789012:function:roll-step',
  'arn:aws:states:eu-west-1:123456789012:execution:ami-rollout',
  'arn:aws:states:eu-west-1:123456789012:execution:ami-rollout:x:extra',
  'arn:aws:states:eu-west-1:123456789012:execution::x',
  '',
];

/** Step Functions execution names allow no whitespace or control characters */
const ARNS_WITH_BAD_NAMES = [`${EXEC}\n`, `${EXEC.replace(/:[^:]+$/, ':two words')}`, `${EXEC.replace(/:[^:]+$/, ':x\u0000y')}`];

/** every function takes the execution ARN at the top level */
function withExecutionArn(name: string, arn: unknown): Record<string, unknown> {
  return { ...VALID[name]!.input, executionArn: arn };
}

async function rejectsInvalid(name: string, event: unknown) {
  await assert.rejects(handlers[name]!(event, lambdaContext(name)), { name: 'InvalidInputError' }, `${name}: ${JSON.stringify(event)?.slice(0, 200)}`);
}

describe('Handlers: ami-rollout steps', () => {
  beforeEach(() => {
    for (const m of mocks) m.reset();
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  });

  describe('bad input is an InvalidInputError, and nothing is called', () => {
    for (const name of Object.keys(VALID)) {
      it(`${name}: random JSON`, async () => {
        await fc.assert(
          fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom(...VALID[name]!.required, 'roll', 'from'), fc.jsonValue())), async (event) => {
            await rejectsInvalid(name, event);
          }),
          { numRuns: 150 },
        );
        assert.equal(awsCalls(), 0);
      });

      it(`${name}: each required field missing`, async () => {
        for (const field of VALID[name]!.required) {
          const { [field]: _gone, ...rest } = VALID[name]!.input;
          await rejectsInvalid(name, rest);
        }
        assert.equal(awsCalls(), 0);
      });

      it(`${name}: each field of the wrong type`, async () => {
        for (const field of Object.keys(VALID[name]!.input).filter((f) => f !== 'roll' && f !== 'detail')) {
          for (const wrong of [42, 'text', [], null, { nested: true }, true]) {
            const valid = VALID[name]!.input[field];
            // a value of the right type may be valid (another name, another number); `from` has no required field
            if (typeof wrong === typeof valid && wrong !== null && typeof wrong !== 'object') continue;
            if (field === 'from' && wrong !== null && typeof wrong === 'object' && !Array.isArray(wrong)) continue;
            await rejectsInvalid(name, { ...VALID[name]!.input, [field]: wrong });
          }
        }
        assert.equal(awsCalls(), 0);
      });

      if (name !== 'rollout-control') {
        it(`${name}: a bad execution ARN`, async () => {
          for (const arn of BAD_ARNS) await rejectsInvalid(name, withExecutionArn(name, arn));
          assert.equal(awsCalls(), 0);
        });
      }
    }

    it('hostile names and values', async () => {
      const bad: [string, unknown][] = [
        ['begin-rollout', { input: { cluster: '../../etc', group, target }, executionArn: EXEC }],
        ['begin-rollout', { input: { cluster, group: { ...group, kind: 'fargate' }, target }, executionArn: EXEC }],
        ['begin-rollout', { input: { cluster, group, target: { imageId: 'ami-$(reboot)' } }, executionArn: EXEC }],
        ['begin-rollout', { input: { cluster, group, target, mode: 'yolo' }, executionArn: EXEC }],
        ['begin-rollout', { input: { cluster, group, target, startedBy: { kind: 'robot' } }, executionArn: EXEC }],
        ['roll-step', { ...VALID['roll-step']!.input, policy: { ...policy, maxUnavailable: '150' } }],
        ['roll-step', { ...VALID['roll-step']!.input, policy: { ...policy, strategy: 'yolo' } }],
        ['roll-step', { ...VALID['roll-step']!.input, failure: 'boom' }],
        ['roll-step', { ...VALID['roll-step']!.input, launchTemplate: { launchTemplateId: 'lt-0123456789abcdef0', version: 0, created: true, pruned: [], family: 'al2023' } }],
        ['finish-rollout', { ...VALID['finish-rollout']!.input, outcome: 'exploded' }],
        ['finish-rollout', { ...VALID['finish-rollout']!.input, announced: 'yes' }],
        ['request-approval', { ...VALID['request-approval']!.input, taskToken: '' }],
        ['request-approval', { ...VALID['request-approval']!.input, taskToken: 'x'.repeat(4097) }],
        ['request-approval', { ...VALID['request-approval']!.input, plan: {} }],
        ['rollout-control', { ...VALID['rollout-control']!.input, action: 'delete' }],
        ['rollout-control', { ...VALID['rollout-control']!.input, kind: 'manual-drain' }],
        ['rollout-control', { ...VALID['rollout-control']!.input, cluster: 'prod; rm -rf /' }],
        ['rollout-control', { ...VALID['rollout-control']!.input, requestedBy: '' }],
        ['rollout-control', { ...VALID['rollout-control']!.input, reason: 'x'.repeat(501) }],
        ['rollout-control', { ...VALID['rollout-control']!.input, reason: 'not\u200Bnow' }],
        ['rollout-control', { ...VALID['rollout-control']!.input, reason: 'fine\u{E0041}' }],
        ['rollout-control', { ...VALID['rollout-control']!.input, group: '' }],
        ['rollout-preflight', { ...VALID['rollout-preflight']!.input, surge: -1 }],
        ['rollout-preflight', { ...VALID['rollout-preflight']!.input, surge: 1.5 }],
        ['rollout-preflight', { ...VALID['rollout-preflight']!.input, surge: 1001 }],
      ];
      for (const [name, event] of bad) await rejectsInvalid(name, event);
      assert.equal(awsCalls(), 0);
    });

    it('every function rejects an execution ARN whose name has whitespace or control characters', async () => {
      const accepted: string[] = [];
      for (const name of Object.keys(VALID).filter((n) => n !== 'rollout-control')) {
        for (const arn of ARNS_WITH_BAD_NAMES) {
          mocks.forEach((m) => m.reset());
          const error = await handlers[name]!(withExecutionArn(name, arn), lambdaContext()).then(() => undefined, (e: Error) => e);
          if (error?.name !== 'InvalidInputError') accepted.push(`${name} ${JSON.stringify(arn.slice(-12))}`);
        }
      }
      assert.deepEqual(accepted, [], 'accepted (the ARN pattern\'s [^:]+ lets any character but a colon into the name)');
    });

    it('roll-step: rejects a roll that is neither the first-step marker nor a step result', async () => {
      // a lost or mangled roll state must fail loudly, not plan the roll afresh over a half-rolled group
      const accepted: string[] = [];
      for (const roll of [42, 'step', { next: 'step' }, { state: { kind: 'self-managed' }, next: 'step' }]) {
        const error = await handlers['roll-step']!({ ...VALID['roll-step']!.input, roll }, lambdaContext()).then(() => undefined, (e: Error) => e);
        if (error?.name !== 'InvalidInputError') accepted.push(JSON.stringify(roll));
      }
      assert.deepEqual(accepted, [], 'taken as the first step (the roll would be planned afresh)');
      assert.equal(ddb.calls().length, 0, 'no lock renewed');
    });
  });

  describe('rollout-control', () => {
    const control = (action: string, extra: Record<string, unknown> = {}) => handlers['rollout-control']!({ ...VALID['rollout-control']!.input, action, ...extra }, lambdaContext());
    const lock = (extra: Record<string, unknown> = {}) => ({ Item: { lockKey: LOCK_KEY, owner: EXEC, acquiredAt: '2026-11-21T09:00:00.000Z', expiresAt: 1_800_000_000, expiresAtIso: '2027-01-15T08:00:00.000Z', ...extra } });

    it('answers no-rollout when the group has no lock, and calls nothing else', async () => {
      ddb.on(GetCommand).resolves({});
      for (const action of ['pause', 'resume', 'abort']) {
        const out = await control(action, action === 'resume' ? { pause: 1 } : {});
        assert.equal(out.result, 'no-rollout', action);
      }
      assert.equal(sfn.calls().length, 0);
      assert.equal(ddb.commandCalls(UpdateCommand).length, 0);
      assert.equal(events.calls().length, 0);
      assert.deepEqual(ddb.commandCalls(GetCommand)[0]!.args[0].input, { TableName: 'rollouts', Key: { lockKey: LOCK_KEY }, ConsistentRead: true });
    });

    it('refuses approve and reject (a direct invocation cannot say who calls): UnverifiedCallerError, nothing read or sent', async () => {
      for (const action of ['approve', 'reject']) {
        await assert.rejects(control(action, { requestedBy: 'slack:T1:U0BOB' }), (e: Error) => e.name === 'UnverifiedCallerError' && /cannot (approve|reject)/.test(e.message));
      }
      assert.equal(ddb.calls().length, 0);
      assert.equal(sfn.calls().length, 0);
      assert.equal(events.calls().length, 0);
    });

    it('pause and abort are recorded on the lock, the name marked unverified; resume ends the pause it names', async () => {
      ddb.on(GetCommand).resolves(lock({ control: 'pause', pauses: 1 }));
      ddb.on(UpdateCommand).callsFake((input) => ({ Attributes: { lockKey: LOCK_KEY, owner: EXEC, pauses: 1, ...(input.ExpressionAttributeValues[':control'] ? { control: input.ExpressionAttributeValues[':control'] } : {}) } }));
      for (const action of ['pause', 'abort', 'resume']) {
        const out = await control(action, action === 'resume' ? { pause: 1 } : {});
        assert.equal(out.result, 'done', action);
        assert.equal(out.executionArn, EXEC);
      }
      const updates = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
      assert.deepEqual(updates.map((u) => u.ExpressionAttributeValues?.[':control'] ?? null), ['pause', 'abort', null]);
      assert.match(updates[0]!.ExpressionAttributeValues?.[':by'], /^U123 \(unverified: rolloutControl invoked directly\)$/);
      assert.match(updates[2]!.UpdateExpression!, /^REMOVE #control/);
      assert.equal(updates[2]!.ExpressionAttributeValues?.[':n'], 1);
      assert.equal(sfn.calls().length, 0);
    });

    it('resume without the pause number changes nothing and says which pause to name', async () => {
      ddb.on(GetCommand).resolves(lock({ control: 'pause', pauses: 3, controlBy: 'bob' }));
      const out = await control('resume');
      assert.equal(out.result, 'stale');
      assert.match(out.summary, /paused \(#3 by bob\).*--pause 3/);
      assert.equal(ddb.commandCalls(UpdateCommand).length, 0);
    });

    it('pause when the lock went away in between: no-rollout', async () => {
      ddb.on(GetCommand).resolves(lock());
      ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
      assert.equal((await control('pause')).result, 'no-rollout');
    });
  });

  describe('request-approval', () => {
    it('keeps the task token in the approvals table, names the approval on the lock, and asks with the approval id only', async () => {
      ddb.on(PutCommand).resolves({});
      ddb.on(UpdateCommand).resolves({});
      const out = await handlers['request-approval']!(VALID['request-approval']!.input, lambdaContext());
      assert.match(out.approvalId, /^apr-[0-9a-f]{12}$/);
      // first the cluster's pointer (what `approvals` lists), then the approval with its token
      const [pointer, put] = ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
      assert.deepEqual([pointer!.Item!['pk'], pointer!.Item!['sk']], ['approvals#prod', out.approvalId]);
      assert.ok(!JSON.stringify(pointer).includes(TOKEN), 'the pointer holds no token');
      assert.equal(put!.TableName, 'chatops');
      assert.equal(put!.Item!['taskToken'], TOKEN);
      assert.equal(put!.Item!['requestedBy'], 'detection');
      const update = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
      assert.equal(update.TableName, 'rollouts');
      assert.deepEqual(update.Key, { lockKey: LOCK_KEY });
      assert.equal(update.UpdateExpression, 'SET #approval = :approval');
      assert.deepEqual(update.ExpressionAttributeValues, { ':approval': out.approvalId, ':owner': EXEC });
      const entry = events.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
      assert.equal(entry.DetailType, 'Rollout Approval Requested');
      const detail = JSON.parse(entry.Detail!);
      assert.equal(detail.approvalId, out.approvalId);
      assert.ok(!entry.Detail!.includes(TOKEN), 'the token never leaves the server');
      assert.match(detail.summary, /approve rolling onto 1\.31\.0-20261120\? prod\/prod-workers: 4 nodes, 1 at a time/);
    });

    it('fails with LockLostError, asking nobody, when this execution no longer holds the lock', async () => {
      ddb.on(PutCommand).resolves({});
      ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
      await assert.rejects(handlers['request-approval']!(VALID['request-approval']!.input, lambdaContext()), { name: 'LockLostError' });
      assert.equal(events.calls().length, 0);
    });
  });

  describe('finish-rollout', () => {
    it('releases this execution\'s lock and announces an outcome the roll did not', async () => {
      ddb.on(DeleteCommand).resolves({});
      const out = await handlers['finish-rollout']!(VALID['finish-rollout']!.input, lambdaContext());
      assert.deepEqual(out, { outcome: 'preflight-failed', succeeded: false, released: true });
      const del = ddb.commandCalls(DeleteCommand)[0]!.args[0].input;
      assert.deepEqual(del.Key, { lockKey: LOCK_KEY });
      assert.equal(del.ExpressionAttributeValues?.[':owner'], EXEC);
      const entry = events.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
      assert.equal(entry.DetailType, 'Rollout Failed');
      assert.match(JSON.parse(entry.Detail!).summary, /stopped by its preflight checks before changing anything/);
    });

    it('does not announce twice what the roll already announced, and reports success for finished', async () => {
      ddb.on(DeleteCommand).resolves({});
      const out = await handlers['finish-rollout']!({ ...VALID['finish-rollout']!.input, outcome: 'finished', announced: true }, lambdaContext());
      assert.deepEqual(out, { outcome: 'finished', succeeded: true, released: true });
      assert.equal(events.calls().length, 0);
    });

    it('a lock held by another execution is left alone (released: false)', async () => {
      ddb.on(DeleteCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
      const out = await handlers['finish-rollout']!({ ...VALID['finish-rollout']!.input, outcome: 'refused' }, lambdaContext());
      assert.equal(out.released, false);
      assert.equal(events.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!.DetailType, 'Rollout Declined');
    });
  });

  describe('begin-rollout', () => {
    const asg = { AutoScalingGroups: [{ AutoScalingGroupName: 'prod-workers', MinSize: 1, MaxSize: 6, DesiredCapacity: 4, DefaultCooldown: 300, AvailabilityZones: [], HealthCheckType: 'EC2', CreatedTime: new Date(), Instances: [], Tags: [{ Key: 'eks-node-lifecycle/max-unavailable', Value: '2', PropagateAtLaunch: false }] }] };

    beforeEach(() => {
      ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify({ clusters: { [cluster]: { read: ['*'], requireApproval: false } } }) } });
    });

    it('takes the lock for this execution and returns the input with its defaults and the policy', async () => {
      autoscaling.on(DescribeAutoScalingGroupsCommand).resolves(asg);
      ddb.on(PutCommand).resolves({});
      const out = await handlers['begin-rollout']!(VALID['begin-rollout']!.input, lambdaContext());
      assert.equal(out.begin.decision, 'proceed');
      assert.equal(out.begin.policy.maxUnavailable, 2);
      assert.equal(out.begin.groupSize, 4);
      assert.equal(out.mode, 'auto', 'defaults filled in for the later states');
      assert.deepEqual(out.from, {});
      const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
      assert.equal(put.TableName, 'rollouts');
      assert.equal(put.Item?.owner, EXEC);
      assert.equal(put.Item?.lockKey, LOCK_KEY);
    });

    it('names the holder when another execution rolls the group', async () => {
      const other = EXEC.replace(/:[^:]+$/, ':other');
      autoscaling.on(DescribeAutoScalingGroupsCommand).resolves(asg);
      // the lock's conditional write fails; Begin's decision (an unconditional write) is recorded
      ddb.on(PutCommand).callsFake((input: { ConditionExpression?: string }) => {
        if (input.ConditionExpression) throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
        return {};
      });
      ddb.on(GetCommand).resolves({ Item: { lockKey: LOCK_KEY, owner: other, acquiredAt: '2026-11-21T08:00:00.000Z', expiresAt: 4_000_000_000, expiresAtIso: '2096-10-02T07:06:40.000Z' } });
      const out = await handlers['begin-rollout']!(VALID['begin-rollout']!.input, lambdaContext());
      assert.equal(out.begin.decision, 'already-rolling');
      assert.equal(out.begin.heldBy, other);
      const recorded = ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item!).find((item) => String(item['lockKey']).startsWith('begin#'));
      assert.deepEqual({ ...recorded, decidedAt: undefined, expiresAt: undefined }, { lockKey: `begin#${EXEC}`, decision: 'already-rolling', heldBy: other, decidedAt: undefined, expiresAt: undefined });
      assert.equal(events.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!.DetailType, 'Rollout Declined');
    });
  });

  describe('roll-step', () => {
    it('stops with LockLostError, touching nothing, when the lock is no longer this execution\'s', async () => {
      ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
      await assert.rejects(handlers['roll-step']!(VALID['roll-step']!.input, lambdaContext()), { name: 'LockLostError' });
      assert.equal(autoscaling.calls().length, 0);
      assert.equal(events.calls().length, 0);
    });
  });
});
