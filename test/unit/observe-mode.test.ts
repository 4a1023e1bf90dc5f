import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DescribeAutoScalingGroupsCommand, DescribeLifecycleHooksCommand, PutLifecycleHookCommand, AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { readNodeGroupConfig } from '../../shared/config/node-group-config.js';
import { hookLeftToDefault, observedBy } from '../../shared/config/observe.js';
import { loadServiceConfig } from '../../shared/config/service-config.js';
import type { GroupView } from '../../shared/detect/inventory.js';
import { observeRollout } from '../../shared/detect/observe-rollout.js';
import { type GroupPlan, planGroup } from '../../shared/detect/plan-rollouts.js';
import { ensureTerminateHooks } from '../../shared/drain/ensure-terminate-hooks.js';
import { beginRollout } from '../../shared/rollout/begin-rollout.js';
import { RolloutInputSchema } from '../../shared/events/rollout.js';
import { drainSteps } from '../../shared/drain/observe-drain.js';
import { ConfigurationError } from '../../shared/errors.js';
import { OBSERVED_EVENTS, observedEvent } from '../../shared/events/observed.js';
import type { V1Pod, V1PodDisruptionBudget } from '../../shared/kube/api-types.js';
import { decidePreview } from '../../shared/kube/drain/preview-drain.js';
import { awsScope } from '../../shared/aws/clients.js';

/** Observe mode's pure decisions (config/observe.ts and the flows' reports); the scenario is test/scenarios/observe-mode.test.ts. */
const NOW = new Date('2026-12-07T10:00:00Z'); // a Monday
const TARGET = { imageId: 'ami-0new', release: '1.31.13-20261215' };

function selfManaged(tags: Record<string, string> = {}, desired = 3): GroupView {
  return {
    place: { accountId: '', region: 'eu-west-1' },
    home: true,
    cluster: 'prod',
    kind: 'self-managed',
    name: 'prod-workers',
    autoScalingGroup: 'prod-workers',
    tags: { 'eks-node-lifecycle/rollout': 'auto', ...tags },
    launchTemplate: { id: 'lt-0abc', version: 4 },
    kubernetesVersion: '1.31',
    controlPlaneVersion: '1.31',
    imageId: 'ami-0old',
    size: { desired, min: 1, max: 6 },
  };
}

const target = { decision: 'target' as const, image: TARGET, reason: 'recommended release' };
const rollPlan = (group: GroupView, rollout: 'auto' | 'approve' | 'observe', serviceMode: 'act' | 'observe' = 'act') => planGroup(group, { rollout, serviceMode, target }) as Extract<GroupPlan, { action: 'roll' }>;
const nodes = (n: number) => Array.from({ length: n }, (_, i) => ({ instanceId: `i-0000000000000000${i}`, name: `ip-10-0-0-${i}`, availabilityZone: 'eu-west-1a', launchedAt: new Date(Date.UTC(2026, 10, 1 + i)).toISOString() }));

describe('Service config: mode', () => {
  const env = { AWS_REGION: 'eu-west-1', MANAGED_CLUSTERS: 'prod' };
  it('acts unless told to observe', () => {
    assert.equal(loadServiceConfig(env).mode, 'act');
    assert.equal(loadServiceConfig({ ...env, SERVICE_MODE: 'observe' }).mode, 'observe');
  });
  it('throws naming SERVICE_MODE (the param mode) for anything but observe or act', () => {
    for (const value of ['Observe', 'dry-run', 'acting', '']) {
      assert.throws(() => loadServiceConfig({ ...env, SERVICE_MODE: value }), (e: Error) => e instanceof ConfigurationError && /SERVICE_MODE must be observe or act \(the stage param mode\)/.test(e.message), value);
    }
  });
});

describe('Observe mode: who observes', () => {
  it('is the service first, then the group\'s rollout=observe; act otherwise', () => {
    assert.equal(observedBy('observe', 'auto'), 'service');
    assert.equal(observedBy('observe', 'observe'), 'service');
    assert.equal(observedBy('act', 'observe'), 'group');
    for (const rollout of ['off', 'auto', 'approve', undefined] as const) assert.equal(observedBy('act', rollout), undefined);
  });
  it('reads rollout=observe from the tag vocabulary, and Observe with a note', () => {
    assert.equal(readNodeGroupConfig({ 'eks-node-lifecycle/rollout': 'observe' }).policy.rollout, 'observe');
    const folded = readNodeGroupConfig({ 'eks-node-lifecycle/rollout': 'Observe' });
    assert.equal(folded.policy.rollout, 'observe');
    assert.deepEqual(folded.problems, []);
    assert.match(folded.notes.join(), /rollout=Observe read as observe/);
  });
  it('says which default result applies to a hook left unanswered', () => {
    assert.match(hookLeftToDefault({ defaultResult: 'ABANDON', timeoutSeconds: 600 }), /default result ABANDON applies after 600 s/);
    assert.match(hookLeftToDefault(undefined), /own default result applies at its timeout/);
  });
});

describe('Planning: a group observed is planned as a roll, marked observed', () => {
  it('marks the plan by the group\'s tag, or by the service\'s mode', () => {
    assert.equal(rollPlan(selfManaged(), 'observe').observe, 'group');
    assert.equal(rollPlan(selfManaged(), 'observe').mode, 'auto');
    assert.equal(rollPlan(selfManaged(), 'approve', 'observe').observe, 'service');
    assert.equal(rollPlan(selfManaged(), 'approve', 'observe').mode, 'approve');
    assert.equal(rollPlan(selfManaged(), 'auto').observe, undefined);
  });
  it('still leaves a group that is off, current or misconfigured alone, in either mode', () => {
    assert.equal(planGroup(selfManaged(), { rollout: 'off', serviceMode: 'observe', target }).action, 'skip');
    assert.equal(planGroup({ ...selfManaged(), imageId: TARGET.imageId }, { rollout: 'observe', target }).action, 'current');
    assert.equal(planGroup(selfManaged(), { rollout: 'observe', target, blockers: ['channel=soak=7days'] }).action, 'skip');
  });
});

describe('Observe mode: what a rollout would do', () => {
  it('a self-managed group: a launch template version, then batches of its instances, oldest first, canary first', () => {
    const group = selfManaged({ 'eks-node-lifecycle/canary': '1', 'eks-node-lifecycle/max-unavailable': '2' }, 5);
    const observed = observeRollout({ group, plan: rollPlan(group, 'observe'), observedBy: 'group', trigger: 'scheduled-detection', instances: nodes(5).reverse(), now: NOW });
    assert.equal(observed.update, 'batches');
    assert.deepEqual(observed.batches!.map((b) => [b.canary, b.instances.map((i) => i.instanceId.slice(-1))]), [[true, ['0']], [false, ['1', '2']], [false, ['3', '4']]]);
    assert.match(observed.wouldDo[0]!, /^CreateLaunchTemplateVersion of launch template lt-0abc from version 4 with ImageId ami-0new/);
    assert.match(observed.wouldDo[1]!, /^UpdateAutoScalingGroup prod-workers/);
    assert.match(observed.wouldDo[2]!, /^batch 1 of 3 \(canary\): launch replacements, then cordon, drain and terminate i-00000000000000000$/);
    assert.equal(observed.window, 'now');
    assert.match(observed.summary, /^observe mode: would roll prod\/prod-workers from ami-0old to 1\.31\.13-20261215 .* now in 3 batches; nothing was changed$/);
    assert.equal(observedEvent('rollout', observed).detailType, OBSERVED_EVENTS.rollout);
  });
  it('a managed group: an EKS update to the release; minimal terminates first', () => {
    const group: GroupView = { place: { accountId: '', region: 'eu-west-1' }, home: true, cluster: 'prod', kind: 'managed', name: 'system', tags: { 'eks-node-lifecycle/rollout': 'auto', 'eks-node-lifecycle/update-strategy': 'minimal' }, amiType: 'AL2023_x86_64_STANDARD', releaseVersion: '1.31.13-20261105', kubernetesVersion: '1.31', controlPlaneVersion: '1.31' };
    const observed = observeRollout({ group, plan: rollPlan(group, 'auto', 'observe'), observedBy: 'service', trigger: 'scheduled-detection', instances: [], now: NOW });
    assert.equal(observed.update, 'eks-update');
    assert.equal(observed.batches, undefined);
    assert.deepEqual(observed.wouldDo, ['UpdateNodegroupVersion prod/system to release 1.31.13-20261215', 'EKS replaces the nodes (MINIMAL update strategy, max unavailable 1)']);
  });
  it('instance-refresh: a refresh with the new version', () => {
    const group = selfManaged({ 'eks-node-lifecycle/strategy': 'instance-refresh' });
    const observed = observeRollout({ group, plan: rollPlan(group, 'auto', 'observe'), observedBy: 'service', trigger: 'chat', instances: nodes(3), now: NOW });
    assert.equal(observed.update, 'instance-refresh');
    assert.match(observed.wouldDo.at(-1)!, /^StartInstanceRefresh on prod-workers/);
  });
  it('a window that is closed: detection would wait for it, a person would be refused without --now; approval is said', () => {
    const group = selfManaged({ 'eks-node-lifecycle/window': 'sat 02:00-06:00 UTC', 'eks-node-lifecycle/rollout': 'approve' });
    const plan = rollPlan(group, 'approve', 'observe');
    const detected = observeRollout({ group, plan, observedBy: 'service', trigger: 'scheduled-detection', instances: nodes(3), now: NOW });
    assert.match(detected.window, /^waits for the maintenance window "sat 02:00-06:00 UTC", opening 2026-12-12T02:00:00\.000Z$/);
    assert.equal(detected.approval, true);
    assert.match(detected.summary, /at 2026-12-12T02:00:00\.000Z, after approval/);
    const asked = observeRollout({ group, plan, observedBy: 'service', trigger: 'chat', instances: nodes(3), startedBy: 'person', now: NOW });
    assert.match(asked.window, /^refused: outside the maintenance window/);
    const forced = observeRollout({ group, plan, observedBy: 'service', trigger: 'chat', instances: nodes(3), startedBy: 'person', startNow: true, now: NOW });
    assert.equal(forced.window, 'now (--now: outside the maintenance window "sat 02:00-06:00 UTC")');
  });
  it('every instance of the group is in exactly one batch, whatever the size and budgets (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 5 }), (n, maxUnavailable, canary) => {
        const group = selfManaged({ 'eks-node-lifecycle/max-unavailable': String(maxUnavailable), 'eks-node-lifecycle/canary': String(canary) }, n);
        const observed = observeRollout({ group, plan: rollPlan(group, 'auto', 'observe'), observedBy: 'service', trigger: 't', instances: nodes(n), now: NOW });
        const ids = observed.batches!.flatMap((b) => b.instances.map((i) => i.instanceId));
        assert.deepEqual([...ids].sort(), nodes(n).map((x) => x.instanceId).sort());
        assert.ok(observed.batches!.every((b) => b.instances.length <= maxUnavailable));
      }),
      { numRuns: 300 },
    );
  });
});

function pod(name: string, labels: Record<string, string>, owner?: string): V1Pod {
  return {
    metadata: { namespace: 'shop', name, uid: name, labels, ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: owner, name: 'x', uid: 'x', controller: true }] } : {}) },
    spec: { nodeName: 'node-a', containers: [] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  } as V1Pod;
}
const budget = (allowed: number): V1PodDisruptionBudget => ({ metadata: { namespace: 'shop', name: 'web' }, spec: { selector: { matchLabels: { app: 'web' } } }, status: { disruptionsAllowed: allowed, currentHealthy: 6, desiredHealthy: 5, expectedPods: 6 } }) as V1PodDisruptionBudget;

describe('Observe mode: what a drain would do now', () => {
  const pods = [pod('web-1', { app: 'web' }, 'ReplicaSet'), pod('web-2', { app: 'web' }, 'ReplicaSet'), pod('api-1', { app: 'api' }, 'ReplicaSet'), pod('aws-node-x', { k: 'v' }, 'DaemonSet')];
  it('evicts what the budgets allow now, holds back the rest by budget, leaves DaemonSet pods', () => {
    const preview = decidePreview(pods, [budget(1)]);
    assert.deepEqual(preview.evict.map((p) => p.name), ['web-1', 'api-1']);
    assert.deepEqual(preview.blocked.map((b) => [b.pod.name, b.pdb?.name]), [['web-2', 'web']]);
    assert.deepEqual(preview.skipped.map((s) => [s.pod.name, s.reason]), [['aws-node-x', 'daemonset']]);
  });
  it('names the steps: cordon, evictions, held back, heartbeat and completion left to the default result', () => {
    const steps = drainSteps('i-0123456789abcdef0', 'node-a', decidePreview(pods, [budget(0)]), { autoScalingGroupName: 'g', lifecycleHookName: 'drain', defaultResult: 'CONTINUE', timeoutSeconds: 300 }, { drainTimeoutSeconds: 900, onDrainTimeout: 'force' });
    assert.match(steps[0]!, /^cordon node-a/);
    assert.equal(steps[1], 'evict 1 pod now: shop/api-1');
    assert.equal(steps[2], 'hold back 2 pods until their PodDisruptionBudgets allow: shop/web-1, shop/web-2');
    assert.match(steps[3]!, /^at the drain timeout \(15m\), delete the pods still held back \(on-drain-timeout=force\)$/);
    assert.match(steps[5]!, /^CompleteLifecycleAction CONTINUE on hook drain once drained \(.*default result CONTINUE applies after 300 s\)$/);
    assert.deepEqual(drainSteps('i-0123456789abcdef0', null, { nodeFound: false, evict: [], blocked: [], skipped: [], terminating: [] }, undefined), ['no node of i-0123456789abcdef0 in the cluster: nothing to cordon or evict']);
  });
});

describe('Observe mode: terminate hooks', () => {
  it('reports the hooks it would install and installs none', async () => {
    const autoscaling = mockClient(AutoScalingClient);
    try {
      autoscaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [{ AutoScalingGroupName: 'workers', Tags: [{ Key: 'eks-node-lifecycle/drain', Value: 'on' }, { Key: 'kubernetes.io/cluster/prod', Value: 'owned' }] } as never] });
      autoscaling.on(DescribeLifecycleHooksCommand).resolves({ LifecycleHooks: [] });
      const published: { detailType: string; detail: any }[] = [];
      const plan = await ensureTerminateHooks({ aws: awsScope({ region: 'eu-west-1' }), managedClusters: ['prod'], mode: 'observe', publish: async (detailType, detail) => void published.push({ detailType, detail }), now: () => NOW });
      assert.deepEqual(plan, [{ group: 'workers', action: 'install' }]);
      assert.equal(autoscaling.commandCalls(PutLifecycleHookCommand).length, 0);
      assert.equal(published.length, 1);
      assert.equal(published[0]!.detailType, 'Terminate Hooks Observed');
      assert.deepEqual(published[0]!.detail.groups, ['workers']);
      assert.match(published[0]!.detail.wouldDo[0], /^PutLifecycleHook eks-node-lifecycle-drain \(heartbeat 300 s, default CONTINUE\) on workers$/);
    } finally {
      autoscaling.restore();
    }
  });
});

describe('Observe mode: Begin', () => {
  it('refuses a rollout that reached it anyway (started by hand), before any lock: the service\'s mode, or the group\'s tag', async () => {
    const autoscaling = mockClient(AutoScalingClient);
    try {
      for (const [mode, tags, label] of [
        ['observe', { 'eks-node-lifecycle/rollout': 'auto' }, /the service's mode param/],
        ['act', { 'eks-node-lifecycle/rollout': 'observe' }, /the group's eks-node-lifecycle\/rollout=observe/],
      ] as const) {
        autoscaling.reset();
        autoscaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [{ AutoScalingGroupName: 'prod-workers', DesiredCapacity: 3, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })), Instances: [] } as never] });
        const declined: unknown[] = [];
        const recorded: unknown[] = [];
        const input = RolloutInputSchema.parse({ cluster: 'prod', group: { kind: 'self-managed', name: 'prod-workers', autoScalingGroup: 'prod-workers' }, target: { imageId: 'ami-0123456789abcdef0' }, startedBy: { kind: 'person', who: 'alice', startNow: true } });
        const result = await beginRollout(
          { ...input, executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:ami-rollout:by-hand' },
          {
            aws: awsScope({ region: 'eu-west-1' }),
            locks: { acquire: async () => assert.fail('no lock is taken'), recordBeginDecision: async (_arn: string, decision: unknown) => void recorded.push(decision) } as never,
            requiresApproval: async () => false,
            notify: async (event, detail) => void declined.push([event, detail['reason']]),
            mode,
            now: () => NOW,
            log: () => undefined,
          },
        );
        assert.equal(result.decision, 'refused');
        assert.match((result as { reason: string }).reason, label);
        assert.equal(declined.length, 1);
        // the chat reply waiting on Begin reads the refusal it recorded
        assert.deepEqual(recorded.map((d) => (d as { decision: string }).decision), ['refused']);
      }
    } finally {
      autoscaling.restore();
    }
  });
});
