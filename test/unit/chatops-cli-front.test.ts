import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { exitCodeOf } from '../../scripts/cli-send.js';
import { parseAccessPolicy } from '../../shared/chatops/access-policy.js';
import { awsScope } from '../../shared/aws/clients.js';
import { type CliAnswer, receiveCliRequest } from '../../shared/chatops/cli-front.js';
import type { CommandPorts } from '../../shared/chatops/run-command.js';
import { KubernetesUnavailableError } from '../../shared/errors.js';

/**
 * chatApi's answer to the CLI: the reply to render and the service's clock always, the data
 * only when asked for JSON, and `unreachable` when a cluster could not be reached (exit 3).
 */
const NOW = new Date('2026-12-07T08:00:00.000Z');
const CALLER = 'arn:aws:sts::111122223333:assumed-role/ops/cli';

function event(body: Record<string, unknown>) {
  return { requestContext: { http: { method: 'POST' }, authorizer: { iam: { userArn: CALLER } } }, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ requestId: `req-${Math.random().toString(36).slice(2, 12)}`, ...body }), isBase64Encoded: false };
}

const eks = mockClient(EKSClient);
const ec2 = mockClient(EC2Client);
const autoscaling = mockClient(AutoScalingClient);
const ssm = mockClient(SSMClient);
after(() => [eks, ec2, autoscaling, ssm].forEach((m) => m.restore()));

function ports(inventory: { clusters: string[]; fail?: Error }) {
  const send = async () => {
    if (inventory.fail) throw inventory.fail;
    return { clusters: inventory.clusters, cluster: undefined, nodegroups: [], AutoScalingGroups: [], Images: [] };
  };
  eks.reset().onAnyCommand().callsFake(send);
  ec2.reset().onAnyCommand().callsFake(send);
  autoscaling.reset().onAnyCommand().callsFake(send);
  ssm.reset().onAnyCommand().callsFake(send);
  const commands = {
    policy: async () => parseAccessPolicy(JSON.stringify({ clusters: { prod: { read: [`iam:arn:aws:iam::111122223333:role/ops`] } } })),
    auditLog: { audit: async () => undefined, history: async () => [] },
    guards: { takeCommandToken: async () => true },
    approvals: { pendingApprovals: async () => [] },
    locks: { get: async () => undefined },
    inventory: { aws: awsScope({ region: 'eu-west-1' }), managedClusters: '*', now: () => NOW, log: () => undefined },
    now: () => NOW,
    log: () => undefined,
  } as unknown as CommandPorts;
  return { commands, acceptOnce: async () => true, now: () => NOW, log: () => undefined };
}

const answerOf = (response: { statusCode: number; body: string }): CliAnswer => {
  assert.equal(response.statusCode, 200, response.body);
  return JSON.parse(response.body);
};

describe('chatApi: the answer to the CLI', () => {
  it('returns the reply and the service clock, and the data only when asked for JSON', async () => {
    const text = answerOf(await receiveCliRequest(event({ command: 'approvals prod' }), ports({ clusters: ['prod'] })));
    assert.equal(text.ok, true);
    assert.equal(text.now, NOW.toISOString());
    assert.equal(text.reply.title, 'prod: no approval is waiting');
    assert.equal(text.data, undefined);
    const json = answerOf(await receiveCliRequest(event({ command: 'approvals prod', output: 'json' }), ports({ clusters: ['prod'] })));
    assert.deepEqual(json.data, { apiVersion: 'eks-node-lifecycle/v1', kind: 'ApprovalList', scope: 'prod', items: [] });
  });

  it('says unreachable when the command failed to reach a cluster, which the CLI exits 3 on', async () => {
    const answer = answerOf(await receiveCliRequest(event({ command: 'status prod' }), ports({ clusters: ['prod'], fail: new KubernetesUnavailableError('prod', 'no answer within 10000 ms') })));
    assert.equal(answer.ok, false);
    assert.equal(answer.unreachable, true);
    assert.equal(exitCodeOf(answer), 3);
  });

  it('any other failure is 1', async () => {
    const answer = answerOf(await receiveCliRequest(event({ command: 'status prod' }), ports({ clusters: ['prod'], fail: new RangeError('a bug') })));
    assert.equal(answer.unreachable, undefined);
    assert.equal(exitCodeOf(answer), 1);
  });

  it('refuses an output it does not know', async () => {
    const response = await receiveCliRequest(event({ command: 'status', output: 'yaml' }), ports({ clusters: [] }));
    assert.equal(response.statusCode, 400);
  });
});
