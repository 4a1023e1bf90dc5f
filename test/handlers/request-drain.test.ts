import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AutoScalingClient, CompleteLifecycleActionCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, type DescribeInstancesCommandOutput, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { useTimeSource } from '../../shared/clock.js';
import { authenticateEksToken, createNode, createPod, KubeStore, startKubeApiServer, VirtualClock } from '@eks-node-lifecycle/sandbox';
import { lambdaContext, quietLogs } from './lambda-context.js';

/** AWS calls are mocked; the Kubernetes side (is a drained node still drained?) is the sandbox API server. */
const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:eks-node-lifecycle-test-node-drain';
const EXECUTION = (n: number) => `arn:aws:states:eu-west-1:123456789012:execution:eks-node-lifecycle-test-node-drain:drain-i-1234567890abcdef0-${n}`;
const ROLLOUT = 'arn:aws:states:eu-west-1:123456789012:execution:eks-node-lifecycle-test-ami-rollout:prod-workers-ami-1';
const credentials = { accessKeyId: 'AKIDHANDLERTEST', secretAccessKey: 'handler-test' };
Object.assign(process.env, {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  MANAGED_CLUSTERS: 'prod',
  NODE_DRAIN_STATE_MACHINE_ARN: STATE_MACHINE,
  DRAIN_TABLE: 'drains',
  CHATOPS_TABLE: 'chatops',
});
quietLogs();

const ec2 = mockClient(EC2Client);
const autoscaling = mockClient(AutoScalingClient);
const eks = mockClient(EKSClient);
const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBDocumentClient);
const clock = new VirtualClock(Date.parse('2026-11-21T09:00:30Z'));
const restoreTime = useTimeSource(() => clock.now());
const store = new KubeStore(clock);
let server: Awaited<ReturnType<typeof startKubeApiServer>>;

const launch = JSON.parse(readFileSync(new URL('../events/autoscaling-launch-lifecycle-action.json', import.meta.url), 'utf8'));
const terminate = {
  ...launch,
  time: '2026-11-21T09:00:00Z',
  'detail-type': 'EC2 Instance-terminate Lifecycle Action',
  // the hook ensureTerminateHooks installs: the service answers only its own hooks
  detail: { ...launch.detail, LifecycleHookName: 'eks-node-lifecycle-drain', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', Origin: 'AutoScalingGroup', Destination: 'EC2' },
};
const TOKEN = terminate.detail.LifecycleActionToken as string;
const HOOK = terminate.detail.LifecycleHookName as string;
const spot = {
  version: '0', id: '1e5527d7-bb36-4607-3370-4164db56a40e', 'detail-type': 'EC2 Spot Instance Interruption Warning', source: 'aws.ec2', account: '123456789012',
  time: '2026-11-21T09:00:00Z', region: 'eu-west-1', resources: ['arn:aws:ec2:eu-west-1a:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', 'instance-action': 'terminate' },
};
const manual = { kind: 'manual-drain', cluster: 'prod', instanceId: 'i-1234567890abcdef0', requestedBy: 'slack:T1:U0OPS' };
const NODE = 'ip-10-0-1-5.eu-west-1.compute.internal';

let handler: (event: unknown, context: unknown) => Promise<any>;
before(async () => {
  server = await startKubeApiServer({
    clock,
    store,
    clusterName: 'prod',
    authenticate: async (token) => (await authenticateEksToken(token, { cluster: 'prod', credentials, now: () => clock.now() })).ok,
  });
  ({ handler } = await import('../../functions/request-drain.js'));
});
after(async () => {
  restoreTime();
  await server.close();
});

function instance(tags: Record<string, string>): DescribeInstancesCommandOutput {
  return { $metadata: {}, Reservations: [{ Instances: [{ InstanceId: 'i-1234567890abcdef0', State: { Name: 'running' }, PrivateDnsName: NODE, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }] }] };
}
function group(tags: Record<string, string>) {
  return { AutoScalingGroups: [{ AutoScalingGroupName: 'prod-workers', MinSize: 0, MaxSize: 3, DesiredCapacity: 1, DefaultCooldown: 300, AvailabilityZones: [], HealthCheckType: 'EC2', CreatedTime: new Date(), Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value, PropagateAtLaunch: true })) }] };
}
/** A drain record as stored. */
function stored(status: string, extra: Record<string, unknown> = {}) {
  return { Item: { instanceId: 'i-1234567890abcdef0', cluster: 'prod', status, generation: 2, triggers: ['terminate-hook'], executionArn: EXECUTION(2), revision: 7, updatedAt: '2026-11-07T09:00:00Z', expiresAt: 0, ...extra } };
}
const lease = (seconds: number) => new Date(clock.now() + seconds * 1000).toISOString();
const openAction = (hook: string, token: string) => ({ autoScalingGroupName: 'prod-workers', lifecycleHookName: hook, lifecycleActionToken: token, instanceId: 'i-1234567890abcdef0', openedAt: '2026-11-21T08:59:00Z', state: 'open' });

/** The node as the last drain left it: cordoned by us; then, optionally, a person uncordons it and it fills again. */
function node(options: { cordonedByUs: boolean; pods: number }) {
  for (const n of store.list('nodes')) store.delete('nodes', undefined, (n as any).metadata.name, { gracePeriodSeconds: 0 });
  for (const p of store.list('pods')) store.delete('pods', (p as any).metadata.namespace, (p as any).metadata.name, { gracePeriodSeconds: 0 });
  createNode(store, {
    name: NODE,
    providerID: 'aws:///eu-west-1a/i-1234567890abcdef0',
    ...(options.cordonedByUs ? { unschedulable: true, taints: [{ key: 'eks-node-lifecycle/draining', effect: 'NoSchedule' }] } : {}),
  });
  for (let i = 0; i < options.pods; i++) createPod(store, { namespace: 'shop', name: `web-${i}`, labels: { app: 'web' }, nodeName: NODE });
}

const updates = () => ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
const writes = () => [...ddb.commandCalls(UpdateCommand), ...sfn.commandCalls(StartExecutionCommand), ...autoscaling.commandCalls(CompleteLifecycleActionCommand)];
const startedNames = () => sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name);
const completions = () => autoscaling.commandCalls(CompleteLifecycleActionCommand).map((c) => `${c.args[0].input.LifecycleHookName}:${c.args[0].input.LifecycleActionResult}`);

describe('Handler: request-drain', () => {
  beforeEach(() => {
    for (const m of [ec2, autoscaling, eks, sfn, ddb]) m.reset();
    ec2.on(DescribeInstancesCommand).resolves(instance({ 'aws:autoscaling:groupName': 'prod-workers' }));
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves(group({ 'kubernetes.io/cluster/prod': 'owned', 'eks-node-lifecycle/drain-timeout': '30m' }));
    autoscaling.on(CompleteLifecycleActionCommand).resolves({});
    eks.on(DescribeClusterCommand, { name: 'prod' }).resolves({ cluster: { name: 'prod', endpoint: server.url, certificateAuthority: { data: server.caData }, version: '1.31' } });
    ddb.on(GetCommand).resolves({});
    ddb.on(UpdateCommand).callsFake((input) => ({ Attributes: { instanceId: input.Key.instanceId, cluster: 'prod', status: input.ExpressionAttributeValues[':status'] ?? 'running', generation: input.ExpressionAttributeValues[':generation'] ?? 2, actions: input.ExpressionAttributeValues[':actions'], revision: input.ExpressionAttributeValues[':revision'] } }));
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${STATE_MACHINE}:drain`, startDate: new Date() });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
  });

  it('starts drain-<instance>-0 for a terminate hook: the group\'s policy, the action noted open since the event, a short lease', async () => {
    const out = await handler(terminate, lambdaContext());
    assert.equal(out.outcome, 'started');
    const start = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    assert.equal(start.name, 'drain-i-1234567890abcdef0-0');
    const input = JSON.parse(start.input!);
    assert.equal(input.trigger, 'terminate-hook');
    assert.deepEqual(input.policy, { drainTimeoutSeconds: 1800, onDrainTimeout: 'fail', maxGracePeriodSeconds: 600 });
    const [update] = updates();
    assert.equal(update!.ConditionExpression, 'attribute_not_exists(instanceId)', 'written only if no drain record appeared meanwhile');
    assert.deepEqual(update!.ExpressionAttributeValues![':actions'][HOOK], { autoScalingGroupName: 'prod-workers', lifecycleHookName: HOOK, lifecycleActionToken: TOKEN, instanceId: 'i-1234567890abcdef0', openedAt: '2026-11-21T09:00:00.000Z', state: 'open' });
    assert.equal(update!.ExpressionAttributeValues![':executionArn'], EXECUTION(0));
    assert.equal(update!.ExpressionAttributeValues![':leaseUntil'], lease(90), 'the new execution\'s first pass renews it');
    assert.equal(sfn.commandCalls(DescribeExecutionCommand).length, 0);
  });

  it('joins a running drain whose lease holds, noting the action on the record as it was read, starting nothing', async () => {
    ddb.on(GetCommand).resolves(stored('running', { leaseUntil: lease(300) }));
    const out = await handler(terminate, lambdaContext());
    assert.equal(out.outcome, 'joined');
    assert.deepEqual(writes().length, 1);
    const [update] = updates();
    assert.equal(update!.ConditionExpression, '#revision = :seenRevision');
    assert.equal(update!.ExpressionAttributeValues![':seenRevision'], 7);
    assert.equal(update!.ExpressionAttributeValues![':actions'][HOOK].state, 'open');
    assert.deepEqual(sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input.executionArn), [EXECUTION(2)], 'a hook is trusted to a live owner only');
  });

  it('joins a running drain whose lease holds without asking Step Functions, for a trigger that brings no hook', async () => {
    ddb.on(GetCommand).resolves(stored('running', { leaseUntil: lease(300) }));
    assert.equal((await handler(spot, lambdaContext())).outcome, 'joined');
    assert.equal(sfn.commandCalls(DescribeExecutionCommand).length, 0);
  });

  it('does not trust a hook to a stopped owner within its lease: takes the drain over', async () => {
    ddb.on(GetCommand).resolves(stored('running', { leaseUntil: lease(300) }));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'ABORTED' });
    assert.equal((await handler(terminate, lambdaContext())).outcome, 'started');
    assert.deepEqual(startedNames(), ['drain-i-1234567890abcdef0-3']);
  });

  it('trusts the lease of an execution Step Functions does not show yet (just started: DescribeExecution is eventually consistent)', async () => {
    ddb.on(GetCommand).resolves(stored('running', { leaseUntil: lease(80) }));
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));
    assert.equal((await handler(terminate, lambdaContext())).outcome, 'joined');
    assert.deepEqual(startedNames(), []);
  });

  it('a running drain past its lease: joins it when Step Functions says its owner runs (a rollout, say)', async () => {
    ddb.on(GetCommand).resolves(stored('running', { leaseUntil: lease(-60), executionArn: ROLLOUT }));
    sfn.on(DescribeExecutionCommand, { executionArn: ROLLOUT }).resolves({ status: 'RUNNING' });
    const out = await handler(terminate, lambdaContext());
    assert.equal(out.outcome, 'joined');
    assert.deepEqual(startedNames(), []);
  });

  for (const [owner, answer] of [['stopped', { status: 'ABORTED' }], ['unknown to Step Functions', new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} })]] as const) {
    it(`a running drain past its lease whose execution is ${owner}: takes it over (the next generation), keeping its open actions`, async () => {
      ddb.on(GetCommand).resolves(stored('running', { leaseUntil: lease(-60), actions: { other: openAction('other', '99999999-9999-4999-8999-999999999999') } }));
      if (answer instanceof Error) sfn.on(DescribeExecutionCommand).rejects(answer);
      else sfn.on(DescribeExecutionCommand).resolves(answer);
      const out = await handler(spot, lambdaContext());
      assert.equal(out.outcome, 'started');
      assert.deepEqual(startedNames(), ['drain-i-1234567890abcdef0-3']);
      assert.equal(updates()[0]!.ExpressionAttributeValues![':executionArn'], EXECUTION(3));
      assert.equal(updates()[0]!.ExpressionAttributeValues![':actions'], undefined, 'the actions stay as they are: the new owner keeps them alive');
    });
  }

  it('a record of the old shape (one lifecycleAction, no lease, no revision) is checked, and read as one of the actions', async () => {
    const legacy = { autoScalingGroupName: 'prod-workers', lifecycleHookName: 'old-hook', lifecycleActionToken: '22222222-2222-4222-8222-222222222222', instanceId: 'i-1234567890abcdef0' };
    ddb.on(GetCommand).resolves({ Item: { instanceId: 'i-1234567890abcdef0', cluster: 'prod', status: 'running', generation: 0, triggers: ['spot-interruption'], lifecycleAction: legacy, executionArn: EXECUTION(0), updatedAt: '2026-11-21T08:00:00Z', expiresAt: 0 } });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED' });
    const out = await handler(terminate, lambdaContext());
    assert.equal(out.outcome, 'started');
    const [update] = updates();
    assert.match(update!.ConditionExpression!, /attribute_not_exists\(#revision\)/);
    assert.deepEqual(Object.keys(update!.ExpressionAttributeValues![':actions']).sort(), ['old-hook', HOOK].sort(), 'both actions, each to keep alive and complete');
    assert.equal(update!.ExpressionAttributeValues![':actions']['old-hook'].state, 'open');
    assert.match(update!.UpdateExpression!, /REMOVE #legacyAction/);
  });

  it('completes every open action at once when the node is still drained: cordoned by us, nothing to evict', async () => {
    node({ cordonedByUs: true, pods: 0 });
    ddb.on(GetCommand).resolves(stored('drained', { actions: { second: openAction('second', '33333333-3333-4333-8333-333333333333') } }));
    const out = await handler(terminate, lambdaContext());
    assert.equal(out.outcome, 'completed-now');
    assert.deepEqual(completions().sort(), [`${HOOK}:CONTINUE`, 'second:CONTINUE'].sort());
    const marked = updates().at(-1)!.ExpressionAttributeValues![':actions'];
    assert.deepEqual(Object.values(marked).map((a: any) => a.state), ['completed', 'completed']);
    assert.deepEqual(startedNames(), []);
  });

  it('drains afresh a node drained long ago that a person uncordoned and that filled again (B3), completing nothing', async () => {
    node({ cordonedByUs: false, pods: 3 });
    ddb.on(GetCommand).resolves(stored('drained'));
    const out = await handler(terminate, lambdaContext());
    assert.equal(out.outcome, 'started');
    assert.deepEqual(startedNames(), ['drain-i-1234567890abcdef0-3']);
    assert.deepEqual(completions(), []);
    assert.match(out.reason, /no longer cordoned by this service/);
  });

  it('drains afresh a node still cordoned by us that has pods again', async () => {
    node({ cordonedByUs: true, pods: 1 });
    ddb.on(GetCommand).resolves(stored('forced'));
    assert.equal((await handler(terminate, lambdaContext())).outcome, 'started');
    assert.deepEqual(completions(), []);
  });

  it('answers a person "already drained" only while it is so', async () => {
    ddb.on(GetCommand).resolves(stored('drained'));
    node({ cordonedByUs: true, pods: 0 });
    const still = await handler(manual, lambdaContext());
    assert.equal(still.outcome, 'ignored');
    assert.match(still.reason, /still drained/);
    node({ cordonedByUs: false, pods: 2 });
    assert.equal((await handler(manual, lambdaContext())).outcome, 'started');
  });

  it('reads again and decides again when the record changed between its read and its write (the drain ended meanwhile)', async () => {
    node({ cordonedByUs: true, pods: 0 });
    ddb.on(GetCommand).resolvesOnce(stored('running', { leaseUntil: lease(300) })).resolves(stored('drained', { revision: 8 }));
    ddb.on(UpdateCommand).rejectsOnce(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} })).callsFake((input) => ({ Attributes: { instanceId: 'i-1234567890abcdef0', cluster: 'prod', status: 'drained', generation: 2, actions: input.ExpressionAttributeValues[':actions'], revision: 9 } }));
    const out = await handler(terminate, lambdaContext());
    assert.equal(out.outcome, 'completed-now', 'the joined drain ended before the action was noted: nobody else would complete it');
    assert.deepEqual(completions(), [`${HOOK}:CONTINUE`]);
  });

  it('bounds a spot drain by the two-minute notice', async () => {
    await handler(spot, lambdaContext());
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!);
    assert.equal(input.deadline, '2026-11-21T09:01:45.000Z');
    assert.equal(input.trigger, 'spot-interruption');
  });

  it('ignores instances of other clusters and untagged ones, changing nothing', async () => {
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves(group({ 'kubernetes.io/cluster/dev': 'owned' }));
    assert.equal((await handler(terminate, lambdaContext())).outcome, 'ignored');
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves(group({}));
    assert.equal((await handler(terminate, lambdaContext())).outcome, 'ignored');
    assert.deepEqual(writes(), []);
  });

  it('refuses a manual request naming the wrong cluster for the instance', async () => {
    await assert.rejects(handler({ ...manual, cluster: 'staging' }, lambdaContext()), { name: 'InvalidInputError' });
    assert.deepEqual(writes(), []);
  });

  it('leaves another tool\'s terminate hook alone: no drain, no heartbeat, no completion', async () => {
    // Prepare: a log shipper flushes on its own hook, on a group the service drains
    const other = { ...terminate, detail: { ...terminate.detail, LifecycleHookName: 'log-shipper-flush' } };
    // Act
    const out = await handler(other, lambdaContext());
    // Assess
    assert.equal(out.outcome, 'ignored');
    assert.match(out.reason, /terminate hook log-shipper-flush is not this service's/);
    assert.deepEqual(writes(), []);
  });

  it('answers a hook the group names as the service\'s (eks-node-lifecycle/terminate-hook)', async () => {
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves(group({ 'kubernetes.io/cluster/prod': 'owned', 'eks-node-lifecycle/terminate-hook': 'drain' }));
    const out = await handler({ ...terminate, detail: { ...terminate.detail, LifecycleHookName: 'drain' } }, lambdaContext());
    assert.equal(out.outcome, 'started');
  });

  it('ignores a rebalance recommendation unless the group asks for rebalance=drain', async () => {
    const rebalance = { ...spot, 'detail-type': 'EC2 Instance Rebalance Recommendation', detail: { 'instance-id': 'i-1234567890abcdef0' } };
    const out = await handler(rebalance, lambdaContext());
    assert.deepEqual([out.outcome, out.reason], ['ignored', "the group's policy ignores rebalance recommendations"]);
    assert.deepEqual(writes(), []);
    autoscaling.on(DescribeAutoScalingGroupsCommand).resolves(group({ 'kubernetes.io/cluster/prod': 'owned', 'eks-node-lifecycle/rebalance': 'drain' }));
    assert.equal((await handler(rebalance, lambdaContext())).outcome, 'started');
  });

  it('drains an owned node on the spot sample of the AWS documentation, placeholders and all, counting from now', async () => {
    const sample = JSON.parse(readFileSync(new URL('../events/ec2-spot-instance-interruption-warning.json', import.meta.url), 'utf8'));
    // the sample is us-east-2's: a region this deployment does not look after (its rule would not see it)
    const elsewhere = await handler(sample, lambdaContext());
    assert.deepEqual([elsewhere.outcome, elsewhere.reason], ['ignored', '123456789012/us-east-2 is not a place of this deployment (memberAccounts)']);
    assert.deepEqual(writes(), []);
    const out = await handler({ ...sample, region: 'eu-west-1' }, lambdaContext());
    assert.equal(out.outcome, 'started');
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!);
    assert.equal(input.trigger, 'spot-interruption');
    assert.equal(input.deadline, new Date(clock.now() + 105_000).toISOString(), 'a time that is not one reads as now: the notice ends two minutes on');
  });

  it('leaves a Karpenter node to Karpenter, saying so', async () => {
    ec2.on(DescribeInstancesCommand).resolves(instance({ 'kubernetes.io/cluster/prod': 'owned', 'karpenter.sh/nodepool': 'default' }));
    const out = await handler(spot, lambdaContext());
    assert.deepEqual([out.outcome, out.reason], ['ignored', 'managed by Karpenter (karpenter.sh/nodepool=default, no Auto Scaling group): Karpenter drains and replaces its own nodes — use its disruption budgets, or kubectl delete node']);
    assert.deepEqual(writes(), []);
  });

  it('rejects bad and hostile events with InvalidInputError and calls nothing', async () => {
    const hostile = [
      { ...terminate, detail: { ...terminate.detail, EC2InstanceId: 'i-123; aws ec2 terminate-instances' } },
      { ...terminate, detail: { ...terminate.detail, LifecycleActionToken: '../../etc/passwd' } },
      { ...spot, source: 'evil.corp' },
      { kind: 'manual-drain', cluster: 'prod', nodeName: '../../kube-system', requestedBy: 'U1' },
      { kind: 'manual-drain', cluster: 'prod', instanceId: 'i-1234567890abcdef0', nodeName: 'ip-10-0-1-5', requestedBy: 'U1' },
      { kind: 'manual-drain', cluster: 'prod', instanceId: 'i-1234567890abcdef0' },
      { ...spot, detail: { 'instance-id': 'i-1234567890abcdef0', 'instance-action': '' } },
      { ...spot, detail: { 'instance-id': 'i-1234567890abcdef0' } },
    ];
    for (const event of hostile) await assert.rejects(handler(event, lambdaContext()), { name: 'InvalidInputError' }, JSON.stringify(event).slice(0, 120));
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.record({ 'detail-type': fc.constantFrom('EC2 Instance-terminate Lifecycle Action', 'EC2 Spot Instance Interruption Warning'), source: fc.string(), detail: fc.jsonValue() }), fc.record({ kind: fc.constant('manual-drain'), cluster: fc.string(), nodeName: fc.string() })), async (event) => {
        await assert.rejects(handler(event, lambdaContext()), { name: 'InvalidInputError' });
      }),
      { numRuns: 500 },
    );
    assert.equal(ec2.calls().length + autoscaling.calls().length + sfn.calls().length + ddb.calls().length, 0);
  });
});
