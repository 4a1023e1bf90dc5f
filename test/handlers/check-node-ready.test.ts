import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { DescribeInstancesCommand, type DescribeInstancesCommandOutput, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, EKSClient, ResourceNotFoundException } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { useTimeSource } from '../../shared/clock.js';
import { authenticateEksToken, createNode, KubeStore, startKubeApiServer, VirtualClock } from '@eks-node-lifecycle/sandbox';
import { lambdaContext, quietLogs } from './lambda-context.js';

/** AWS calls are mocked; the Kubernetes side is the sandbox API server, reached over TLS with an EKS token. */
const credentials = { accessKeyId: 'AKIDHANDLERTEST', secretAccessKey: 'handler-test' };
// MANAGED_CLUSTERS has no default: a deployment names its clusters (or '*')
Object.assign(process.env, { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, MANAGED_CLUSTERS: '*' });
quietLogs();
const ec2 = mockClient(EC2Client);
const eks = mockClient(EKSClient);
const clock = new VirtualClock(Date.parse('2026-11-21T09:00:00Z'));
const restoreTime = useTimeSource(() => clock.now());
const store = new KubeStore(clock);
let server: Awaited<ReturnType<typeof startKubeApiServer>>;
let handler: (event: unknown, context: unknown) => Promise<any>;

const input = {
  cluster: 'prod',
  instanceId: 'i-0aaaaaaaaaaaaaaa1',
  lifecycleAction: { autoScalingGroupName: 'workers', lifecycleHookName: 'wait', lifecycleActionToken: '11111111-2222-3333-4444-555555555555', instanceId: 'i-0aaaaaaaaaaaaaaa1' },
  deadline: '2026-11-21T09:10:00Z',
};
const described = (state: 'pending' | 'running' | 'terminated', dns = 'ip-10-0-1-5.eu-west-1.compute.internal'): DescribeInstancesCommandOutput => ({
  $metadata: {},
  Reservations: [{ Instances: [{ InstanceId: input.instanceId, State: { Name: state }, PrivateDnsName: dns, Placement: { AvailabilityZone: 'eu-west-1a' } }] }],
});

before(async () => {
  server = await startKubeApiServer({
    clock,
    store,
    clusterName: 'prod',
    authenticate: async (token) => (await authenticateEksToken(token, { cluster: 'prod', credentials, now: () => clock.now() })).ok,
  });
  eks.on(DescribeClusterCommand, { name: 'prod' }).resolves({ cluster: { name: 'prod', endpoint: server.url, certificateAuthority: { data: server.caData }, version: '1.31' } });
  eks.on(DescribeClusterCommand, { name: 'gone' }).rejects(new ResourceNotFoundException({ message: 'No cluster found for name: gone.', $metadata: {} }));
  ({ handler } = await import('../../functions/check-node-ready.js'));
});
after(async () => {
  restoreTime();
  await server.close();
});

describe('Handler: check-node-ready', () => {
  beforeEach(() => {
    ec2.reset();
    for (const node of store.list('nodes')) store.delete('nodes', undefined, (node as any).metadata.name, { gracePeriodSeconds: 0 });
  });

  it('waits while no node has registered', async () => {
    ec2.on(DescribeInstancesCommand).resolves(described('running'));
    assert.deepEqual(await handler(input, lambdaContext()), { status: 'waiting', reason: 'no node with this providerID yet' });
  });

  it('finds the node by providerID, not by name, and reports it Ready', async () => {
    // the node's name is not the private DNS name (custom hostname): the providerID decides
    createNode(store, { name: 'custom-host-1', providerID: `aws:///eu-west-1a/${input.instanceId}`, ready: true });
    createNode(store, { name: 'ip-10-0-1-5.eu-west-1.compute.internal', providerID: 'aws:///eu-west-1a/i-0bbbbbbbbbbbbbbb2', ready: true });
    ec2.on(DescribeInstancesCommand).resolves(described('running'));
    assert.deepEqual(await handler(input, lambdaContext()), { status: 'ready', nodeName: 'custom-host-1' });
  });

  it('keeps waiting for a registered node that is not Ready, and times out at the deadline', async () => {
    createNode(store, { name: 'ip-10-0-1-5.eu-west-1.compute.internal', providerID: `aws:///eu-west-1a/${input.instanceId}`, ready: false });
    ec2.on(DescribeInstancesCommand).resolves(described('running'));
    assert.equal((await handler(input, lambdaContext())).status, 'waiting');
    assert.equal((await handler({ ...input, deadline: '2026-11-21T08:59:00Z' }, lambdaContext())).status, 'timed-out');
  });

  it('reports a terminated instance as gone without asking Kubernetes', async () => {
    ec2.on(DescribeInstancesCommand).resolves(described('terminated', ''));
    assert.equal((await handler(input, lambdaContext())).status, 'instance-gone');
  });

  it('throws ClusterNotFoundError for a cluster that does not exist', async () => {
    ec2.on(DescribeInstancesCommand).resolves(described('running'));
    await assert.rejects(handler({ ...input, cluster: 'gone' }, lambdaContext()), { name: 'ClusterNotFoundError' });
  });

  it('throws KubernetesUnavailableError when the API answers 5xx', async () => {
    ec2.on(DescribeInstancesCommand).resolves(described('running'));
    server.faults = { before: () => ({ status: 503, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 503, reason: 'ServiceUnavailable', message: 'etcd is down' } }) };
    try {
      await assert.rejects(handler(input, lambdaContext()), { name: 'KubernetesUnavailableError' });
    } finally {
      server.faults = undefined;
    }
  });

  it('rejects bad input with InvalidInputError and calls nothing', async () => {
    for (const bad of [null, {}, { ...input, deadline: 'tomorrow' }, { ...input, cluster: '../etc' }, { ...input, instanceId: 42 }]) {
      await assert.rejects(handler(bad, lambdaContext()), { name: 'InvalidInputError' });
    }
    assert.equal(ec2.calls().length, 0);
  });
});
