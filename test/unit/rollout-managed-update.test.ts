import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { V1Pod, V1PodDisruptionBudget } from '../../shared/kube/api-types.js';
import type { UpdateView } from '../../shared/aws/nodegroup-updates.js';
import type { NodegroupView, UpdateConfigView } from '../../shared/aws/nodegroups.js';
import type { ManagedRoll } from '../../shared/events/rollout.js';
import type { SignalResult } from '../../shared/fleet/workload-health.js';
import { decideBeforeVersion, type ManagedStep, type ManagedUpdateState, noteHold, noteRegression } from '../../shared/rollout/managed-update/managed-update.js';
import { managedOutcome } from '../../shared/rollout/managed-update/managed-update-strategy.js';
import {
  explainUpdateFailure,
  findBlockingPods,
  nodeCreationCauses,
  type FailureFacts,
  type NodeCreationFacts,
} from '../../shared/rollout/explain-update-failure.js';
import {
  decidePoll,
  decideStart,
  isAtTarget,
  planUpdateConfig,
  planVersionRequest,
  releaseKubernetesVersion,
  targetOf,
  updateMatchesTarget,
  type ManagedTarget,
} from '../../shared/rollout/managed-update/managed-update.js';

const TAG = 'eks-node-lifecycle/';
const LT: ManagedTarget = { kind: 'launch-template', id: 'lt-1', version: 7 };
const RELEASE: ManagedTarget = { kind: 'release', releaseVersion: '1.31.3-20261201' };

function group(overrides: Partial<NodegroupView> = {}): NodegroupView {
  return {
    cluster: 'prod',
    name: 'general',
    status: 'ACTIVE',
    version: '1.31',
    releaseVersion: '1.31.3-20261101',
    amiType: 'AL2023_x86_64_STANDARD',
    subnets: ['subnet-a'],
    instanceTypes: ['m5.large'],
    autoScalingGroups: ['eks-general'],
    tags: {},
    ...overrides,
  };
}

function update(overrides: Partial<UpdateView> = {}): UpdateView {
  return { id: 'u-1', type: 'VersionUpdate', status: 'InProgress', params: [], errors: [], ...overrides };
}

describe('Managed update: the target', () => {
  it('is the launch template version when one was prepared, else the release, else the latest', () => {
    assert.deepEqual(targetOf({ launchTemplate: { id: 'lt-1', version: 7 }, releaseVersion: '1.31.3-20261201' }), LT);
    assert.deepEqual(targetOf({ launchTemplate: null, releaseVersion: '1.31.3-20261201' }), RELEASE);
    assert.deepEqual(targetOf({ launchTemplate: null }), { kind: 'latest' });
  });

  const atTarget: [string, Partial<NodegroupView>, ManagedTarget, boolean][] = [
    ['same template and version', { launchTemplate: { id: 'lt-1', version: '7' } }, LT, true],
    ['same template, older version', { launchTemplate: { id: 'lt-1', version: '6' } }, LT, false],
    ['another template, same version', { launchTemplate: { id: 'lt-2', version: '7' } }, LT, false],
    ['no template', {}, LT, false],
    ['same release', { releaseVersion: '1.31.3-20261201' }, RELEASE, true],
    ['older release', {}, RELEASE, false],
    ['latest: never known to be reached', { releaseVersion: '1.31.3-20261201' }, { kind: 'latest' }, false],
  ];
  for (const [name, overrides, target, expected] of atTarget) {
    it(`isAtTarget: ${name} → ${expected}`, () => assert.equal(isAtTarget(group(overrides), target), expected));
  }

  const matches: [string, Partial<UpdateView>, ManagedTarget, boolean][] = [
    ['a version update to the same template version', { params: [{ type: 'LaunchTemplateName', value: 'general' }, { type: 'LaunchTemplateVersion', value: '7' }] }, LT, true],
    ['a version update to another template version', { params: [{ type: 'LaunchTemplateVersion', value: '6' }] }, LT, false],
    ['a version update to the same release', { params: [{ type: 'Version', value: '1.31' }, { type: 'ReleaseVersion', value: '1.31.3-20261201' }] }, RELEASE, true],
    ['a version update to another release', { params: [{ type: 'ReleaseVersion', value: '1.31.3-20261101' }] }, RELEASE, false],
    ['a config update', { type: 'ConfigUpdate', params: [{ type: 'MaxUnavailable', value: '2' }] }, LT, false],
    ['any release update, for the latest', { params: [{ type: 'ReleaseVersion', value: '1.31.3-20261201' }] }, { kind: 'latest' }, true],
    ['a template update, not for the latest', { params: [{ type: 'LaunchTemplateVersion', value: '7' }] }, { kind: 'latest' }, false],
  ];
  for (const [name, overrides, target, expected] of matches) {
    it(`updateMatchesTarget: ${name} → ${expected}`, () => assert.equal(updateMatchesTarget(update(overrides), target), expected));
  }

  const releases: [string | undefined, string, string | undefined][] = [
    ['AL2023_x86_64_STANDARD', '1.31.3-20261201', '1.31'],
    ['AL2_x86_64', '1.29.3-20240531', '1.29'],
    ['WINDOWS_CORE_2022_x86_64', '1.31-2024.11.12', '1.31'],
    ['BOTTLEROCKET_x86_64', '1.29.0-c7ef4a1e', undefined],
    [undefined, 'not-a-release', undefined],
  ];
  for (const [amiType, release, expected] of releases) {
    it(`releaseKubernetesVersion(${amiType}, ${release}) → ${expected}`, () => assert.equal(releaseKubernetesVersion(amiType, release), expected));
  }
});

describe('Managed update: the UpdateNodegroupVersion request', () => {
  const cases: [string, Partial<NodegroupView>, ManagedTarget, ReturnType<typeof planVersionRequest>][] = [
    ['a launch template version alone (no release, no version)', {}, LT, { launchTemplate: { id: 'lt-1', version: '7' }, force: false }],
    ['a release of the group\'s Kubernetes minor: no version', {}, RELEASE, { releaseVersion: '1.31.3-20261201', force: false }],
    ['a release of a newer minor: the version too', { version: '1.30' }, RELEASE, { releaseVersion: '1.31.3-20261201', version: '1.31', force: false }],
    ['a Bottlerocket release: never a version', { version: '1.30', amiType: 'BOTTLEROCKET_x86_64' }, { kind: 'release', releaseVersion: '1.31.0-abc' }, { releaseVersion: '1.31.0-abc', force: false }],
    ['the latest: nothing named', {}, { kind: 'latest' }, { force: false }],
    ['force with on-drain-timeout=force', { tags: { [`${TAG}on-drain-timeout`]: 'force' } }, LT, { launchTemplate: { id: 'lt-1', version: '7' }, force: true }],
    ['no force with on-drain-timeout=fail', { tags: { [`${TAG}on-drain-timeout`]: 'fail' } }, RELEASE, { releaseVersion: '1.31.3-20261201', force: false }],
    ['no force with a malformed on-drain-timeout', { tags: { [`${TAG}on-drain-timeout`]: 'yes' } }, RELEASE, { releaseVersion: '1.31.3-20261201', force: false }],
  ];
  for (const [name, overrides, target, expected] of cases) {
    it(name, () => assert.deepEqual(planVersionRequest(group(overrides), target), expected));
  }
});

describe('Managed update: the update config', () => {
  const cases: [string, Record<string, string>, UpdateConfigView | undefined, ReturnType<typeof planUpdateConfig>['decision'], UpdateConfigView?][] = [
    ['no tags: the owner\'s EKS config stays', {}, { maxUnavailable: 1 }, 'keep'],
    ['max-unavailable=2 over 1', { 'max-unavailable': '2' }, { maxUnavailable: 1 }, 'apply', { maxUnavailable: 2 }],
    ['max-unavailable=2 already', { 'max-unavailable': '2' }, { maxUnavailable: 2 }, 'keep'],
    ['max-unavailable=25% over a count', { 'max-unavailable': '25%' }, { maxUnavailable: 1 }, 'apply', { maxUnavailablePercentage: 25 }],
    ['max-unavailable=25% already', { 'max-unavailable': '25%' }, { maxUnavailablePercentage: 25 }, 'keep'],
    ['max-unavailable=3 over a percentage', { 'max-unavailable': '3' }, { maxUnavailablePercentage: 3 }, 'apply', { maxUnavailable: 3 }],
    ['max-unavailable on a group with no config', { 'max-unavailable': '1' }, undefined, 'apply', { maxUnavailable: 1 }],
    ['update-strategy=minimal: the current size is repeated', { 'update-strategy': 'minimal' }, { maxUnavailablePercentage: 10 }, 'apply', { maxUnavailablePercentage: 10, updateStrategy: 'MINIMAL' }],
    ['update-strategy=minimal with no config: size 1', { 'update-strategy': 'minimal' }, undefined, 'apply', { maxUnavailable: 1, updateStrategy: 'MINIMAL' }],
    ['update-strategy=surge on a DEFAULT group', { 'update-strategy': 'surge' }, { maxUnavailable: 1, updateStrategy: 'DEFAULT' }, 'keep'],
    ['update-strategy=surge where EKS says nothing (DEFAULT)', { 'update-strategy': 'surge' }, { maxUnavailable: 1 }, 'keep'],
    ['update-strategy=surge on a MINIMAL group', { 'update-strategy': 'surge' }, { maxUnavailable: 2, updateStrategy: 'MINIMAL' }, 'apply', { maxUnavailable: 2, updateStrategy: 'DEFAULT' }],
    ['both tags', { 'max-unavailable': '4', 'update-strategy': 'minimal' }, { maxUnavailable: 1 }, 'apply', { maxUnavailable: 4, updateStrategy: 'MINIMAL' }],
    ['a malformed max-unavailable changes nothing', { 'max-unavailable': 'lots' }, { maxUnavailable: 5 }, 'keep'],
    ['a malformed strategy changes nothing, a valid size still applies', { 'max-unavailable': '2', 'update-strategy': 'fast' }, { maxUnavailable: 1 }, 'apply', { maxUnavailable: 2 }],
    ['other tags do not count', { canary: '2', window: 'Sat 02:00-06:00 UTC' }, undefined, 'keep'],
  ];
  for (const [name, tags, current, decision, config] of cases) {
    it(name, () => {
      const plan = planUpdateConfig(Object.fromEntries(Object.entries(tags).map(([k, v]) => [`${TAG}${k}`, v])), current);
      assert.equal(plan.decision, decision, JSON.stringify(plan));
      if (plan.decision === 'apply') {
        assert.deepEqual(plan.updateConfig, config);
        assert.ok(plan.changes.length > 0);
      }
    });
  }

  it('applied once, is kept the next time (for any tags and current config)', () => {
    const size = fc.oneof(fc.integer({ min: 1, max: 100 }).map(String), fc.integer({ min: 1, max: 100 }).map((n) => `${n}%`), fc.constantFrom('0', 'x', '101'));
    const current = fc.option(
      fc.record({ maxUnavailable: fc.integer({ min: 1, max: 100 }), updateStrategy: fc.constantFrom('DEFAULT' as const, 'MINIMAL' as const) }, { requiredKeys: ['maxUnavailable'] }),
      { nil: undefined },
    );
    fc.assert(
      fc.property(fc.option(size, { nil: undefined }), fc.option(fc.constantFrom('surge', 'minimal', 'slow'), { nil: undefined }), current, (max, strategy, now) => {
        const tags: Record<string, string> = {};
        if (max !== undefined) tags[`${TAG}max-unavailable`] = max;
        if (strategy !== undefined) tags[`${TAG}update-strategy`] = strategy;
        const plan = planUpdateConfig(tags, now);
        if (plan.decision === 'keep') return;
        // exactly one size, as EKS requires, and applying it settles the question
        assert.equal((plan.updateConfig.maxUnavailable === undefined) !== (plan.updateConfig.maxUnavailablePercentage === undefined), true);
        assert.equal(planUpdateConfig(tags, plan.updateConfig).decision, 'keep');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('Managed update: before starting', () => {
  const configTags = { [`${TAG}max-unavailable`]: '2' };
  const running = (overrides: Partial<UpdateView>) => update({ id: 'u-9', createdAt: '2026-12-01T10:00:00.000Z', ...overrides });
  const cases: [string, 'config' | 'version', Partial<NodegroupView>, UpdateView | undefined, ManagedTarget, ReturnType<typeof decideStart>][] = [
    ['a group being deleted is refused', 'config', { status: 'DELETING' }, undefined, RELEASE, { action: 'refuse', reason: 'node group prod/general is DELETING: it cannot be updated' }],
    ['a group at the target needs nothing', 'config', { releaseVersion: '1.31.3-20261201' }, undefined, RELEASE, { action: 'already-at-target' }],
    ['a group at the target with another update running needs nothing either', 'version', { status: 'UPDATING', releaseVersion: '1.31.3-20261201' }, running({ type: 'ConfigUpdate' }), RELEASE, { action: 'already-at-target' }],
    [
      'our update running is adopted',
      'config',
      { status: 'UPDATING' },
      running({ params: [{ type: 'ReleaseVersion', value: '1.31.3-20261201' }] }),
      RELEASE,
      { action: 'adopt-version', updateId: 'u-9' },
    ],
    [
      'our update running is adopted even if the group shows the target already',
      'version',
      { status: 'UPDATING', launchTemplate: { id: 'lt-1', version: '7' } },
      running({ params: [{ type: 'LaunchTemplateVersion', value: '7' }] }),
      LT,
      { action: 'adopt-version', updateId: 'u-9' },
    ],
    [
      'another update running: wait',
      'version',
      { status: 'UPDATING' },
      running({ params: [{ type: 'ReleaseVersion', value: '1.31.3-20261115' }] }),
      RELEASE,
      { action: 'wait-other', detail: 'VersionUpdate u-9 is in progress since 2026-12-01T10:00:00.000Z' },
    ],
    [
      'our config update running is adopted in the config phase',
      'config',
      { status: 'UPDATING', tags: configTags, updateConfig: { maxUnavailable: 1 } },
      running({ type: 'ConfigUpdate', params: [{ type: 'MaxUnavailable', value: '2' }] }),
      RELEASE,
      { action: 'adopt-config', updateId: 'u-9' },
    ],
    [
      'a config update of someone else: wait',
      'config',
      { status: 'UPDATING', tags: configTags, updateConfig: { maxUnavailable: 1 } },
      running({ type: 'ConfigUpdate', params: [{ type: 'DesiredSize', value: '5' }] }),
      RELEASE,
      { action: 'wait-other', detail: 'ConfigUpdate u-9 is in progress since 2026-12-01T10:00:00.000Z' },
    ],
    ['UPDATING without an update listed yet: wait', 'config', { status: 'UPDATING' }, undefined, RELEASE, { action: 'wait-other', detail: 'the node group is UPDATING' }],
    ['CREATING: wait', 'version', { status: 'CREATING' }, undefined, RELEASE, { action: 'wait-other', detail: 'the node group is CREATING' }],
    [
      'the config first when the tags ask for it',
      'config',
      { tags: configTags, updateConfig: { maxUnavailable: 1 } },
      undefined,
      RELEASE,
      { action: 'start-config', updateConfig: { maxUnavailable: 2 }, changes: ['max unavailable 1 → 2'] },
    ],
    ['then the version', 'version', { tags: configTags, updateConfig: { maxUnavailable: 1 } }, undefined, RELEASE, { action: 'start-version', request: { releaseVersion: '1.31.3-20261201', force: false } }],
    ['a DEGRADED group may be updated', 'config', { status: 'DEGRADED' }, undefined, LT, { action: 'start-version', request: { launchTemplate: { id: 'lt-1', version: '7' }, force: false } }],
  ];
  for (const [name, phase, overrides, inProgress, target, expected] of cases) {
    it(name, () => assert.deepEqual(decideStart(phase, { nodegroup: group(overrides), ...(inProgress ? { running: inProgress } : {}) }, target), expected));
  }
});

describe('Managed update: polling', () => {
  const now = new Date('2026-12-01T10:12:30.000Z');
  const createdAt = '2026-12-01T10:00:00.000Z';
  it('waits 60 s while nodes update and says for how long', () => {
    assert.deepEqual(decidePoll('await-version', { status: 'InProgress', createdAt }, now), { action: 'wait', seconds: 60, detail: 'EKS is replacing the nodes for 12 min' });
  });
  it('waits 30 s for a config update', () => {
    assert.deepEqual(decidePoll('await-config', { status: 'InProgress' }, now), { action: 'wait', seconds: 30, detail: 'config update in progress' });
  });
  it('ends on Successful, fails on Failed and Cancelled', () => {
    assert.deepEqual(decidePoll('await-version', { status: 'Successful' }, now), { action: 'done' });
    assert.deepEqual(decidePoll('await-version', { status: 'Failed' }, now), { action: 'failed' });
    assert.deepEqual(decidePoll('await-config', { status: 'Cancelled' }, now), { action: 'failed' });
  });
});

// ---- failure reports ----

function pod(name: string, labels: Record<string, string>, extra: { ready?: boolean; daemonSet?: boolean; terminating?: boolean; phase?: string; namespace?: string } = {}): V1Pod {
  return {
    metadata: {
      name,
      namespace: extra.namespace ?? 'shop',
      uid: name,
      labels,
      ...(extra.daemonSet ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'ds', uid: 'ds', controller: true }] } : {}),
      ...(extra.terminating ? { deletionTimestamp: '2026-12-01T10:00:00Z' } : {}),
    },
    spec: { containers: [], nodeName: 'n1' },
    status: { phase: extra.phase ?? 'Running', conditions: [{ type: 'Ready', status: extra.ready === false ? 'False' : 'True' }] },
  } as V1Pod;
}

function pdb(name: string, selector: Record<string, string>, disruptionsAllowed: number, namespace = 'shop'): V1PodDisruptionBudget {
  return { metadata: { name, namespace }, spec: { selector: { matchLabels: selector } }, status: { disruptionsAllowed, currentHealthy: 3, desiredHealthy: 3, expectedPods: 3 } } as V1PodDisruptionBudget;
}

describe('Managed update failure: pods a budget blocks', () => {
  it('lists pods under a budget that allows nothing, and those under two budgets, and nothing else', () => {
    const pods = new Map([
      [
        'n1',
        [
          pod('web-1', { app: 'web' }),
          pod('web-2', { app: 'web' }, { ready: false }), // not Ready: the budget may let it go
          pod('web-3', { app: 'web' }, { terminating: true }), // already leaving
          pod('api-1', { app: 'api' }), // its budget allows one
          pod('both-1', { app: 'web', tier: 'x' }), // two budgets
          pod('log-1', { app: 'web' }, { daemonSet: true }), // a drain leaves it
          pod('web-9', { app: 'web' }, { namespace: 'other' }), // the budget is in another namespace
          pod('done-1', { app: 'web' }, { phase: 'Succeeded' }),
        ],
      ],
      ['n2', [pod('web-4', { app: 'web' })]],
    ]);
    const budgets = [pdb('web', { app: 'web' }, 0), pdb('api', { app: 'api' }, 1), pdb('tier', { tier: 'x' }, 3)];
    const found = findBlockingPods(pods, budgets);
    assert.deepEqual(found.blockers, [
      { node: 'n1', pod: 'shop/web-1', pdb: 'shop/web', disruptionsAllowed: 0 },
      { node: 'n2', pod: 'shop/web-4', pdb: 'shop/web', disruptionsAllowed: 0 },
    ]);
    assert.deepEqual(found.multiBudgetPods, [{ pod: 'shop/both-1', pdbs: ['shop/web', 'shop/tier'] }]);
  });
});

const NODE_FACTS: NodeCreationFacts = {
  instances: [
    { instanceId: 'i-1', state: 'running', registered: false, ready: false },
    { instanceId: 'i-2', state: 'running', registered: false, ready: false },
  ],
  nodeRole: 'arn:aws:iam::1:role/node',
  roleAccess: 'access-entry',
  roleAccessDetail: 'type EC2_LINUX',
  subnets: [
    { id: 'subnet-a', zone: 'a', freeAddresses: 200 },
    { id: 'subnet-b', zone: 'b', freeAddresses: 100 },
  ],
  surge: 4,
  customAmi: false,
  instanceTypes: ['m5.large'],
};

describe('Managed update failure: the causes of NodeCreationFailure', () => {
  it('rules out what the facts rule out and leaves bootstrap and network to check', () => {
    const causes = nodeCreationCauses(NODE_FACTS);
    assert.deepEqual(causes.confirmed, []);
    assert.equal(causes.ruledOut.length, 2);
    assert.match(causes.ruledOut[0]!, /has a node access entry/);
    assert.match(causes.ruledOut[1]!, /subnet-a 200 free/);
    assert.equal(causes.toCheck.length, 2);
    assert.match(causes.toCheck[0]!, /launch template's user data/);
    assert.match(causes.toCheck[1]!, /cluster endpoint on port 443/);
  });

  it('points at the custom AMI bootstrap when the template names the AMI', () => {
    assert.match(nodeCreationCauses({ ...NODE_FACTS, customAmi: true }).toCheck[0]!, /custom AMI's bootstrap/);
  });

  it('confirms a node role that may not join, and does not guess further about unregistered instances', () => {
    const causes = nodeCreationCauses({ ...NODE_FACTS, roleAccess: 'missing', roleAccessDetail: 'it has no EC2_LINUX/EC2_WINDOWS access entry' });
    assert.equal(causes.confirmed.length, 1);
    assert.match(causes.confirmed[0]!.cause, /node role arn:aws:iam::1:role\/node may not join the cluster: it has no EC2_LINUX/);
    assert.match(causes.confirmed[0]!.fix, /access entry/);
    assert.ok(!causes.toCheck.some((c) => c.includes('user data')));
  });

  it('confirms subnets out of addresses only when they cannot hold the surge', () => {
    const tight = nodeCreationCauses({ ...NODE_FACTS, subnets: [{ id: 'subnet-a', freeAddresses: 2 }, { id: 'subnet-b', freeAddresses: 1 }] });
    assert.match(tight.confirmed[0]!.cause, /out of addresses .* launches 4 at once/);
    const oneEmpty = nodeCreationCauses({ ...NODE_FACTS, subnets: [{ id: 'subnet-a', freeAddresses: 0 }, { id: 'subnet-b', freeAddresses: 50 }] });
    assert.deepEqual(oneEmpty.confirmed, []);
    assert.ok(oneEmpty.toCheck.some((c) => c.startsWith('subnet addresses: subnet-a has none left')));
  });

  it('says "to check" for what it could not read', () => {
    const causes = nodeCreationCauses({ ...NODE_FACTS, roleAccess: 'unknown', subnets: [] });
    assert.ok(causes.toCheck.some((c) => c.startsWith('node role arn:aws:iam::1:role/node mapped to the cluster')));
    assert.ok(causes.toCheck.some((c) => c.includes('free addresses')));
    assert.ok(causes.ruledOut.length === 0);
  });

  it('confirms nodes that registered but never became Ready, and points at capacity for instances that ended', () => {
    const causes = nodeCreationCauses({
      ...NODE_FACTS,
      instances: [
        { instanceId: 'i-1', state: 'running', registered: true, ready: false, nodeName: 'ip-1' },
        { instanceId: 'i-2', state: 'terminated', registered: false, ready: false },
      ],
    });
    assert.match(causes.confirmed[0]!.cause, /1 node registered but never became Ready \(ip-1\)/);
    assert.ok(causes.toCheck.some((c) => c.startsWith('instance capacity: i-2 terminated')));
  });
});

describe('Managed update failure: the report', () => {
  const facts = (extra: Partial<FailureFacts> = {}): FailureFacts => ({ cluster: 'prod', nodegroup: 'general', unavailable: [], ...extra });
  const failedWith = (code: string, resourceIds: string[] = []) => ({ id: 'u-1', status: 'Failed' as const, errors: [{ code, message: `${code} happened`, resourceIds }] });

  it('PodEvictionFailure: names each blocking budget, its pods, the cordoned nodes, and what to do', () => {
    const report = explainUpdateFailure(
      failedWith('PodEvictionFailure', ['n1']),
      facts({
        podEviction: {
          cordonedNodes: ['n1', 'n2'],
          blockers: [
            { node: 'n1', pod: 'shop/web-1', pdb: 'shop/web', disruptionsAllowed: 0 },
            { node: 'n2', pod: 'shop/web-2', pdb: 'shop/web', disruptionsAllowed: 0 },
            { node: 'n1', pod: 'pay/api-1', pdb: 'pay/api', disruptionsAllowed: 0 },
          ],
          multiBudgetPods: [],
        },
      }),
    );
    assert.equal(report.updateId, 'u-1');
    assert.deepEqual(report.blockers, [
      { pod: 'shop/web-1', pdb: 'shop/web', disruptionsAllowed: 0 },
      { pod: 'shop/web-2', pdb: 'shop/web', disruptionsAllowed: 0 },
      { pod: 'pay/api-1', pdb: 'pay/api', disruptionsAllowed: 0 },
    ]);
    assert.equal(report.reasons[0], 'PodDisruptionBudget shop/web allows 0 disruptions and covers 2 pods still on cordoned nodes: shop/web-1, shop/web-2');
    assert.equal(report.reasons[1], 'PodDisruptionBudget pay/api allows 0 disruptions and covers 1 pod still on cordoned nodes: pay/api-1');
    assert.match(report.reasons[2]!, /2 nodes of the group stay cordoned \(n1, n2\)/);
    assert.match(report.summary, /^The update of prod\/general failed: EKS could not evict pods for 15 minutes because PodDisruptionBudgets shop\/web, pay\/api allow no disruption \(3 pods on cordoned nodes\)\./);
  });

  it('PodEvictionFailure with no blocker left says so instead of inventing one', () => {
    const report = explainUpdateFailure(failedWith('PodEvictionFailure', ['n1']), facts({ podEviction: { cordonedNodes: ['n1'], blockers: [], multiBudgetPods: [] } }));
    assert.deepEqual(report.blockers, []);
    assert.match(report.reasons[0]!, /no pod left on the cordoned nodes is held by a budget now/);
    assert.match(report.summary, /no budget blocks them now/);
  });

  it('PodEvictionFailure with a pod under two budgets names both', () => {
    const report = explainUpdateFailure(failedWith('PodEvictionFailure'), facts({ podEviction: { cordonedNodes: [], blockers: [], multiBudgetPods: [{ pod: 'shop/x', pdbs: ['shop/a', 'shop/b'] }] } }));
    assert.match(report.summary, /could not evict shop\/x, which 2 PodDisruptionBudgets cover/);
  });

  it('PodEvictionFailure when the cluster could not be read: says what could not be read', () => {
    const report = explainUpdateFailure(failedWith('PodEvictionFailure', ['n1']), facts({ unavailable: ['the pods blocking the drain: HTTP 403'] }));
    assert.equal(report.blockers, undefined);
    assert.ok(report.reasons.includes('not read: the pods blocking the drain: HTTP 403'));
    assert.match(report.summary, /could not be read/);
  });

  it('NodeCreationFailure: the summary names the first confirmed cause and its fix', () => {
    const report = explainUpdateFailure(
      failedWith('NodeCreationFailure', ['i-1', 'i-2']),
      facts({ nodeCreation: { ...NODE_FACTS, roleAccess: 'missing', roleAccessDetail: 'it has no EC2_LINUX/EC2_WINDOWS access entry' } }),
    );
    assert.equal(
      report.summary,
      'The update of prod/general failed because its new nodes never became Ready: node role arn:aws:iam::1:role/node may not join the cluster: it has no EC2_LINUX/EC2_WINDOWS access entry. ' +
        'To fix it, create an EC2_LINUX (or EC2_WINDOWS) access entry for it, or map it in aws-auth to system:bootstrappers and system:nodes, then start the rollout again.',
    );
    assert.match(report.reasons[0]!, /2 new instances did not become Ready nodes: 2 ran but never registered \(i-1, i-2\)/);
  });

  it('NodeCreationFailure without a confirmed cause: the likely one, said as likely', () => {
    const report = explainUpdateFailure(failedWith('NodeCreationFailure', ['i-1', 'i-2']), facts({ nodeCreation: NODE_FACTS }));
    assert.match(report.summary, /2 new instances ran but never registered .* The likely cause is the launch template's user data/);
    assert.ok(report.reasons.some((r) => r.startsWith('likely causes to check: ')));
  });

  it('other codes: their meaning and the message EKS gave', () => {
    const report = explainUpdateFailure(failedWith('Ec2LaunchTemplateVersionMaxLimitExceeded'), facts());
    assert.match(report.summary, /failed with Ec2LaunchTemplateVersionMaxLimitExceeded: the launch template reached its limit of versions.*EKS said: Ec2LaunchTemplateVersionMaxLimitExceeded happened/);
    const unknown = explainUpdateFailure(failedWith('SomethingNew'), facts());
    assert.equal(unknown.summary, 'The update of prod/general failed with SomethingNew: SomethingNew happened.');
  });

  it('a cancelled update, and a failure without detail', () => {
    const cancelled = explainUpdateFailure({ id: 'u-2', status: 'Cancelled', errors: [] }, facts());
    assert.equal(cancelled.status, 'Cancelled');
    assert.match(cancelled.summary, /was cancelled before it finished/);
    const bare = explainUpdateFailure({ id: 'u-3', status: 'Failed', errors: [] }, facts());
    assert.match(bare.summary, /without an error detail/);
  });
});

describe('Managed update: the fleet and the workloads', () => {
  const now = new Date('2026-12-07T10:00:00Z');
  const state: ManagedUpdateState = { phase: 'version', startedAt: now.toISOString() };
  const crashLoop = { signal: 'crash-loops', status: 'regressed', detail: '2 pods', evidence: ['shop/web-1'] } as unknown as SignalResult;
  const roll: ManagedRoll = { kind: 'managed', managed: null, end: null, report: null };
  const names = { cluster: 'prod', group: { kind: 'managed', name: 'general' } } as never;

  it('starts the update when the fleet says continue (or is not asked)', () => {
    assert.equal(decideBeforeVersion({ verdict: 'continue' }, state, now), undefined);
    assert.equal(decideBeforeVersion(undefined, state, now), undefined);
  });

  it('waits under a freeze, keeping when it was first seen', () => {
    const frozen = decideBeforeVersion({ verdict: 'pause', freeze: {} as never, reason: 'frozen: all' }, state, now)!;
    assert.deepEqual([frozen.kind, frozen.kind === 'wait' && frozen.phase, frozen.kind === 'wait' && frozen.seconds, frozen.state.frozenSince], ['wait', 'frozen', 180, now.toISOString()]);
    const later = decideBeforeVersion({ verdict: 'pause', freeze: {} as never, reason: 'frozen: all' }, frozen.state, new Date(now.getTime() + 180_000))!;
    assert.equal(later.state.frozenSince, now.toISOString());
    const { outcome, announce, record } = managedOutcome(roll, frozen, names);
    assert.deepEqual([outcome.next, outcome.wait?.phase, announce?.event, announce?.once, record], ['wait', 'paused', 'paused', `paused:${now.toISOString()}`, undefined]);
  });

  it('ends before starting when the release is held: refused (nothing changed), recorded stopped', () => {
    const held = decideBeforeVersion({ verdict: 'stop', hold: {} as never, reason: 'rel is held' }, state, now)!;
    assert.deepEqual(held, { kind: 'held', state, reason: 'stopped before the EKS update started: rel is held' });
    const { outcome, announce, record } = managedOutcome(roll, held, names);
    assert.deepEqual([outcome.next, outcome.outcome, announce?.event], ['end', 'refused', 'aborted']);
    assert.deepEqual(record, { state: 'stopped', detail: 'stopped before the EKS update started: rel is held' });
  });

  it('keeps the first regression only; insufficient data or healthy changes nothing', () => {
    const watched = noteRegression(state, { regressed: true, reason: 'workloads regressed on the new nodes: crash-loops: 2 pods', signals: [crashLoop] });
    assert.deepEqual(watched.rollback, { reason: 'health gate: workloads regressed on the new nodes: crash-loops: 2 pods', cause: 'failed-health', signals: [crashLoop] });
    assert.equal(noteRegression(watched, { regressed: true, reason: 'later', signals: [] }), watched);
    assert.equal(noteRegression(state, { regressed: false }), state);
  });

  it('keeps a hold seen while EKS updates as the rollback\'s cause, recorded stopped; a freeze or continue changes nothing', () => {
    const held = noteHold(state, { verdict: 'stop', hold: {} as never, reason: 'rel is held' });
    assert.deepEqual(held.rollback, { reason: 'stopped: rel is held', cause: 'held' });
    assert.equal(noteHold(state, { verdict: 'pause', freeze: {} as never, reason: 'frozen' }), state);
    assert.equal(noteHold(state, { verdict: 'continue' }), state);
    const regressed = noteRegression(state, { regressed: true, reason: 'x', signals: [] });
    assert.equal(noteHold(regressed, { verdict: 'stop', hold: {} as never, reason: 'held' }), regressed, 'the regression seen first stays the cause');
    const step: ManagedStep = { kind: 'wait', state: { ...held, phase: 'await-version', updateId: 'u-1' }, seconds: 60, phase: 'nodes-updating' };
    const out = managedOutcome({ ...roll, managed: { ...state, phase: 'await-version', updateId: 'u-1' } }, step, names);
    assert.deepEqual(out.record, { state: 'stopped', detail: 'stopped: rel is held' });
    assert.deepEqual(out.announce?.detail, { reason: 'stopped: rel is held', cause: 'held' });
  });

  it('records failed-health once, when the regression is first seen, and announces it with the signals', () => {
    const rollback = { reason: 'health gate: crash-loops', cause: 'failed-health' as const, signals: [crashLoop] };
    const seen: ManagedStep = { kind: 'wait', state: { ...state, phase: 'await-version', updateId: 'u-1', rollback }, seconds: 60, phase: 'nodes-updating' };
    const first = managedOutcome({ ...roll, managed: { ...state, phase: 'await-version', updateId: 'u-1' } }, seen, names);
    assert.deepEqual(first.record, { state: 'failed-health', detail: 'health gate: crash-loops' });
    assert.deepEqual(first.announce, { event: 'rolling-back', detail: { reason: 'health gate: crash-loops', cause: 'failed-health', signals: [crashLoop] }, once: 'rolling-back' });
    const back = managedOutcome(first.outcome.state as ManagedRoll, { kind: 'rolled-back', state: seen.state, reason: rollback.reason }, names);
    assert.equal(back.record, undefined);
    assert.deepEqual([back.outcome.outcome, back.announce?.event, back.announce?.detail], ['rolled-back', 'rolled-back', { reason: 'health gate: crash-loops', cause: 'failed-health', signals: [crashLoop] }]);
    // a group rolled by release cannot go back: recorded, but no rolling-back announced
    const noWay = managedOutcome({ ...roll, managed: { ...state, phase: 'await-version', updateId: 'u-1' } }, seen, names, false);
    assert.deepEqual([noWay.record?.state, noWay.announce], ['failed-health', undefined]);
    const stuck = managedOutcome(first.outcome.state as ManagedRoll, { kind: 'regressed', state: seen.state, reason: 'no way back' }, names, false);
    assert.deepEqual([stuck.outcome.outcome, stuck.announce?.event], ['failed', 'failed']);
  });
});
