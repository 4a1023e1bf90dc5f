import assert from 'node:assert/strict';
import { before, beforeEach, describe, it } from 'node:test';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { lambdaContext, quietLogs } from './lambda-context.js';

/**
 * The ami-rollout steps in a fleet (issue 20): a rollout of a member's group acts in the
 * member's account and region — its AWS calls made with the member role's credentials, got
 * from AssumeRole of the right role — while its lock, approvals and events stay in the hub,
 * keyed by the member's place. A rollout of the hub's own group (its place absent, or named
 * in full) keeps the keys it always had and assumes nothing.
 */
const HUB = '123456789012';
const MEMBER = { accountId: '444455556666', region: 'eu-west-2' };
const OTHER = { accountId: '777788889999', region: 'eu-west-1' };
Object.assign(process.env, {
  AWS_REGION: 'eu-west-1',
  MANAGED_CLUSTERS: 'prod',
  ROLLOUTS_TABLE: 'rollouts',
  DRAIN_TABLE: 'drains',
  CHATOPS_TABLE: 'chatops',
  FLEET_TABLE: 'fleet',
  ACCESS_POLICY_PARAMETER: '/eks-node-lifecycle/test/chatops/access-policy',
  NODE_DRAIN_STATE_MACHINE_ARN: `arn:aws:states:eu-west-1:${HUB}:stateMachine:eks-node-lifecycle-test-node-drain`,
  HUB_ACCOUNT_ID: HUB,
  MEMBER_ACCOUNTS: `${MEMBER.accountId}:${MEMBER.region},${OTHER.accountId}`,
  MEMBER_ROLE_NAME: 'eks-node-lifecycle-test-ami-rollout',
  MEMBER_EXTERNAL_ID: 'ext-123',
  AWS_LAMBDA_FUNCTION_NAME: 'eks-node-lifecycle-test-step',
});
quietLogs();

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const events = mockClient(EventBridgeClient);
const autoscaling = mockClient(AutoScalingClient);
const ssm = mockClient(SSMClient);
const sts = mockClient(STSClient);
const eks = mockClient(EKSClient);
const mocks = [ddb, sfn, events, autoscaling, ssm, sts, eks, mockClient(DynamoDBClient), mockClient(EC2Client), mockClient(IAMClient)];

type Handler = (event: unknown, context: unknown) => Promise<any>;
const handlers: Record<string, Handler> = {};
before(async () => {
  for (const name of ['begin-rollout', 'roll-step', 'finish-rollout', 'request-approval', 'rollout-control', 'rollout-preflight']) {
    handlers[name] = (await import(`../../functions/${name}.js`)).handler as Handler;
  }
});

const EXEC = `arn:aws:states:eu-west-1:${HUB}:execution:eks-node-lifecycle-test-ami-rollout:prod-prod-workers-ami-0123456789abcdef0`;
const TOKEN = `AQ${'x'.repeat(86)}`;
const cluster = 'prod';
const group = { kind: 'self-managed', name: 'prod-workers', autoScalingGroup: 'prod-workers', launchTemplate: { id: 'lt-0123456789abcdef0', version: 3 } };
const target = { imageId: 'ami-0123456789abcdef0', release: '1.31.0-20261120' };
const MEMBER_KEY = `${MEMBER.accountId}/${MEMBER.region}/prod/prod-workers`;
const OTHER_KEY = `${OTHER.accountId}/${OTHER.region}/prod/prod-workers`;
const HUB_KEY = 'prod/prod-workers';
const MEMBER_ROLE = `arn:aws:iam::${MEMBER.accountId}:role/eks-node-lifecycle/eks-node-lifecycle-test-ami-rollout-${MEMBER.region}`;
const asg = { AutoScalingGroups: [{ AutoScalingGroupName: 'prod-workers', MinSize: 1, MaxSize: 6, DesiredCapacity: 4, DefaultCooldown: 300, AvailabilityZones: [], HealthCheckType: 'EC2', CreatedTime: new Date(), Instances: [], Tags: [] }] };

/** Credentials each member role's AssumeRole hands out: the access key names the account. */
function assumeRoleAnswers(): void {
  sts.on(AssumeRoleCommand).callsFake((input: { RoleArn: string }) => {
    const account = /::(\d{12}):/.exec(input.RoleArn)![1]!;
    return { Credentials: { AccessKeyId: `ASIA${account}`, SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 3600_000) } };
  });
}

/** Where an SDK call went: the client's region and the access key it signed with (`hub`: the function's own credentials). */
async function whereCalled(call: { thisValue: unknown }): Promise<{ region: string; key: string }> {
  const config = (call.thisValue as { config: { region: () => Promise<string>; credentials: () => Promise<{ accessKeyId: string }> } }).config;
  const region = await config.region();
  const credentials = await config.credentials().catch(() => undefined);
  return { region, key: credentials?.accessKeyId.startsWith('ASIA') ? credentials.accessKeyId : 'hub' };
}

const inMember = { region: MEMBER.region, key: `ASIA${MEMBER.accountId}` };
const inHub = { region: 'eu-west-1', key: 'hub' };

describe('Handlers: ami-rollout steps in a member account', () => {
  beforeEach(() => {
    for (const m of mocks) m.reset();
    // the function's own credentials, for the hub's calls
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIAHUBFUNCTIONROLE', AWS_SECRET_ACCESS_KEY: 'hub-secret' });
    assumeRoleAnswers();
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify({ clusters: { [cluster]: { read: ['*'], requireApproval: false } } }) } });
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves(asg);
    ddb.on(PutCommand).resolves({});
    ddb.on(UpdateCommand).resolves({});
    ddb.on(DeleteCommand).resolves({});
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  });

  describe('begin-rollout', () => {
    it("reads the member's group with the member role (AssumeRole of its role, with the external id) and takes the hub's lock under the member's key", async () => {
      const out = await handlers['begin-rollout']!({ input: { ...MEMBER, cluster, group, target }, executionArn: EXEC }, lambdaContext());
      assert.equal(out.begin.decision, 'proceed');
      assert.deepEqual(out.place, MEMBER, 'the workflow hands the place on');
      // the group: in the member's account and region (the SDK asks for the credentials as it signs: here, as the test looks)
      const described = autoscaling.commandCalls(DescribeAutoScalingGroupsCommand);
      assert.equal(described.length, 1);
      assert.deepEqual(await whereCalled(described[0]!), inMember);
      const assumed = sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input);
      assert.equal(assumed.length, 1);
      assert.equal(assumed[0]!.RoleArn, MEMBER_ROLE);
      assert.equal(assumed[0]!.ExternalId, 'ext-123');
      assert.deepEqual(await whereCalled(sts.commandCalls(AssumeRoleCommand)[0]!), inHub, 'AssumeRole: by the hub function\'s own role');
      // the lock: the hub's table, with the hub's credentials, the member's key
      const lock = ddb.commandCalls(PutCommand).find((c) => c.args[0].input.ConditionExpression)!;
      assert.equal(lock.args[0].input.Item!['lockKey'], MEMBER_KEY);
      assert.deepEqual(await whereCalled(lock), inHub);
      // the access policy: the hub's parameter
      assert.deepEqual(await whereCalled(ssm.commandCalls(GetParameterCommand)[0]!), inHub);
    });

    it("the hub's own group, its place absent or named in full, keeps its key and assumes nothing", async () => {
      autoscaling.resetHistory();
      for (const place of [{}, { accountId: HUB, region: 'eu-west-1' }]) {
        ddb.resetHistory();
        const out = await handlers['begin-rollout']!({ input: { ...place, cluster, group, target }, executionArn: EXEC }, lambdaContext());
        assert.deepEqual(out.place, {}, 'the hub\'s own place is {}');
        assert.equal(ddb.commandCalls(PutCommand).find((c) => c.args[0].input.ConditionExpression)!.args[0].input.Item!['lockKey'], HUB_KEY);
      }
      for (const call of autoscaling.calls()) assert.deepEqual(await whereCalled(call), inHub);
      assert.equal(sts.calls().length, 0);
    });

    it('two groups `prod/prod-workers` in two member accounts take two locks: one does not block the other', async () => {
      const held = new Map<string, string>();
      ddb.on(PutCommand).callsFake((input: { ConditionExpression?: string; Item: Record<string, string> }) => {
        if (!input.ConditionExpression) return {};
        const key = input.Item['lockKey']!;
        if (held.has(key) && held.get(key) !== input.Item['owner']) throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
        held.set(key, input.Item['owner']!);
        return {};
      });
      const first = await handlers['begin-rollout']!({ input: { ...MEMBER, cluster, group, target }, executionArn: EXEC }, lambdaContext());
      const second = await handlers['begin-rollout']!({ input: { ...OTHER, cluster, group, target }, executionArn: `${EXEC}-other` }, lambdaContext());
      const hub = await handlers['begin-rollout']!({ input: { cluster, group, target }, executionArn: `${EXEC}-hub` }, lambdaContext());
      assert.deepEqual([first.begin.decision, second.begin.decision, hub.begin.decision], ['proceed', 'proceed', 'proceed']);
      assert.deepEqual([...held.keys()].sort(), [HUB_KEY, MEMBER_KEY, OTHER_KEY].sort());
      // each member's group was read with its own role
      const keys = await Promise.all(autoscaling.calls().map(async (c) => (await whereCalled(c)).key));
      assert.deepEqual(keys, [`ASIA${MEMBER.accountId}`, `ASIA${OTHER.accountId}`, 'hub']);
    });
  });

  describe('finish-rollout', () => {
    it("releases the member's lock in the hub and announces the outcome naming the account and region", async () => {
      const out = await handlers['finish-rollout']!({ place: MEMBER, cluster, group, target, executionArn: EXEC, outcome: 'failed', detail: 'boom' }, lambdaContext());
      assert.equal(out.released, true);
      const del = ddb.commandCalls(DeleteCommand)[0]!;
      assert.deepEqual(del.args[0].input.Key, { lockKey: MEMBER_KEY });
      assert.deepEqual(await whereCalled(del), inHub);
      const entry = events.commandCalls(PutEventsCommand)[0]!;
      assert.deepEqual(await whereCalled(entry), inHub, 'the hub bus, where chat listens');
      const detail = JSON.parse(entry.args[0].input.Entries![0]!.Detail!);
      assert.equal(detail.accountId, MEMBER.accountId);
      assert.equal(detail.region, MEMBER.region);
      assert.match(detail.summary, /^444455556666\/eu-west-2\/prod\/prod-workers: rollout failed/);
      assert.equal(sts.calls().length, 0, 'nothing in the member is touched');
    });

    it("the hub's own rollout: the old key, and events without a place", async () => {
      await handlers['finish-rollout']!({ place: {}, cluster, group, target, executionArn: EXEC, outcome: 'failed' }, lambdaContext());
      await handlers['finish-rollout']!({ cluster, group, target, executionArn: EXEC, outcome: 'failed' }, lambdaContext());
      assert.deepEqual(ddb.commandCalls(DeleteCommand).map((c) => c.args[0].input.Key), [{ lockKey: HUB_KEY }, { lockKey: HUB_KEY }]);
      for (const call of events.commandCalls(PutEventsCommand)) {
        const detail = JSON.parse(call.args[0].input.Entries![0]!.Detail!);
        assert.equal(detail.accountId, undefined);
        assert.equal(detail.region, undefined);
        assert.match(detail.summary, /^prod\/prod-workers: /);
      }
    });
  });

  describe('request-approval', () => {
    it("lists the member's approval under its place and names it on the member's lock", async () => {
      const out = await handlers['request-approval']!({ taskToken: TOKEN, place: MEMBER, cluster, group, target, from: {}, executionArn: EXEC, plan: { summary: 's' } }, lambdaContext());
      const [pointer, put] = ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
      assert.equal(pointer!.Item!['pk'], `approvals#${MEMBER.accountId}/${MEMBER.region}/prod`);
      assert.equal(put!.Item!['accountId'], MEMBER.accountId);
      assert.equal(put!.Item!['region'], MEMBER.region);
      assert.deepEqual(ddb.commandCalls(UpdateCommand)[0]!.args[0].input.Key, { lockKey: MEMBER_KEY });
      const detail = JSON.parse(events.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!.Detail!);
      assert.equal(detail.approvalId, out.approvalId);
      assert.equal(detail.accountId, MEMBER.accountId);
    });

    it("the hub's own approval keeps its pointer (`approvals#prod`) and carries no place", async () => {
      await handlers['request-approval']!({ taskToken: TOKEN, place: {}, cluster, group, target, from: {}, executionArn: EXEC, plan: { summary: 's' } }, lambdaContext());
      const [pointer, put] = ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
      assert.equal(pointer!.Item!['pk'], 'approvals#prod');
      assert.equal(put!.Item!['accountId'], undefined);
    });
  });

  describe('rollout-control', () => {
    it("pauses the member's rollout on the member's lock; the same request without a place pauses the hub's", async () => {
      ddb.on(GetCommand).resolves({ Item: { lockKey: MEMBER_KEY, owner: EXEC, acquiredAt: '2026-11-21T09:00:00.000Z', expiresAt: 1_800_000_000, expiresAtIso: '2027-01-15T08:00:00.000Z' } });
      ddb.on(UpdateCommand).resolves({ Attributes: { lockKey: MEMBER_KEY, owner: EXEC, pauses: 1, control: 'pause' } });
      const request = { kind: 'rollout-control', cluster, group: 'prod-workers', action: 'pause', requestedBy: 'U123' };
      const member = await handlers['rollout-control']!({ ...request, ...MEMBER }, lambdaContext());
      assert.match(member.summary, /444455556666\/eu-west-2\/prod\/prod-workers/);
      await handlers['rollout-control']!({ ...request, accountId: HUB, region: 'eu-west-1' }, lambdaContext());
      assert.deepEqual(ddb.commandCalls(GetCommand).map((c) => c.args[0].input.Key), [{ lockKey: MEMBER_KEY }, { lockKey: HUB_KEY }]);
      assert.equal(sts.calls().length, 0);
    });
  });

  describe('roll-step', () => {
    it("renews the member's lock in the hub, then reads the member's group with the member role", async () => {
      ddb.on(UpdateCommand).resolves({ Attributes: { lockKey: MEMBER_KEY, owner: EXEC } });
      const policy = { maxUnavailable: 1, canary: 1, strategy: 'surge', approval: false, selfManagedStrategy: 'batches', drain: { drainTimeoutSeconds: 900, onDrainTimeout: 'fail', maxGracePeriodSeconds: 600 } };
      // the group has no instances: planning ends quickly; what matters is where each call went
      await handlers['roll-step']!(
        { place: MEMBER, cluster, group, target, executionArn: EXEC, policy, launchTemplate: { launchTemplateId: 'lt-0123456789abcdef0', version: 4, created: true, pruned: [], family: 'al2023' }, roll: { first: true } },
        lambdaContext(),
      ).catch(() => undefined);
      const renew = ddb.commandCalls(UpdateCommand)[0]!;
      assert.deepEqual(renew.args[0].input.Key, { lockKey: MEMBER_KEY });
      assert.deepEqual(await whereCalled(renew), inHub);
      const groupCalls = autoscaling.calls();
      assert.ok(groupCalls.length > 0, 'the group was read');
      for (const call of groupCalls) assert.deepEqual(await whereCalled(call), inMember);
      assert.equal(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input.RoleArn, MEMBER_ROLE);
    });
  });

  describe('rollout-preflight', () => {
    it("reads the member's cluster in the member's account and region", async () => {
      eks.on(DescribeClusterCommand).rejects(Object.assign(new Error('stop here'), { name: 'ResourceNotFoundException' }));
      await handlers['rollout-preflight']!({ place: MEMBER, cluster, group, target, surge: 1, executionArn: EXEC }, lambdaContext()).catch(() => undefined);
      const described = eks.commandCalls(DescribeClusterCommand);
      assert.ok(described.length > 0);
      for (const call of described) assert.deepEqual(await whereCalled(call), inMember);
      assert.equal(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input.RoleArn, MEMBER_ROLE);
    });
  });
});
