import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  CreateOrUpdateTagsCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeLifecycleHooksCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateTagsCommand, DescribeInstancesCommand, type DescribeInstancesCommandOutput, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { authenticateEksToken, createNode, KubeStore, startKubeApiServer, VirtualClock } from '@eks-node-lifecycle/sandbox';
import { useTimeSource } from '../../shared/clock.js';
import { InvalidInputError } from '../../shared/errors.js';
import { lambdaContext, quietLogs } from './lambda-context.js';

/**
 * The lifecycle handlers with one member account listed: an event forwarded from the member, or
 * an input naming it, acts there — EC2, Auto Scaling and EKS with the member role's credentials
 * in the member's region, the Kubernetes token signed with them — while the drain records, Step
 * Functions and the events stay in the hub; the hub's own keys are as before; an account nobody
 * listed changes nothing. AWS is mocked (each call's client tells its credentials and region);
 * the clusters are sandbox API servers that accept only tokens signed by their own account.
 */
const HUB = '111122223333';
const MEMBER = { accountId: '444455556666', region: 'us-east-1' };
const hubCredentials = { accessKeyId: 'AKIDHUBFUNCTION', secretAccessKey: 'hub-secret' };
const memberCredentials = { accessKeyId: 'ASIAMEMBERROLE', secretAccessKey: 'member-secret', sessionToken: 'member-session' };
const DRAIN_MACHINE = `arn:aws:states:eu-west-1:${HUB}:stateMachine:eks-node-lifecycle-test-node-drain`;
const JOIN_MACHINE = `arn:aws:states:eu-west-1:${HUB}:stateMachine:eks-node-lifecycle-test-node-join`;
Object.assign(process.env, {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: hubCredentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: hubCredentials.secretAccessKey,
  MANAGED_CLUSTERS: 'prod',
  HUB_ACCOUNT_ID: HUB,
  // the member's clusters: prod and batch (the hub manages prod only)
  MEMBER_ACCOUNTS: '444455556666:us-east-1:prod+batch',
  MEMBER_ROLE_NAME: 'test-Drain',
  MEMBER_EXTERNAL_ID: 'ext-1',
  NODE_DRAIN_STATE_MACHINE_ARN: DRAIN_MACHINE,
  NODE_JOIN_STATE_MACHINE_ARN: JOIN_MACHINE,
  DRAIN_TABLE: 'drains',
  CHATOPS_TABLE: 'chatops',
});
quietLogs();

const ec2 = mockClient(EC2Client);
const autoscaling = mockClient(AutoScalingClient);
const eks = mockClient(EKSClient);
const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBDocumentClient);
const sts = mockClient(STSClient);
const mocks = [ec2, autoscaling, eks, sfn, ddb, sts];
const clock = new VirtualClock(Date.parse('2026-11-21T09:00:30Z'));
const restoreTime = useTimeSource(() => clock.now());

const INSTANCE = 'i-1234567890abcdef0';
const NODE = 'ip-10-0-1-5.ec2.internal';
const launch = JSON.parse(readFileSync(new URL('../events/autoscaling-launch-lifecycle-action.json', import.meta.url), 'utf8'));
const terminate = (place: { account: string; region: string }) => ({
  ...launch,
  ...place,
  'detail-type': 'EC2 Instance-terminate Lifecycle Action',
  detail: { ...launch.detail, LifecycleHookName: 'eks-node-lifecycle-drain', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', Origin: 'AutoScalingGroup', Destination: 'EC2' },
});
const atMember = { account: MEMBER.accountId, region: MEMBER.region };
const atHub = { account: HUB, region: 'eu-west-1' };

/** Where a mocked call went: the credentials its client signed with, and its region. */
async function where(call: { thisValue: any }): Promise<string> {
  const config = call.thisValue.config;
  return `${(await config.credentials()).accessKeyId}@${await config.region()}`;
}
async function wheres(calls: { thisValue: any }[]): Promise<Set<string>> {
  return new Set(await Promise.all(calls.map(where)));
}
const MEMBER_SCOPE = `${memberCredentials.accessKeyId}@us-east-1`;
const HUB_SCOPE = `${hubCredentials.accessKeyId}@eu-west-1`;
const allCalls = () => mocks.flatMap((m): { thisValue: any }[] => m.calls());

/** A cluster per account: each API server accepts only tokens its account's credentials signed (the member's: its role, through its access entry). */
const clusters = {
  hub: { store: new KubeStore(clock), tokens: [] as string[], server: undefined as any },
  member: { store: new KubeStore(clock), tokens: [] as string[], server: undefined as any },
};
const tokenRegion = (token: string) => new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8')).searchParams.get('X-Amz-Credential')!.split('/')[2];

const handlers: Record<string, (event: unknown, context: unknown) => Promise<any>> = {};
before(async () => {
  for (const [name, credentials] of [['hub', hubCredentials], ['member', memberCredentials]] as const) {
    const cluster = clusters[name];
    cluster.server = await startKubeApiServer({
      clock,
      store: cluster.store,
      clusterName: 'batch',
      authenticate: async (token) => {
        cluster.tokens.push(token);
        return (await authenticateEksToken(token, { cluster: 'batch', credentials, now: () => clock.now() })).ok;
      },
    });
  }
  for (const fn of ['request-drain', 'tag-instance', 'drain-step', 'finish-drain', 'complete-lifecycle-action', 'check-node-ready']) {
    ({ handler: handlers[fn]! } = await import(`../../functions/${fn}.js`));
  }
});
after(async () => {
  restoreTime();
  await clusters.hub.server.close();
  await clusters.member.server.close();
});

function instance(tags: Record<string, string>, az = 'us-east-1a'): DescribeInstancesCommandOutput {
  return { $metadata: {}, Reservations: [{ Instances: [{ InstanceId: INSTANCE, State: { Name: 'running' }, PrivateDnsName: NODE, Placement: { AvailabilityZone: az }, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }] }] };
}
function group(tags: Record<string, string>) {
  return { AutoScalingGroups: [{ AutoScalingGroupName: 'prod-workers', MinSize: 0, MaxSize: 3, DesiredCapacity: 1, DefaultCooldown: 300, AvailabilityZones: [], HealthCheckType: 'EC2', CreatedTime: new Date(), Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value, PropagateAtLaunch: true })) }] };
}

beforeEach(() => {
  for (const m of mocks) m.reset();
  for (const c of Object.values(clusters)) {
    c.tokens.length = 0;
    for (const n of c.store.list('nodes')) c.store.delete('nodes', undefined, (n as any).metadata.name, { gracePeriodSeconds: 0 });
  }
  sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: memberCredentials.accessKeyId, SecretAccessKey: memberCredentials.secretAccessKey, SessionToken: memberCredentials.sessionToken, Expiration: new Date(clock.now() + 3_600_000) } });
  ec2.on(DescribeInstancesCommand).resolves(instance({ 'aws:autoscaling:groupName': 'prod-workers' }));
  ec2.on(CreateTagsCommand).resolves({});
  autoscaling.on(DescribeAutoScalingGroupsCommand).resolves(group({ 'kubernetes.io/cluster/batch': 'owned' }));
  autoscaling.on(DescribeLifecycleHooksCommand).resolves({ LifecycleHooks: [{ LifecycleHookName: 'eks-node-lifecycle-launch', AutoScalingGroupName: 'prod-workers', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 600, DefaultResult: 'ABANDON' }] });
  autoscaling.on(CreateOrUpdateTagsCommand).resolves({});
  autoscaling.on(CompleteLifecycleActionCommand).resolves({});
  // each account's cluster is found in its own account and region
  eks.on(DescribeClusterCommand).callsFake(async (_input, getClient) => {
    const server = (await getClient().config.region()) === MEMBER.region ? clusters.member.server : clusters.hub.server;
    return { cluster: { name: 'batch', endpoint: server.url, certificateAuthority: { data: server.caData }, version: '1.31' } };
  });
  ddb.on(GetCommand).resolves({});
  ddb.on(UpdateCommand).callsFake((input) => ({ Attributes: { instanceId: input.Key.instanceId, cluster: 'batch', status: input.ExpressionAttributeValues[':status'] ?? 'running', generation: input.ExpressionAttributeValues[':generation'] ?? 0, revision: input.ExpressionAttributeValues[':revision'] } }));
  sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}`, startDate: new Date() }));
});

describe('Lifecycle handlers: a member account\'s nodes', () => {
  it('a terminate hook forwarded from the member drains there: EC2 and Auto Scaling as the member role, the record and the execution in the hub, both named for the place', async () => {
    const out = await handlers['request-drain']!(terminate(atMember), lambdaContext());
    assert.equal(out.outcome, 'started', out.reason);
    assert.equal(out.cluster, 'batch', 'the member\'s allow-list, not the hub\'s');
    assert.equal(out.executionName, `drain-444455556666-us-east-1-${INSTANCE}-0`);
    assert.deepEqual(await wheres([...ec2.calls(), ...autoscaling.calls()]), new Set([MEMBER_SCOPE]));
    // their credentials: the member role's (the mocks resolve them only when asked, as above), assumed once
    assert.deepEqual(sts.commandCalls(AssumeRoleCommand).map((c) => [c.args[0].input.RoleArn, c.args[0].input.ExternalId]), [['arn:aws:iam::444455556666:role/eks-node-lifecycle/test-Drain-us-east-1', 'ext-1']]);
    assert.deepEqual(await wheres([...ddb.calls(), ...sfn.calls()]), new Set([HUB_SCOPE]));
    const update = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    assert.deepEqual(update.Key, { instanceId: `444455556666/us-east-1/${INSTANCE}` });
    const started = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    assert.equal(started.stateMachineArn, DRAIN_MACHINE);
    const input = JSON.parse(started.input!);
    assert.deepEqual([input.accountId, input.region, input.cluster], [MEMBER.accountId, MEMBER.region, 'batch']);
  });

  it('the hub\'s own event is as before: its record key, execution name and input without a place, no role assumed, its allow-list', async () => {
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves(group({ 'kubernetes.io/cluster/prod': 'owned' }));
    const out = await handlers['request-drain']!(terminate(atHub), lambdaContext());
    assert.equal(out.outcome, 'started', out.reason);
    assert.equal(out.executionName, `drain-${INSTANCE}-0`);
    assert.deepEqual(ddb.commandCalls(UpdateCommand)[0]!.args[0].input.Key, { instanceId: INSTANCE });
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!);
    assert.equal('accountId' in input || 'region' in input, false);
    assert.equal(sts.calls().length, 0);
    assert.deepEqual(await wheres(allCalls()), new Set([HUB_SCOPE]));

    // batch is the member's, not the hub's
    for (const m of mocks) m.resetHistory();
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves(group({ 'kubernetes.io/cluster/batch': 'owned' }));
    const other = await handlers['request-drain']!(terminate(atHub), lambdaContext());
    assert.deepEqual([other.outcome, other.reason], ['ignored', 'cluster batch is not managed by this deployment']);
  });

  it('an event from an account or region nobody listed is ignored, saying so, and nothing is called', async () => {
    for (const place of [{ account: '999988887777', region: 'us-east-1' }, { account: MEMBER.accountId, region: 'eu-west-1' }, { account: HUB, region: 'us-east-1' }]) {
      const out = await handlers['request-drain']!(terminate(place), lambdaContext());
      assert.deepEqual([out.outcome, out.reason], ['ignored', `${place.account}/${place.region} is not a place of this deployment (memberAccounts)`]);
      const tagged = await handlers['tag-instance']!({ ...launch, ...place }, lambdaContext());
      assert.equal(tagged.outcome, 'ignored');
    }
    const manual = await handlers['request-drain']!({ kind: 'manual-drain', accountId: '999988887777', region: 'us-east-1', cluster: 'prod', instanceId: INSTANCE, requestedBy: 'slack:T1:U1' }, lambdaContext());
    assert.equal(manual.outcome, 'ignored');
    assert.deepEqual(allCalls(), []);
  });

  it('a rollout\'s drain request names the member\'s place, and its drain starts there', async () => {
    const rollout = { kind: 'rollout-drain', ...MEMBER, cluster: 'batch', instanceId: INSTANCE, rolloutExecutionArn: `arn:aws:states:eu-west-1:${HUB}:execution:eks-node-lifecycle-test-ami-rollout:batch-workers-1` };
    const out = await handlers['request-drain']!(rollout, lambdaContext());
    assert.equal(out.outcome, 'started', out.reason);
    assert.equal(out.executionName, `drain-444455556666-us-east-1-${INSTANCE}-0`);
    assert.deepEqual(await wheres(ec2.calls()), new Set([MEMBER_SCOPE]));
  });

  it('a launch forwarded from the member is tagged there, and its node-join starts in the hub named for the place', async () => {
    const out = await handlers['tag-instance']!({ ...launch, ...atMember }, lambdaContext());
    assert.equal(out.outcome, 'tagged');
    assert.deepEqual(ec2.commandCalls(CreateTagsCommand).map((c) => c.args[0].input.Tags), [[{ Key: 'kubernetes.io/cluster/batch', Value: 'owned' }]]);
    assert.deepEqual(await wheres([...ec2.calls(), ...autoscaling.calls()]), new Set([MEMBER_SCOPE]));
    const started = sfn.commandCalls(StartExecutionCommand)[0]!;
    assert.equal(await where(started), HUB_SCOPE);
    assert.match(started.args[0].input.name!, new RegExp(`^join-444455556666-us-east-1-${INSTANCE}-[0-9a-f]{16}$`));
    const input = JSON.parse(started.args[0].input.input!);
    assert.deepEqual([input.accountId, input.region], [MEMBER.accountId, MEMBER.region]);
  });

  it('a drain pass in the member: the instance read and the cluster found there, the token signed by the member role for its region, the record keyed for the place', async () => {
    const executionArn = `arn:aws:states:eu-west-1:${HUB}:execution:eks-node-lifecycle-test-node-drain:drain-444455556666-us-east-1-${INSTANCE}-0`;
    ddb.on(GetCommand).resolves({ Item: { instanceId: `444455556666/us-east-1/${INSTANCE}`, accountId: MEMBER.accountId, region: MEMBER.region, cluster: 'batch', status: 'running', generation: 0, executionArn, leaseUntil: new Date(clock.now() + 600_000).toISOString(), revision: 1, updatedAt: '', expiresAt: 0 } });
    createNode(clusters.member.store, { name: NODE, providerID: `aws:///us-east-1a/${INSTANCE}` });
    const out = await handlers['drain-step']!(
      {
        ...MEMBER,
        cluster: 'batch',
        instanceId: INSTANCE,
        trigger: 'terminate-hook',
        deadline: new Date(clock.now() + 900_000).toISOString(),
        policy: { drainTimeoutSeconds: 900, onDrainTimeout: 'fail', maxGracePeriodSeconds: 600 },
        startedAt: new Date(clock.now()).toISOString(),
        nodeName: null,
        mode: 'evict',
        loop: null,
        executionArn,
      },
      lambdaContext(),
    );
    assert.equal(out.nodeName, NODE);
    assert.equal(out.next, 'drained');
    assert.ok(clusters.member.tokens.length > 0 && clusters.hub.tokens.length === 0, 'the member\'s cluster, not the hub\'s');
    assert.deepEqual(new Set(clusters.member.tokens.map(tokenRegion)), new Set(['us-east-1']));
    assert.deepEqual(await wheres([...ec2.calls(), ...eks.calls()]), new Set([MEMBER_SCOPE]));
    assert.deepEqual(ddb.commandCalls(GetCommand).map((c) => c.args[0].input.Key), [{ instanceId: `444455556666/us-east-1/${INSTANCE}` }]);
    assert.equal((clusters.member.store.get('nodes', undefined, NODE) as any).spec.unschedulable, true, 'cordoned in the member\'s cluster');
  });

  it('the node-join steps check the node and complete the launch hook in the member', async () => {
    const lifecycleAction = { autoScalingGroupName: 'prod-workers', lifecycleHookName: 'eks-node-lifecycle-launch', lifecycleActionToken: launch.detail.LifecycleActionToken, instanceId: INSTANCE };
    createNode(clusters.member.store, { name: NODE, providerID: `aws:///us-east-1a/${INSTANCE}`, zone: 'us-east-1a', ready: true });
    const checked = await handlers['check-node-ready']!({ ...MEMBER, cluster: 'batch', instanceId: INSTANCE, lifecycleAction, deadline: new Date(clock.now() + 600_000).toISOString() }, lambdaContext());
    assert.deepEqual([checked.status, checked.nodeName], ['ready', NODE]);
    assert.ok(clusters.member.tokens.length > 0 && clusters.hub.tokens.length === 0);
    const completed = await handlers['complete-lifecycle-action']!({ ...MEMBER, lifecycleAction, result: 'CONTINUE', cluster: 'batch' }, lambdaContext());
    assert.equal(completed.completed, true);
    const calls = autoscaling.commandCalls(CompleteLifecycleActionCommand);
    assert.deepEqual(await wheres([...calls, ...ec2.calls(), ...eks.calls()]), new Set([MEMBER_SCOPE]));
    assert.equal(calls[0]!.args[0].input.LifecycleActionToken, launch.detail.LifecycleActionToken);
  });

  it('a workflow step naming a place the fleet does not list is an input error, calling nothing', async () => {
    const lifecycleAction = { autoScalingGroupName: 'prod-workers', lifecycleHookName: 'eks-node-lifecycle-launch', lifecycleActionToken: launch.detail.LifecycleActionToken, instanceId: INSTANCE };
    await assert.rejects(handlers['complete-lifecycle-action']!({ accountId: '999988887777', region: 'us-east-1', lifecycleAction, result: 'CONTINUE' }, lambdaContext()), (e: unknown) => e instanceof InvalidInputError || (e as Error).name === 'InvalidInputError');
    assert.deepEqual(allCalls(), []);
  });
});
