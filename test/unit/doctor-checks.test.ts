import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readNodeGroupConfig } from '../../shared/config/node-group-config.js';
import type { GroupPlan } from '../../shared/detect/plan-rollouts.js';
import {
  ACCESS_NEEDS,
  blocking,
  checkAccessEntry,
  checkApi,
  checkConfiguration,
  checkHooks,
  checkImage,
  checkKarpenter,
  checkRbac,
  checkTerminationHandler,
  describeNeed,
} from '../../shared/doctor/checks.js';
import type { V1Node, V1Pod } from '../../shared/kube/api-types.js';
import { karpenterNodePool, NTH_MANAGED_TAG, terminationHandlerFor } from '../../shared/kube/neighbours.js';
import { allows, PROJECT_ROOT, rulesFromManifest } from '@eks-node-lifecycle/sandbox';

const P = 'eks-node-lifecycle/';
const ROLE = 'arn:aws:iam::111122223333:role/eks-node-lifecycle-dev-ChatApiRole-X';

describe('Doctor: the configuration check', () => {
  it('is a problem when a rollout setting is malformed (soak=7days): automatic rollouts are stopped', () => {
    // Act
    const check = checkConfiguration(readNodeGroupConfig({ [`${P}rollout`]: 'auto', [`${P}channel`]: 'soak=7days' }));
    // Assess
    assert.equal(check.status, 'problem');
    assert.equal(check.reason, `${P}channel: automatic rollouts of this group are stopped until fixed`);
    assert.ok(blocking([check]));
  });

  it('is a warning when only a drain setting is malformed (its safe default applies), ok when every tag is valid', () => {
    assert.equal(checkConfiguration(readNodeGroupConfig({ [`${P}drain-timeout`]: '15min' })).status, 'warning');
    assert.equal(checkConfiguration(readNodeGroupConfig({ [`${P}rollout`]: 'auto', [`${P}channel`]: 'soak=7d' })).status, 'ok');
    assert.ok(!blocking([checkConfiguration(readNodeGroupConfig({ [`${P}drain-timeout`]: '15min' }))]));
  });
});

describe('Doctor: the cluster checks', () => {
  it('says the API answered, or why not and what to do', () => {
    assert.deepEqual(checkApi('prod', { reached: true, nodes: 3 }), { name: 'Kubernetes API', status: 'ok', reason: 'the API answered: 3 nodes' });
    const denied = checkApi('prod', { reached: false, failure: 'denied', message: 'list nodes: HTTP 401' });
    assert.equal(denied.status, 'problem');
    assert.match(denied.todo!, /grant-access\.sh prod/);
    assert.equal(checkApi('prod', { reached: false, failure: 'unavailable', message: 'ECONNREFUSED' }).status, 'problem');
  });

  it('judges the access entry: in the service group ok, missing a problem unless aws-auth let the service in, a CONFIG_MAP cluster needs none', () => {
    const entry = (e: Parameters<typeof checkAccessEntry>[1]) => checkAccessEntry('prod', e);
    assert.equal(entry({ principalArn: ROLE, authenticationMode: 'API_AND_CONFIG_MAP', entry: { type: 'STANDARD', kubernetesGroups: ['eks-node-lifecycle'] }, apiReached: true }).status, 'ok');
    assert.equal(entry({ principalArn: ROLE, authenticationMode: 'API', entry: null, apiReached: false }).status, 'problem');
    assert.equal(entry({ principalArn: ROLE, authenticationMode: 'API_AND_CONFIG_MAP', entry: null, apiReached: true }).status, 'warning', 'aws-auth mapped it');
    assert.equal(entry({ principalArn: ROLE, authenticationMode: 'API_AND_CONFIG_MAP', entry: { type: 'STANDARD', kubernetesGroups: ['ops'] }, apiReached: true }).status, 'warning');
    assert.equal(entry({ authenticationMode: 'CONFIG_MAP', apiReached: true }).status, 'ok');
    assert.equal(entry({ authenticationMode: 'CONFIG_MAP', apiReached: false }).status, 'problem');
    assert.equal(entry({ principalArn: ROLE, authenticationMode: 'API', unread: 'AccessDeniedException', apiReached: true }).status, 'warning');
  });

  it('names each denied permission of RBAC: a required one is a problem, force deletion only a warning', () => {
    const all = ACCESS_NEEDS.map((need) => ({ need, allowed: true }));
    assert.equal(checkRbac('prod', all).status, 'ok');
    const noEviction = checkRbac('prod', all.map((r) => (r.need.subresource === 'eviction' ? { ...r, allowed: false } : r)));
    assert.equal(noEviction.status, 'problem');
    assert.equal(noEviction.reason, 'the service may not create pods/eviction (evict pods)');
    assert.equal(checkRbac('prod', all.map((r) => (r.need.verb === 'delete' ? { ...r, allowed: false } : r))).status, 'warning');
    assert.equal(checkRbac('prod', undefined).status, 'warning');
  });

  it('asks for exactly what scripts/kubernetes/rbac.yaml grants the service group (no more, no less)', () => {
    const rules = rulesFromManifest(readFileSync(join(PROJECT_ROOT, 'scripts/kubernetes/rbac.yaml'), 'utf8'), 'eks-node-lifecycle');
    for (const need of ACCESS_NEEDS) assert.ok(allows(rules, need), `rbac.yaml grants ${describeNeed(need)}`);
    const granted = rules.flatMap((r) => r.verbs.flatMap((v) => r.resources.map((res) => `${v} ${r.apiGroups[0] ? `${r.apiGroups[0]}/` : ''}${res}${r.resourceNames ? ` ${r.namespace}/${r.resourceNames[0]}` : ''}`)));
    assert.deepEqual(granted.sort(), ACCESS_NEEDS.map(describeNeed).sort());
  });

  it('lists Karpenter nodes by NodePool, as information', () => {
    assert.equal(checkKarpenter([]).reason, 'no node of the cluster was launched by Karpenter');
    const some = checkKarpenter([{ name: 'a', nodePool: 'default' }, { name: 'b', nodePool: 'gpu' }, { name: 'c', nodePool: 'default' }]);
    assert.equal(some.status, 'ok');
    assert.match(some.reason, /^3 nodes launched by Karpenter \(NodePool default, gpu\)/);
  });
});

describe('Doctor: the lifecycle hooks check', () => {
  const policyHooks = { launch: [], terminate: ['flush-logs'] };
  it('is a problem for a self-managed group with drain=on and no terminate hook of the service, naming other tools\' hooks as left alone', () => {
    const check = checkHooks({ kind: 'self-managed', drainOn: true, policyHooks: { launch: [], terminate: [] }, hooks: { launch: [], terminate: ['nth-hook'] } });
    assert.equal(check.status, 'problem');
    assert.match(check.reason, /drain=on but the group has no terminate hook of the service/);
    assert.match(check.reason, /left alone \(another tool's\): nth-hook/);
  });

  it('is ok with the service\'s own hook, or one the group names as the service\'s; ok for managed groups (EKS drains them)', () => {
    assert.equal(checkHooks({ kind: 'self-managed', drainOn: true, policyHooks, hooks: { launch: [], terminate: ['flush-logs'] } }).status, 'ok');
    assert.equal(checkHooks({ kind: 'self-managed', drainOn: true, policyHooks, hooks: { launch: ['eks-node-lifecycle-launch'], terminate: ['eks-node-lifecycle-drain'] } }).reason, "terminate hook eks-node-lifecycle-drain is the service's; launch hook eks-node-lifecycle-launch is the service's");
    assert.equal(checkHooks({ kind: 'managed', drainOn: true, policyHooks, hooks: { launch: [], terminate: [] } }).status, 'ok');
    assert.equal(checkHooks({ kind: 'self-managed', drainOn: false, policyHooks, hooks: { launch: [], terminate: [] } }).status, 'ok');
  });
});

describe('Doctor: the image channel check', () => {
  const base = { cluster: 'prod', group: 'web', kind: 'self-managed' as const };
  it('is a problem when the channel of an opted-in group resolves to no image, ok when it resolves, a warning for a group not opted in, and not resolved with a configuration problem', () => {
    const auto = readNodeGroupConfig({ [`${P}rollout`]: 'auto' });
    const none: GroupPlan = { ...base, action: 'skip', why: 'no-target', reason: 'no image matches pinned=1.31.9-20990101' };
    assert.equal(checkImage(none, auto).status, 'problem');
    const current: GroupPlan = { ...base, action: 'current', reason: 'runs the target ami-1' };
    assert.deepEqual([checkImage(current, auto).status, checkImage(current, auto).reason], ['ok', 'resolves (channel recommended): runs the target ami-1']);
    const off = readNodeGroupConfig({});
    assert.deepEqual([checkImage(current, off).status, checkImage(current, off).reason], ['ok', 'rollout=off, nothing rolls; resolves (channel recommended): runs the target ami-1']);
    assert.equal(checkImage(none, off).status, 'warning', 'a group not opted in is stopped by nothing');
    assert.equal(checkImage(undefined, readNodeGroupConfig({ [`${P}rollout`]: 'auto', [`${P}channel`]: 'soak=7days' })).status, 'warning');
  });
});

describe('Neighbours: the Node Termination Handler and Karpenter', () => {
  const pod = (name: string, owner: string, nodeName: string, extra: Partial<V1Pod['status']> = {}): V1Pod => ({
    metadata: { name, namespace: 'kube-system', ownerReferences: [{ apiVersion: 'apps/v1', kind: owner, name: 'aws-node-termination-handler', uid: 'u', controller: true }] },
    spec: { nodeName, containers: [] },
    status: { phase: 'Running', ...extra },
  });

  it('sees IMDS mode when its DaemonSet pod runs on one of the group\'s nodes, not on another node', () => {
    const pods = [pod('nth-a', 'DaemonSet', 'node-a')];
    assert.deepEqual(terminationHandlerFor(pods, { nodeNames: ['node-a'], groupTags: {} }), { mode: 'imds', evidence: 'its DaemonSet pod kube-system/nth-a runs on node-a', drains: { spotInterruption: true, rebalance: false } });
    assert.equal(terminationHandlerFor(pods, { nodeNames: ['node-b'], groupTags: {} }), undefined);
    assert.equal(terminationHandlerFor([pod('nth-a', 'DaemonSet', 'node-a', { phase: 'Succeeded' })], { nodeNames: ['node-a'], groupTags: {} }), undefined, 'a finished pod handles nothing');
  });

  it('reads what it drains on from its environment, as the chart writes its values (spot on, rebalance off by default)', () => {
    const withEnv = (env: Record<string, string>): V1Pod => {
      const p = pod('nth-a', 'DaemonSet', 'node-a');
      p.spec!.containers = [{ name: 'aws-node-termination-handler', env: Object.entries(env).map(([name, value]) => ({ name, value })) }];
      return p;
    };
    const drains = (env: Record<string, string>) => terminationHandlerFor([withEnv(env)], { nodeNames: ['node-a'], groupTags: {} })?.drains;
    assert.deepEqual(drains({ ENABLE_REBALANCE_DRAINING: 'true' }), { spotInterruption: true, rebalance: true });
    assert.deepEqual(drains({ ENABLE_SPOT_INTERRUPTION_DRAINING: 'false', ENABLE_REBALANCE_DRAINING: 'maybe' }), { spotInterruption: false, rebalance: false });
  });

  it('sees queue-processor mode only when its Deployment runs and the group carries the managed tag', () => {
    const pods = [pod('nth-7f9-x', 'ReplicaSet', 'node-z')];
    assert.equal(terminationHandlerFor(pods, { nodeNames: ['node-a'], groupTags: {} }), undefined);
    assert.equal(terminationHandlerFor(pods, { nodeNames: ['node-a'], groupTags: { [NTH_MANAGED_TAG]: '' } })?.mode, 'queue-processor');
    assert.equal(terminationHandlerFor([], { nodeNames: ['node-a'], groupTags: { [NTH_MANAGED_TAG]: 'true' } }), undefined, 'the tag alone: nobody processes the queue');
  });

  it('reads a node\'s Karpenter NodePool from its label', () => {
    const node = (labels: Record<string, string>): V1Node => ({ metadata: { name: 'n', labels } });
    assert.equal(karpenterNodePool(node({ 'karpenter.sh/nodepool': 'default' })), 'default');
    assert.equal(karpenterNodePool(node({ 'karpenter.sh/provisioner-name': 'legacy' })), 'legacy');
    assert.equal(karpenterNodePool(node({ 'eks.amazonaws.com/nodegroup': 'web' })), undefined);
  });

  it('warns when the handler drains the group\'s nodes, saying which drains are left to it', () => {
    const check = checkTerminationHandler({ mode: 'imds', evidence: 'its DaemonSet pod kube-system/nth-a runs on node-a', drains: { spotInterruption: true, rebalance: false } }, true);
    assert.equal(check.status, 'warning');
    assert.match(check.reason, /: spot interruption drains of this group are left to it; drains on the service's own terminate hooks go on/);
    const both = checkTerminationHandler({ mode: 'queue-processor', evidence: 'x', drains: { spotInterruption: true, rebalance: true } }, true);
    assert.match(both.reason, /spot interruption and rebalance recommendation drains of this group are left to it/);
    assert.equal(checkTerminationHandler(undefined, true).status, 'ok');
  });
});
