import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeLifecycleHooksCommand,
} from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeImagesCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, DescribeNodegroupCommand, EKSClient, ListClustersCommand, ListNodegroupsCommand, ResourceNotFoundException } from '@aws-sdk/client-eks';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetParameterCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type AwsStub, mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { z } from 'zod';
import { parseCommand } from '../../shared/chatops/grammar.js';
import { ERROR_NAMES, InvalidInputError, NodeLifecycleError } from '../../shared/errors.js';
import { lambdaContext, quietLogs } from '../handlers/lambda-context.js';
import { createNode, KubeStore, startKubeApiServer, VirtualClock } from '@eks-node-lifecycle/sandbox';
import { assertNoPrototypePollution, entryPointInputs, type FuzzInput, RUNS, Tally } from './fuzz-inputs.js';

/**
 * Fuzzing every function an EventBridge rule or schedule triggers (tagInstance, requestDrain,
 * detectStaleGroups, screenImageEvent, ensureTerminateHooks, chatNotify) and the directly invoked ones that take
 * an operator's input (chatInvoke, rolloutControl): 10,000 inputs each, generated from nothing
 * or mutated from the real event shapes. For every input:
 * - the function either answers or throws one of the project's typed errors (an error name
 *   `ERROR_NAMES` lists, which the workflows and the failed-events queue can tell apart) —
 *   never a TypeError, a RangeError or any other crash;
 * - when it throws, it wrote nothing: no AWS command other than Describe/Get/List/Query, no
 *   Slack message; when its schema refused the input, it called nothing at all, not even a read;
 * - it never writes to Kubernetes (none of these functions may; drains write from the
 *   node-drain workflow's steps), and never pollutes Object.prototype.
 * Reads answer as a healthy account would (cluster `prod`, group `prod-workers`, a pending
 * approval), so that mutations which stay valid go all the way and their writes happen; the
 * split of accepted and rejected inputs is printed and must be non-trivial on both sides.
 */

const ACCOUNT = '123456789012';
const EXEC = `arn:aws:states:eu-west-1:${ACCOUNT}:execution:eks-node-lifecycle-fuzz-ami-rollout:prod-prod-workers-ami-0fedcba9876543210`;
const INSTANCE = 'i-1234567890abcdef0';
const NODE = 'ip-10-0-1-5.eu-west-1.compute.internal';
const APPROVAL = 'apr-0123456789ab';
const CHANNEL = 'C0FUZZ';
const POLICY_PARAMETER = '/eks-node-lifecycle/fuzz/chatops/access-policy';
const BOT_TOKEN_PARAMETER = '/eks-node-lifecycle/fuzz/slack/bot-token';
const credentials = { AWS_ACCESS_KEY_ID: 'AKIDFUZZ', AWS_SECRET_ACCESS_KEY: 'fuzz-secret' };
/** chatInvoke's caller (its own function ARN, as Lambda tells it): may read, act and approve on prod */
const chatPrincipal = `iam:arn:aws:lambda:eu-west-1:${ACCOUNT}:function:chatInvoke`;

Object.assign(process.env, {
  AWS_REGION: 'eu-west-1',
  ...credentials,
  // no real endpoint is ever reached: every client class is mocked below
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  MANAGED_CLUSTERS: 'prod',
  NODE_JOIN_STATE_MACHINE_ARN: `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:eks-node-lifecycle-fuzz-node-join`,
  NODE_DRAIN_STATE_MACHINE_ARN: `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:eks-node-lifecycle-fuzz-node-drain`,
  AMI_ROLLOUT_STATE_MACHINE_ARN: `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:eks-node-lifecycle-fuzz-ami-rollout`,
  AMI_DETECTION_STATE_MACHINE_ARN: `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:eks-node-lifecycle-fuzz-ami-detection`,
  FLEET_PROMOTION_STATE_MACHINE_ARN: `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:eks-node-lifecycle-fuzz-fleet-promotion`,
  FLEET_TABLE: 'fleet',
  DRAIN_TABLE: 'drains',
  ROLLOUTS_TABLE: 'rollouts',
  CHATOPS_TABLE: 'chatops',
  ACCESS_POLICY_PARAMETER: POLICY_PARAMETER,
  SLACK_BOT_TOKEN_PARAMETER: BOT_TOKEN_PARAMETER,
  SLACK_API_URL: 'https://slack.fuzz.test/api/',
  CHAT_DEFAULT_CHANNEL: CHANNEL,
  REQUEST_DRAIN_FUNCTION: 'eks-node-lifecycle-fuzz-requestDrain',
  DOCTOR_PROBE_FUNCTION: 'eks-node-lifecycle-fuzz-doctorProbe',
});
quietLogs();

// ---------------------------------------------------------------------------------------
// Every AWS client the project builds (package.json's @aws-sdk/client-* and the document
// client), mocked; a write is any command that is not a Describe/Get/List/Query/Scan.
// ---------------------------------------------------------------------------------------

const ec2 = mockClient(EC2Client);
const autoscaling = mockClient(AutoScalingClient);
const eks = mockClient(EKSClient);
const sfn = mockClient(SFNClient);
const ssm = mockClient(SSMClient);
const doc = mockClient(DynamoDBDocumentClient);
const eventbridge = mockClient(EventBridgeClient);
const lambda = mockClient(LambdaClient);
const sts = mockClient(STSClient);
// each stub has its own client's types; here they are all reset, configured and read alike
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const mocks = [ec2, autoscaling, eks, sfn, ssm, doc, eventbridge, lambda, sts, mockClient(DynamoDBClient), mockClient(IAMClient)] as AwsStub<any, any, any>[];
const READ = /^(Describe|Get|List|Query|Scan|BatchGet)/;

function awsCommands(): string[] {
  return mocks.flatMap((m) => m.calls().map((call) => (call.args[0] as object).constructor.name));
}

/** Slack's Web API, as chatNotify reaches it (the global fetch, taken when the module loads). */
const slackPosts: string[] = [];
const realFetch = globalThis.fetch;
globalThis.fetch = (async (url: string | URL | Request) => {
  slackPosts.push(String(url));
  return new Response(JSON.stringify({ ok: true, channel: CHANNEL, ts: '1795000000.000100' }), { status: 200, headers: { 'content-type': 'application/json' } });
}) as typeof fetch;

/** The Kubernetes API of cluster `prod`: the sandbox's server, with one node. */
const clock = new VirtualClock(Date.parse('2026-11-21T09:00:00Z'));
const store = new KubeStore(clock);
const kubeRequests: { method: string; path: string }[] = [];
let kube: Awaited<ReturnType<typeof startKubeApiServer>>;

const instanceTags = { 'aws:autoscaling:groupName': 'prod-workers', 'kubernetes.io/cluster/prod': 'owned' };
const groupTags = { 'kubernetes.io/cluster/prod': 'owned', 'eks-node-lifecycle/drain': 'on', 'eks-node-lifecycle/drain-timeout': '30m' };
const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value, PropagateAtLaunch: true }));
const approvalItem = (extra: Record<string, unknown> = {}) => ({
  pk: `approval#${APPROVAL}`, sk: 'approval', id: APPROVAL, executionArn: EXEC, cluster: 'prod', group: 'prod-workers', taskToken: `AQ${'x'.repeat(86)}`,
  requestedBy: 'slack:T1:U0REQUESTER', requesterPerson: 'slack:U0REQUESTER', target: '1.31.0-20261201', plan: '4 nodes', status: 'pending',
  requestedAt: '2026-11-21T09:00:00.000Z', expiresAtIso: '2099-11-22T09:00:00.000Z', deadline: 4_000_000_000_000, expiresAt: 4_000_600_000, ...extra,
});

/** Reads answer as a healthy account: cluster prod, its groups, a rollout waiting for approval. */
function healthyAccount(): void {
  for (const m of mocks) {
    m.reset();
    m.onAnyCommand().resolves({});
  }
  ec2.on(DescribeInstancesCommand).callsFake((input: { InstanceIds?: string[] }) => {
    // the usual instance is tagged already; any other is a new one of the group, to be tagged
    const id = input.InstanceIds?.[0] ?? INSTANCE;
    const tags = id === INSTANCE ? instanceTags : { 'aws:autoscaling:groupName': 'prod-workers' };
    return { Reservations: [{ Instances: [{ InstanceId: id, State: { Name: 'running' }, PrivateDnsName: NODE, Placement: { AvailabilityZone: 'eu-west-1a' }, Tags: tagList(tags) }] }] };
  });
  ec2.on(DescribeImagesCommand).resolves({
    Images: [{ ImageId: 'ami-0fedcba9876543210', Name: 'amazon-eks-node-al2023-x86_64-standard-1.31-v20261201', State: 'available', CreationDate: '2026-12-01T00:00:00.000Z', Architecture: 'x86_64', OwnerId: '602401143452' }],
  });
  autoscaling.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [{ AutoScalingGroupName: 'prod-workers', MinSize: 0, MaxSize: 6, DesiredCapacity: 3, DefaultCooldown: 300, AvailabilityZones: ['eu-west-1a'], HealthCheckType: 'EC2', CreatedTime: new Date(), Tags: tagList(groupTags) }],
  });
  autoscaling.on(DescribeLifecycleHooksCommand).resolves({ LifecycleHooks: [] });
  eks.on(DescribeClusterCommand).callsFake((input: { name: string }) => {
    if (input.name !== 'prod') throw new ResourceNotFoundException({ message: `No cluster found for name: ${input.name}.`, $metadata: {} });
    return { cluster: { name: 'prod', endpoint: kube.url, certificateAuthority: { data: kube.caData }, version: '1.31', kubernetesNetworkConfig: { serviceIpv4Cidr: '172.20.0.0/16' } } };
  });
  eks.on(ListClustersCommand).resolves({ clusters: ['prod', 'dev'] });
  eks.on(ListNodegroupsCommand).resolves({ nodegroups: ['general'] });
  eks.on(DescribeNodegroupCommand).resolves({
    nodegroup: {
      nodegroupName: 'general', clusterName: 'prod', amiType: 'AL2023_x86_64_STANDARD', releaseVersion: '1.31.0-20261101', version: '1.31',
      tags: { 'eks-node-lifecycle/rollout': 'auto' }, scalingConfig: { desiredSize: 2, minSize: 1, maxSize: 4 }, resources: { autoScalingGroups: [{ name: 'eks-general-1' }] },
    },
  });
  ssm.on(GetParameterCommand).callsFake((input: { Name: string }) => {
    const policy = { clusters: { prod: { read: [chatPrincipal], act: [chatPrincipal], approve: [chatPrincipal], notify: CHANNEL } } };
    const value = input.Name === POLICY_PARAMETER ? JSON.stringify(policy) : input.Name === BOT_TOKEN_PARAMETER ? 'xoxb-fuzz' : undefined;
    if (value === undefined) throw Object.assign(new Error(`parameter ${input.Name} not found`), { name: 'ParameterNotFound' });
    return { Parameter: { Name: input.Name, Value: value, Version: 1 } };
  });
  ssm.on(GetParametersCommand).callsFake((input: { Names: string[] }) => ({
    Parameters: input.Names.filter((n) => /image_id$|release_version$/.test(n)).map((Name) => ({ Name, Value: Name.endsWith('image_id') ? 'ami-0fedcba9876543210' : '1.31.0-20261201', Version: 1 })),
    InvalidParameters: input.Names.filter((n) => !/image_id$|release_version$/.test(n)),
  }));
  sfn.on(StartExecutionCommand).callsFake((input: { stateMachineArn: string; name: string }) => ({ executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}`, startDate: new Date() }));
  eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'fuzz' }] });
  lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify({ outcome: 'started', instanceId: INSTANCE, cluster: 'prod', executionName: `drain-${INSTANCE}-0` })) as never });
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/fuzz/fuzz`, UserId: 'fuzz' });
  doc.on(GetCommand).callsFake((input: { TableName: string; Key: Record<string, string> }) => {
    if (input.TableName === 'rollouts' && input.Key['lockKey'] === 'prod/prod-workers') {
      return { Item: { lockKey: 'prod/prod-workers', owner: EXEC, acquiredAt: '2026-11-21T09:00:00.000Z', expiresAt: 4_000_000_000, expiresAtIso: '2096-10-02T07:06:40.000Z', approvalId: APPROVAL } };
    }
    if (input.TableName === 'chatops' && input.Key['pk'] === `approval#${APPROVAL}`) return { Item: approvalItem() };
    // Begin has decided a rollout a command started: it runs now (the command waits for this)
    if (input.TableName === 'rollouts' && input.Key['lockKey']?.startsWith('begin#')) return { Item: { lockKey: input.Key['lockKey'], decision: 'proceed', approval: false, startAt: null, decidedAt: '2026-11-21T09:00:01.000Z' } };
    return {};
  });
  doc.on(UpdateCommand).callsFake((input: { TableName: string; Key: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> }) => {
    const values = input.ExpressionAttributeValues ?? {};
    if (input.TableName === 'drains') return { Attributes: { instanceId: input.Key['instanceId'], status: 'running', generation: 0 } };
    if (input.TableName === 'rollouts') return { Attributes: { lockKey: input.Key['lockKey'], owner: EXEC } };
    if (input.Key['pk'] === `approval#${APPROVAL}`) return { Attributes: approvalItem({ status: values[':decision'] ?? values[':expired'] ?? 'pending', answeredBy: values[':by'] }) };
    return {};
  });
  doc.on(PutCommand).resolves({});
  doc.on(QueryCommand).resolves({ Items: [] });
}

function resetHistory(): void {
  // (most runs call nothing: resetting only what was called keeps 70,000 runs quick)
  for (const m of mocks) if (m.send.called) m.resetHistory();
  slackPosts.length = 0;
  kubeRequests.length = 0;
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const SCHEMA_REFUSED = 'refused by the schema, calling nothing';

interface Observed {
  input: FuzzInput;
  result?: unknown;
  error?: unknown;
  /** AWS commands that change something, and Slack posts */
  writes: string[];
}

/**
 * One property over an entry point: every input gives an answer or a typed error; a typed
 * error comes with no write; no input writes to Kubernetes or pollutes Object.prototype.
 * `check` adds what is particular to the entry point.
 */
async function fuzzEntryPoint(name: string, handler: Handler, inputs: fc.Arbitrary<FuzzInput>, check?: (observed: Observed, tally: Tally) => void): Promise<Tally> {
  const tally = new Tally();
  await fc.assert(
    fc.asyncProperty(inputs, async (input) => {
      resetHistory();
      const observed: Observed = { input, writes: [] };
      try {
        observed.result = await handler(input.value, lambdaContext(name));
      } catch (error) {
        observed.error = error;
      }
      observed.writes = [...awsCommands().filter((c) => !READ.test(c)), ...slackPosts.map((url) => `slack ${url}`)];

      const kubeWrites = kubeRequests.filter((r) => r.method !== 'GET');
      assert.deepEqual(kubeWrites, [], `${name} wrote to Kubernetes`);
      if (kubeRequests.length > 0) tally.note('runs that read Kubernetes');
      assertNoPrototypePollution();
      if (observed.error !== undefined) {
        const error = observed.error as Error;
        // (the message is built only on failure: reading a stack costs a source-map lookup)
        if (!(error instanceof NodeLifecycleError && (ERROR_NAMES as readonly string[]).includes(error.name))) assert.fail(`${name} crashed with an untyped error: ${error?.name}: ${error?.message}\n${error?.stack}`);
        assert.ok(error.message.length > 0, 'a typed error says what was wrong');
        assert.deepEqual(observed.writes, [], `${name} threw ${error.name} after writing`);
        tally.count(input.origin, 'rejected');
        tally.note(error.name);
        // refused by its schema (the zod error is the cause): before any call, even a read
        if (error instanceof InvalidInputError && error.cause instanceof z.core.$ZodError) {
          assert.deepEqual([...awsCommands(), ...kubeRequests.map((r) => `${r.method} ${r.path}`)], [], `${name} called out before validating its input`);
          tally.note(SCHEMA_REFUSED);
        }
      } else {
        // Lambda returns the answer as JSON
        assert.doesNotThrow(() => JSON.stringify(observed.result), `${name} answered with something that is not JSON`);
        tally.count(input.origin, 'accepted');
        if (observed.writes.length > 0) tally.note('accepted runs that wrote');
      }
      check?.(observed, tally);
    }),
    { numRuns: RUNS, includeErrorInReport: true },
  );
  assert.equal(tally.total, RUNS);
  return tally;
}

// ---------------------------------------------------------------------------------------
// Valid inputs, as AWS and the service send them
// ---------------------------------------------------------------------------------------

const readEvent = (file: string) => JSON.parse(readFileSync(new URL(`../events/${file}`, import.meta.url), 'utf8')) as Record<string, any>;
const stateChange = readEvent('ec2-instance-state-change-running.json');
const launchHook = readEvent('autoscaling-launch-lifecycle-action.json');
const envelope = (detailType: string, source: string, detail: unknown) => ({
  version: '0', id: '1e5527d7-bb36-4607-3370-4164db56a40e', 'detail-type': detailType, source, account: ACCOUNT, time: '2026-11-21T09:00:00Z', region: 'eu-west-1', resources: [], detail,
});
const terminateHook = { ...launchHook, 'detail-type': 'EC2 Instance-terminate Lifecycle Action', detail: { ...launchHook.detail, LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', Origin: 'AutoScalingGroup', Destination: 'EC2' } };
const otherInstance = { ...stateChange, detail: { ...stateChange.detail, 'instance-id': 'i-0aaaaaaaaaaaaaaa1' } };

const SEEDS = {
  tagInstance: [stateChange, launchHook, otherInstance],
  requestDrain: [
    terminateHook,
    envelope('EC2 Spot Instance Interruption Warning', 'aws.ec2', { 'instance-id': INSTANCE, 'instance-action': 'terminate' }),
    envelope('EC2 Instance Rebalance Recommendation', 'aws.ec2', { 'instance-id': INSTANCE }),
    { kind: 'manual-drain', cluster: 'prod', instanceId: INSTANCE, requestedBy: 'slack:T1:U0OPS' },
    { kind: 'manual-drain', cluster: 'prod', nodeName: NODE, force: true, requestedBy: 'slack:T1:U0OPS' },
    { kind: 'rollout-drain', cluster: 'prod', instanceId: INSTANCE, rolloutExecutionArn: EXEC },
  ],
  detectStaleGroups: [
    { kind: 'scheduled-detection' },
    { kind: 'debounced-detection', window: '20261121T090000Z' },
    { kind: 'detect', cluster: 'prod', dryRun: true, requestedBy: 'slack:T1:U0OPS' },
    { kind: 'detect', cluster: 'prod', group: 'general', dryRun: false },
  ],
  screenImageEvent: [
    envelope('EC2 AMI State Change', 'aws.ec2', { RequestId: 'x', ImageId: 'ami-0123456789abcdef0', State: 'available', ErrorReason: '' }),
    envelope('EC2 AMI State Change', 'aws.ec2', { RequestId: 'x', ImageId: 'ami-0123456789abcdef0', State: 'failed', ErrorReason: 'build failed' }),
    { ...envelope('EC2 Image Builder Image State Change', 'aws.imagebuilder', { 'previous-state': { status: 'TESTING' }, state: { status: 'AVAILABLE' } }), resources: [`arn:aws:imagebuilder:eu-west-1:${ACCOUNT}:image/acme-eks-al2023/1.0.3/1`] },
  ],
  ensureTerminateHooks: [{}, null, envelope('Scheduled Event', 'aws.events', {})],
  chatNotify: (() => {
    const base = { cluster: 'prod', group: 'prod-workers', groupKind: 'self-managed', target: { imageId: 'ami-0fedcba9876543210', release: '1.31.0-20261201' }, executionArn: EXEC, at: '2026-11-21T09:30:00.000Z' };
    const service = (detailType: string, detail: Record<string, unknown>) => envelope(detailType, 'eks-node-lifecycle', { ...base, ...detail });
    return [
      service('Rollout Planned', { phase: 'planned', nodes: 4, maxUnavailable: 1, strategy: 'surge', batches: [{ canary: true, nodes: 1 }, { canary: false, nodes: 3 }], summary: 'prod/prod-workers: rolling 4 nodes onto 1.31.0-20261201' }),
      service('Rollout Approval Requested', { phase: 'approval-requested', approvalId: APPROVAL, expiresAt: '2026-11-22T09:00:00.000Z', requestedBy: 'slack:T1:U0REQUESTER', plan: { summary: '4 nodes in 3 batches' }, from: { release: '1.31.0-20261101' } }),
      service('Rollout Failed', { phase: 'failed', outcome: 'approval-expired' }),
      service('Rollout Failed', { phase: 'failed', outcome: 'rejected', detail: { Error: 'RolloutRejectedError', Cause: 'denied by slack:T1:U0OPS: not during the sale' } }),
      service('Rollout Finished', { phase: 'finished', startedAt: '2026-11-21T09:00:00.000Z', replaced: 4, batches: 3 }),
      envelope('Node Drain Finished', 'eks-node-lifecycle', {
        outcome: 'failed', cluster: 'prod', instanceId: INSTANCE, nodeName: NODE, trigger: 'manual', durationSeconds: 930, remaining: 2, lifecycleAction: 'none',
        blockers: [{ pod: 'shop/web-1', pdb: { namespace: 'shop', name: 'web', disruptionsAllowed: 0 }, message: 'Cannot evict pod as it would violate the pod\'s disruption budget.' }],
        executionArn: `arn:aws:states:eu-west-1:${ACCOUNT}:execution:eks-node-lifecycle-fuzz-node-drain:drain-${INSTANCE}-0`,
      }),
    ];
  })(),
  chatInvoke: ['status', 'status prod', 'plan prod/general', 'rollout prod/general --now', `drain ${INSTANCE} --force`, `drain ${NODE}`, `approve ${APPROVAL}`, `deny ${APPROVAL} --reason too risky`, 'pause prod/prod-workers', 'resume prod/prod-workers', 'abort prod/prod-workers', 'history prod', 'approvals prod', 'approvals', 'help rollout'].map((command) => ({ command })),
  rolloutControl: (['approve', 'reject', 'pause', 'resume', 'abort'] as const).map((action) => ({ kind: 'rollout-control', cluster: 'prod', group: 'prod-workers', action, requestedBy: 'slack:T1:U0OPS', ...(action === 'reject' ? { reason: 'not during the sale' } : {}) })),
};

/**
 * The entry points: how each is triggered, its valid inputs, inputs shaped for it (records
 * with its discriminator and random fields), and what is checked beyond the common property.
 */
interface EntryPoint {
  name: keyof typeof SEEDS;
  file: string;
  triggers: string;
  shaped?: fc.Arbitrary<unknown>;
  also?: string;
  check?: (observed: Observed, tally: Tally) => void;
}

const ENTRY_POINTS: EntryPoint[] = [
  { name: 'tagInstance', file: 'tag-instance', triggers: 'EC2 state change, launch hook' },
  {
    name: 'requestDrain',
    file: 'request-drain',
    triggers: 'terminate hook, spot, rebalance, manual, rollout',
    shaped: fc.record({ kind: fc.constantFrom('manual-drain', 'rollout-drain'), cluster: fc.oneof(fc.constant('prod'), fc.string()), nodeName: fc.string(), instanceId: fc.string(), requestedBy: fc.string() }, { requiredKeys: ['kind'] }),
  },
  {
    name: 'detectStaleGroups',
    file: 'detect-stale-groups',
    triggers: 'schedule, an AMI event\'s debounce window, on demand',
    shaped: fc.record({ kind: fc.constantFrom('detect', 'scheduled-detection', 'debounced-detection'), cluster: fc.string(), group: fc.string(), window: fc.string(), dryRun: fc.jsonValue() }, { requiredKeys: ['kind'] }),
  },
  { name: 'screenImageEvent', file: 'screen-image-event', triggers: 'AMI and Image Builder events' },
  { name: 'ensureTerminateHooks', file: 'ensure-terminate-hooks', triggers: 'schedule' },
  {
    name: 'chatNotify',
    file: 'chat-notify',
    triggers: "the service's own events",
    shaped: fc.record({ source: fc.constant('eks-node-lifecycle'), 'detail-type': fc.oneof(fc.constantFrom('Rollout Failed', 'Rollout Planned', 'Node Drain Finished', 'Rollout Approval Requested'), fc.string()), detail: fc.dictionary(fc.string(), fc.jsonValue()) }),
    also: 'no Slack message either',
  },
  {
    name: 'chatInvoke',
    file: 'chat-invoke',
    triggers: 'direct invocation',
    shaped: fc.record({ command: fc.oneof(fc.string({ maxLength: 80 }), fc.tuple(fc.constantFrom(...SEEDS.chatInvoke.map((s) => s.command)), fc.string({ maxLength: 10 })).map(([c, s]) => `${c} ${s}`)) }),
    also: 'an invalid command writes only its audit record; a failure in the reply is named by a typed error',
    check: ({ input, result, writes }, tally) => {
      if (typeof result !== 'string') return;
      // a command's failure becomes a reply naming the error: that name must be a typed one
      const failed = /\bfailed: (\S+)$/.exec(result.split('\n')[0]!);
      if (failed) assert.ok((ERROR_NAMES as readonly string[]).includes(failed[1]!), `chatInvoke hid an untyped ${failed[1]} in its reply:\n${result}`);
      if (!parseCommand((input.value as { command: string }).command).ok) {
        tally.note('accepted inputs holding a command the grammar refuses');
        assert.ok(writes.every((w) => w === 'PutCommand'), `an invalid command wrote ${writes.join(', ')}`);
      }
    },
  },
  {
    name: 'rolloutControl',
    file: 'rollout-control',
    triggers: 'direct invocation',
    shaped: fc.record({ kind: fc.constant('rollout-control'), cluster: fc.string(), group: fc.string(), action: fc.string(), requestedBy: fc.string(), reason: fc.string() }, { requiredKeys: ['kind'] }),
  },
];

const handlers = new Map<string, Handler>();
before(async () => {
  createNode(store, { name: NODE, providerID: `aws:///eu-west-1a/${INSTANCE}`, ready: true });
  kube = await startKubeApiServer({ clock, store, clusterName: 'prod', authenticate: () => true, onRequest: (r) => kubeRequests.push({ method: r.method, path: r.path }) });
  for (const entry of ENTRY_POINTS) handlers.set(entry.name, (await import(`../../functions/${entry.file}.js`)).handler as Handler);
});
after(async () => {
  globalThis.fetch = realFetch;
  await kube.close();
});

describe(`Fuzz: entry points (fast-check, ${RUNS} inputs each)`, () => {
  for (const entry of ENTRY_POINTS) {
    it(`${entry.name} (${entry.triggers}): an answer or a typed error, and no write for whatever it refuses${entry.also ? `; ${entry.also}` : ''}`, async (t) => {
      healthyAccount();
      const startedAt = performance.now();
      const tally = await fuzzEntryPoint(entry.name, handlers.get(entry.name)!, entryPointInputs(SEEDS[entry.name], entry.shaped ? [entry.shaped] : []), entry.check);
      t.diagnostic(`${entry.name}: ${RUNS} runs in ${((performance.now() - startedAt) / 1000).toFixed(1)} s — ${tally}`);
      tally.assertBothSides();
      assert.ok((tally.notes.get(SCHEMA_REFUSED) ?? 0) > RUNS / 10, 'most refusals come from the schema: if none is recognised as such, the check above never ran');
    });
  }
});
