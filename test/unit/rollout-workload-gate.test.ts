import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Node, V1Pod } from '../../shared/kube/api-types.js';
import type { CoreV1Api } from '../../shared/kube/api.js';
import { DEFAULT_HEALTH_CRITERIA } from '../../shared/fleet/workload-health.js';
import { checkHealth, readNodes } from '../../shared/rollout/health-gate.js';

/**
 * The batch health gate with workloads (health-gate.ts checkHealth with a WorkloadGate): a
 * fake API server that answers LISTs of nodes and pods and counts them.
 */
const NOW = new Date('2026-12-07T12:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();
const NEW = ['i-0b0000000000000001', 'i-0b0000000000000002'];
const OLD = ['i-0a0000000000000001', 'i-0a0000000000000002'];

function k8sNode(id: string): V1Node {
  return { metadata: { name: `ip-${id}`, creationTimestamp: ago(600) }, spec: { providerID: `aws:///eu-west-1a/${id}` }, status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: ago(500) }] } };
}

function k8sPod(name: string, id: string, o: { restarts?: number; crash?: boolean; phase?: string; age?: number; ready?: boolean } = {}): V1Pod {
  const age = o.age ?? 300;
  return {
    metadata: { namespace: 'shop', name, creationTimestamp: ago(age), ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: name.split('-')[0]!, uid: 'u', controller: true }] },
    spec: { nodeName: `ip-${id}`, containers: [{ name: 'app' }] },
    status: {
      phase: o.phase ?? 'Running',
      startTime: ago(age),
      conditions: [{ type: 'Ready', status: (o.ready ?? !o.crash) ? 'True' : 'False' }],
      containerStatuses: [{ name: 'app', image: 'app', imageID: '', ready: !o.crash, restartCount: o.restarts ?? 0, ...(o.crash ? { state: { waiting: { reason: 'CrashLoopBackOff' } } } : { state: { running: {} } }) }],
    },
  } as V1Pod;
}

function fakeCore(pods: V1Pod[]) {
  const calls: string[] = [];
  const core = {
    listNode: async () => {
      calls.push('list nodes');
      return { items: [...NEW, ...OLD].map(k8sNode) };
    },
    listPodForAllNamespaces: async (args: { fieldSelector?: string }) => {
      calls.push(`list pods ${args.fieldSelector ?? ''}`);
      return { items: pods };
    },
  } as unknown as CoreV1Api;
  return { core, calls };
}

async function gate(pods: V1Pod[]) {
  const { core, calls } = fakeCore(pods);
  const nodes = await readNodes(core, 'prod');
  const verdict = await checkHealth(core, 'prod', NEW, nodes, { criteria: DEFAULT_HEALTH_CRITERIA, oldInstanceIds: OLD, now: NOW });
  return { verdict, calls };
}

const baseline = [k8sPod('web-o1', OLD[0]!, { age: 86_400, restarts: 1 }), k8sPod('web-o2', OLD[1]!, { age: 86_400 })];

describe('Rollout: the batch health gate judges workloads', () => {
  it('healthy: every pod on the new nodes Running and Ready, none restarting', async () => {
    const { verdict } = await gate([...baseline, k8sPod('web-n1', NEW[0]!), k8sPod('web-n2', NEW[1]!)]);
    assert.equal(verdict.verdict, 'healthy');
    assert.equal(verdict.report?.verdict, 'healthy');
  });

  it('regressed at once by a crash-looping pod, however young the batch, with the numbers', async () => {
    const { verdict } = await gate([...baseline, k8sPod('web-n1', NEW[0]!, { crash: true, restarts: 2, age: 60 }), k8sPod('web-n2', NEW[1]!)]);
    assert.equal(verdict.verdict, 'regressed');
    assert.ok(verdict.verdict === 'regressed');
    const crash = verdict.report.signals.find((s) => s.signal === 'crash-loops')!;
    assert.equal(crash.status, 'regressed');
    assert.equal(crash.seen, 1);
    assert.equal(crash.threshold, 0);
    assert.deepEqual(crash.evidence, [`shop/web-n1 on ip-${NEW[0]}`]);
    assert.match(verdict.reason, /crash-loops: 1 pods in CrashLoopBackOff/);
  });

  it('a workload crash-looping on the previous image too is not the new image\'s doing', async () => {
    const { verdict } = await gate([k8sPod('web-o1', OLD[0]!, { crash: true, age: 86_400 }), k8sPod('web-n1', NEW[0]!, { crash: true })]);
    assert.notEqual(verdict.verdict, 'regressed');
  });

  it('restarts of a young batch are insufficient data, never a failed batch: it waits as before', async () => {
    // 6 restarts in 10 pod-minutes: far above any floor, but fewer than minPodHours (1) to judge a rate on
    const { verdict } = await gate([...baseline, k8sPod('web-n1', NEW[0]!, { restarts: 3 }), k8sPod('web-n2', NEW[1]!, { restarts: 3 })]);
    assert.equal(verdict.verdict, 'healthy');
    assert.equal(verdict.report?.verdict, 'insufficient-data');
    assert.equal(verdict.report?.signals.find((s) => s.signal === 'restart-rate')?.status, 'insufficient-data');
  });

  it('restarts with enough pod-hours against the old nodes\' baseline regress', async () => {
    const { verdict } = await gate([...baseline, k8sPod('web-n1', NEW[0]!, { restarts: 6, age: 7200 }), k8sPod('web-n2', NEW[1]!, { age: 7200 })]);
    assert.equal(verdict.verdict, 'regressed');
    const rate = verdict.report!.signals.find((s) => s.signal === 'restart-rate')!;
    assert.equal(rate.status, 'regressed');
    assert.ok(rate.baseline !== undefined && rate.baseline < 0.1, `baseline from the old nodes: ${rate.baseline}`);
  });

  it('a pod not yet Ready keeps the readiness gate pending, as before', async () => {
    const { verdict } = await gate([...baseline, k8sPod('web-n1', NEW[0]!, { ready: false }), k8sPod('web-n2', NEW[1]!)]);
    assert.equal(verdict.verdict, 'pending');
  });

  it('one LIST of nodes and one of pods per evaluation, whatever the batch\'s size (finished pods left out by field selector)', async () => {
    const { calls } = await gate([...baseline, k8sPod('web-n1', NEW[0]!), k8sPod('web-n2', NEW[1]!)]);
    assert.deepEqual(calls, ['list nodes', 'list pods status.phase!=Succeeded,status.phase!=Failed']);
  });
});
