import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AutoScalingClient, CompleteLifecycleActionCommand, DescribeAutoScalingGroupsCommand, DescribeLifecycleHooksCommand, RecordLifecycleActionHeartbeatCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { awsScope } from '../../shared/aws/clients.js';
import { DrainRecords } from '../../shared/aws/drain-records.js';
import { coreV1Api, policyV1Api } from '../../shared/kube/api.js';
import { KubeRestClient } from '../../shared/kube/rest-client.js';
import { type BatchDrainPorts, drainBatchPass, releaseDrains, startDrains } from '../../shared/rollout/self-managed/drain-batch.js';
import { createNode, createPdb, createPod, KubeStore, startKubeApiServer, VirtualClock } from '@eks-node-lifecycle/sandbox';

/**
 * The rollout's own drains (drain-batch.ts) as the owner of the instances' drain records: the
 * AWS calls mocked (aws-sdk-client-mock), the Kubernetes side the sandbox API server.
 */
const ROLLOUT = 'arn:aws:states:eu-west-1:123456789012:execution:eks-node-lifecycle-test-ami-rollout:roll-prod-workers-1';
const NODE_DRAIN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:eks-node-lifecycle-test-node-drain';
const OTHER = 'arn:aws:states:eu-west-1:123456789012:execution:eks-node-lifecycle-test-node-drain:drain-i-0aaaaaaaaaaaaaaa1-0';
const ID = 'i-0aaaaaaaaaaaaaaa1';
const NODE = 'ip-10-0-1-5.eu-west-1.compute.internal';
const TOKEN = '11111111-2222-4333-8444-555555555555';

const autoscaling = mockClient(AutoScalingClient);
const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBDocumentClient);
const clock = new VirtualClock(Date.parse('2026-11-21T09:30:00Z'));
const store = new KubeStore(clock);
let server: Awaited<ReturnType<typeof startKubeApiServer>>;
let kube: Parameters<typeof drainBatchPass>[2];

const ports = (): BatchDrainPorts => ({
  records: new DrainRecords(awsScope({ region: 'eu-west-1' }), 'drains'),
  aws: awsScope({ region: 'eu-west-1' }),
  nodeDrainStateMachineArn: NODE_DRAIN,
  executionArn: ROLLOUT,
  maxGracePeriodSeconds: 600,
  now: () => new Date(clock.now()),
  log: () => undefined,
});
const minutesFromNow = (m: number) => new Date(clock.now() + m * 60_000).toISOString();
const openAction = { autoScalingGroupName: 'workers', lifecycleHookName: 'drain', lifecycleActionToken: TOKEN, instanceId: ID, openedAt: '2026-11-21T09:20:00.000Z', state: 'open' };
const item = (extra: Record<string, unknown>) => ({ Item: { instanceId: ID, cluster: 'prod', status: 'running', generation: 0, triggers: ['rollout'], executionArn: ROLLOUT, leaseUntil: minutesFromNow(10), revision: 3, updatedAt: '2026-11-21T09:00:00Z', expiresAt: 0, ...extra } });
/** Echoes a conditional write as DynamoDB would answer it (ALL_NEW). */
const echo = (base: Record<string, unknown>) => (input: any) => {
  const v = input.ExpressionAttributeValues;
  return { Attributes: { ...base, ...(v[':status'] ? { status: v[':status'] } : {}), ...(v[':executionArn'] ? { executionArn: v[':executionArn'] } : {}), ...(v[':generation'] !== undefined ? { generation: v[':generation'] } : {}), ...(v[':actions'] ? { actions: v[':actions'] } : {}), revision: v[':revision'] } };
};
const updates = () => ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);

before(async () => {
  server = await startKubeApiServer({ clock, store, clusterName: 'prod', authenticate: () => true });
  const client = new KubeRestClient({ endpoint: server.url, caData: server.caData, token: () => Promise.resolve('t') });
  kube = { core: coreV1Api(client), policy: policyV1Api(client), cluster: 'prod', now: () => new Date(clock.now()) };
  createNode(store, { name: NODE, providerID: `aws:///eu-west-1a/${ID}` });
  createPod(store, { namespace: 'payments', name: 'ledger-0', labels: { app: 'ledger' }, nodeName: NODE });
  createPdb(store, { namespace: 'payments', name: 'ledger', selector: { app: 'ledger' }, minAvailable: '100%' });
  await clock.advance(30_000);
});
after(() => server.close());

beforeEach(() => {
  for (const m of [autoscaling, sfn, ddb]) m.reset();
  autoscaling.on(DescribeLifecycleHooksCommand).resolves({ LifecycleHooks: [{ LifecycleHookName: 'drain', AutoScalingGroupName: 'workers', HeartbeatTimeout: 600, DefaultResult: 'CONTINUE' }] });
  autoscaling.on(RecordLifecycleActionHeartbeatCommand).resolves({});
  autoscaling.on(CompleteLifecycleActionCommand).resolves({});
  sfn.on(StartExecutionCommand).resolves({ executionArn: 'x', startDate: new Date() });
});

describe('Rollout drains: who owns them', () => {
  it('claims a node no drain owns, at generation 0, with a lease', async () => {
    ddb.on(GetCommand).resolves({});
    ddb.on(UpdateCommand).callsFake(echo({}));
    await startDrains([ID], 'prod', ports());
    const [write] = updates();
    assert.equal(write!.ConditionExpression, 'attribute_not_exists(instanceId)');
    assert.deepEqual([write!.ExpressionAttributeValues![':executionArn'], write!.ExpressionAttributeValues![':generation'], write!.ExpressionAttributeValues![':leaseUntil']], [ROLLOUT, 0, minutesFromNow(10)]);
  });

  it('waits for a node-drain that still runs, and takes over one whose lease lapsed and whose execution ended', async () => {
    ddb.on(GetCommand).resolves(item({ executionArn: OTHER, leaseUntil: minutesFromNow(5) }));
    await startDrains([ID], 'prod', ports());
    assert.deepEqual(updates(), [], 'a live owner is waited for');

    ddb.on(GetCommand).resolves(item({ executionArn: OTHER, leaseUntil: minutesFromNow(-1), generation: 4 }));
    ddb.on(UpdateCommand).callsFake(echo({}));
    sfn.on(DescribeExecutionCommand, { executionArn: OTHER }).resolves({ status: 'FAILED' });
    await startDrains([ID], 'prod', ports());
    assert.deepEqual([updates()[0]!.ExpressionAttributeValues![':executionArn'], updates()[0]!.ExpressionAttributeValues![':generation']], [ROLLOUT, 5]);
  });
});

describe('Rollout drains: the hooks that join them', () => {
  it('heartbeats a joined hook when due, before the pass, and never waits past its next heartbeat', async () => {
    ddb.on(GetCommand).resolves(item({ actions: { drain: openAction } }));
    ddb.on(UpdateCommand).callsFake(echo(item({ actions: { drain: openAction } }).Item));
    const pass = await drainBatchPass([{ instanceId: ID, nodeName: NODE }], 'evict', kube, ports());
    assert.equal(autoscaling.commandCalls(RecordLifecycleActionHeartbeatCommand).length, 1, 'opened 10 min ago on a 600 s hook: due');
    assert.equal(autoscaling.commandCalls(RecordLifecycleActionHeartbeatCommand)[0]!.args[0].input.LifecycleActionToken, TOKEN);
    const kept = updates()[0]!.ExpressionAttributeValues![':actions'].drain;
    assert.deepEqual([kept.lastHeartbeatAt, kept.heartbeatEverySeconds], [new Date(clock.now()).toISOString(), 300]);
    assert.equal(pass.done, false);
    assert.match(pass.blockers[0]!, /payments\/ledger-0 \(PodDisruptionBudget payments\/ledger\)/);
    assert.deepEqual(autoscaling.commandCalls(CompleteLifecycleActionCommand), [], 'not while the pod is held');
    assert.ok(pass.waitSeconds(3) <= 300);
  });

  it('completes every open hook with CONTINUE, once, when the node\'s drain ends', async () => {
    const second = { ...openAction, lifecycleHookName: 'log-shipper', lifecycleActionToken: '22222222-2222-4333-8444-555555555555' };
    ddb.on(GetCommand).resolves(item({ actions: { drain: openAction, 'log-shipper': second } }));
    ddb.on(UpdateCommand).callsFake(echo(item({ actions: { drain: openAction, 'log-shipper': second } }).Item));
    const pass = await drainBatchPass([{ instanceId: ID, nodeName: null }], 'evict', kube, ports());
    assert.equal(pass.done, true);
    assert.deepEqual(autoscaling.commandCalls(CompleteLifecycleActionCommand).map((c) => `${c.args[0].input.LifecycleHookName}:${c.args[0].input.LifecycleActionResult}`).sort(), ['drain:CONTINUE', 'log-shipper:CONTINUE']);
    const statuses = updates().map((u) => u.ExpressionAttributeValues![':status']).filter(Boolean);
    assert.deepEqual(statuses, ['node-gone']);
    const marked = updates().at(-1)!.ExpressionAttributeValues![':actions'];
    assert.deepEqual(Object.values(marked).map((a: any) => a.state), ['completed', 'completed']);
  });
});

describe('Rollout drains: putting nodes back in service', () => {
  it('releases its own drains, but hands a drain with an open hook to node-drain (the group\'s policy, the next generation) and says so', async () => {
    ddb.on(GetCommand).resolves(item({ status: 'running', generation: 1, actions: { drain: openAction } }));
    ddb.on(UpdateCommand).callsFake(echo({}));
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [{ AutoScalingGroupName: 'workers', MinSize: 0, MaxSize: 3, DesiredCapacity: 1, DefaultCooldown: 300, AvailabilityZones: [], HealthCheckType: 'EC2', CreatedTime: new Date(), Tags: [{ Key: 'eks-node-lifecycle/drain-timeout', Value: '45m' }] }] });
    const released = await releaseDrains([ID], ports());
    assert.deepEqual(released, { handedOver: [ID] });
    const start = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    assert.equal(start.name, `drain-${ID}-2`);
    const input = JSON.parse(start.input!);
    assert.deepEqual([input.trigger, input.policy.drainTimeoutSeconds, input.rolloutExecutionArn], ['terminate-hook', 2700, ROLLOUT]);
    assert.equal(updates()[0]!.ExpressionAttributeValues![':executionArn'], `${NODE_DRAIN.replace(':stateMachine:', ':execution:')}:drain-${ID}-2`);
    assert.notEqual(updates()[0]!.ExpressionAttributeValues![':status'], 'failed', 'never released');
  });

  it("in a member's place: the group is read there, the hand-over starts node-drain in the hub with the member's place in its input", async () => {
    ddb.on(GetCommand).resolves(item({ status: 'running', generation: 1, actions: { drain: openAction } }));
    ddb.on(UpdateCommand).callsFake(echo({}));
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [{ AutoScalingGroupName: 'workers', MinSize: 0, MaxSize: 3, DesiredCapacity: 1, DefaultCooldown: 300, AvailabilityZones: [], HealthCheckType: 'EC2', CreatedTime: new Date(), Tags: [] }] });
    const member = awsScope({ region: 'eu-west-2', accountId: '444455556666' });
    const hub = awsScope({ region: 'eu-west-1' });
    const base = ports();
    const released = await releaseDrains([ID], { ...base, aws: member, hub, records: base.records.at({ accountId: '444455556666', region: 'eu-west-2' }) });
    assert.deepEqual(released, { handedOver: [ID] });
    const start = sfn.commandCalls(StartExecutionCommand)[0]!;
    assert.equal(await (start.thisValue as SFNClient).config.region(), 'eu-west-1', 'Step Functions: the hub');
    assert.equal(await (autoscaling.commandCalls(DescribeAutoScalingGroupsCommand)[0]!.thisValue as AutoScalingClient).config.region(), 'eu-west-2', 'the group: its place');
    const input = JSON.parse(start.args[0].input.input!);
    assert.deepEqual([input.accountId, input.region, input.cluster], ['444455556666', 'eu-west-2', 'prod']);
  });

  it('releases a finished drain with no open hook (a later hook drains afresh), and leaves another live drain\'s node alone', async () => {
    ddb.on(GetCommand).resolves(item({ status: 'drained', actions: { drain: { ...openAction, state: 'completed' } } }));
    ddb.on(UpdateCommand).callsFake(echo({}));
    assert.deepEqual(await releaseDrains([ID], ports()), { handedOver: [] });
    assert.equal(updates()[0]!.ExpressionAttributeValues![':status'], 'failed');
    assert.deepEqual(sfn.commandCalls(StartExecutionCommand), []);

    ddb.reset();
    ddb.on(GetCommand).resolves(item({ executionArn: OTHER, leaseUntil: minutesFromNow(8) }));
    assert.deepEqual(await releaseDrains([ID], ports()), { handedOver: [ID] }, 'another drain runs on it: not uncordoned');
    assert.deepEqual(updates(), []);
  });
});

describe('Rollout drains: forcing', () => {
  it('reports each pod a force pass deleted, with the budget it went past', async () => {
    ddb.on(GetCommand).resolves(item({}));
    ddb.on(UpdateCommand).callsFake(echo(item({}).Item));
    const pass = await drainBatchPass([{ instanceId: ID, nodeName: NODE }], 'force', kube, ports());
    assert.deepEqual(pass.forced, [{ pod: 'payments/ledger-0', pdb: 'payments/ledger' }]);
    assert.equal(pass.done, false, 'the deleted pod is still shutting down');
  });
});
