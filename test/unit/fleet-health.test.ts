import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { V1Node, V1Pod } from '../../shared/kube/api-types.js';
import { nodeSignalOf, podSignalOf } from '../../shared/fleet/kube-signals.js';
import {
  baselineOf,
  DEFAULT_HEALTH_CRITERIA,
  evaluateHealth,
  type HealthCriteria,
  type HealthFacts,
  HealthReportSchema,
  type NodeSignal,
  type PodSignal,
  type SignalName,
} from '../../shared/fleet/workload-health.js';

/** Workload health of the nodes on an image, against the same cluster's pods on the previous one. */
const NOW = new Date('2026-12-07T12:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();
const HOUR = 3600;

const node = (name: string, over: Partial<NodeSignal> = {}): NodeSignal => ({ name, ready: true, pressure: [], ...over });
const pod = (name: string, over: Partial<PodSignal> = {}): PodSignal => ({ namespace: 'web', name, node: 'new-1', workload: `web/ReplicaSet/${name.replace(/-\w+$/, '')}`, restarts: 0, observedSeconds: HOUR, crashLooping: false, ...over });

function facts(over: Partial<HealthFacts> = {}): HealthFacts {
  return { nodes: [node('new-1'), node('new-2')], joinFailures: [], pods: [pod('api-a'), pod('api-b')], pending: [], evictionFailures: [], alarms: [], ...over };
}

function signal(report: ReturnType<typeof evaluateHealth>, name: SignalName) {
  return report.signals.find((s) => s.signal === name)!;
}

describe('Fleet: workload health', () => {
  it('healthy nodes and pods are healthy, and the report records every signal with its numbers', () => {
    const report = evaluateHealth(facts(), DEFAULT_HEALTH_CRITERIA, NOW);
    assert.equal(report.verdict, 'healthy');
    assert.deepEqual(report.signals.map((s) => [s.signal, s.status]), [
      ['nodes-not-ready', 'ok'],
      ['node-pressure', 'ok'],
      ['join-failures', 'ok'],
      ['crash-loops', 'ok'],
      ['restart-rate', 'ok'],
      ['pending-pods', 'ok'],
      ['eviction-failures', 'ok'],
      ['alarms', 'ok'],
    ]);
    assert.deepEqual({ at: report.at, nodes: report.nodes, pods: report.pods }, { at: NOW.toISOString(), nodes: 2, pods: 2 });
    assert.deepEqual(HealthReportSchema.parse(JSON.parse(JSON.stringify(report))), report, 'a report is data a hold can carry');
  });

  it('nothing to judge while no node runs the image', () => {
    const report = evaluateHealth(facts({ nodes: [], pods: [] }), DEFAULT_HEALTH_CRITERIA, NOW);
    assert.equal(report.verdict, 'insufficient-data');
    assert.equal(signal(report, 'nodes-not-ready').detail, 'no node runs the image yet');
  });

  const regressions: [string, Partial<HealthFacts>, SignalName, { seen: number; threshold: number; evidence: string[] }][] = [
    ['a node NotReady past the grace', { nodes: [node('new-1', { ready: false, notReadySince: ago(601) }), node('new-2')] }, 'nodes-not-ready', { seen: 1, threshold: 0, evidence: [`new-1 (NotReady since ${ago(601)})`] }],
    ['a node NotReady since a time nobody knows (counted as long ago)', { nodes: [node('new-1', { ready: false })] }, 'nodes-not-ready', { seen: 1, threshold: 0, evidence: ['new-1 (NotReady)'] }],
    ['a node under memory and disk pressure', { nodes: [node('new-1', { pressure: ['MemoryPressure', 'DiskPressure'] })] }, 'node-pressure', { seen: 1, threshold: 0, evidence: ['new-1 (MemoryPressure, DiskPressure)'] }],
    ['an instance that never joined', { joinFailures: [{ instanceId: 'i-0abc12345', reason: 'no Node after 10m' }] }, 'join-failures', { seen: 1, threshold: 0, evidence: ['i-0abc12345 (no Node after 10m)'] }],
    ['a pod crash-looping on a new node', { pods: [pod('api-a', { crashLooping: true, restarts: 2 }), pod('api-b')] }, 'crash-loops', { seen: 1, threshold: 0, evidence: ['web/api-a on new-1'] }],
    ['restarts well above the baseline', { pods: [pod('api-a', { restarts: 6 }), pod('api-b', { restarts: 4 })], baseline: { source: 'old-image-nodes', pods: 10, restarts: 2, podSeconds: 10 * HOUR, crashLoopingWorkloads: [] } }, 'restart-rate', { seen: 5, threshold: 0.5, evidence: ['web/api-a on new-1: 6 restarts', 'web/api-b on new-1: 4 restarts'] }],
    ['a pod Pending on a new node past the grace', { pending: [{ namespace: 'web', name: 'api-c', since: ago(700), node: 'new-2', reason: 'ContainerCreating' }] }, 'pending-pods', { seen: 1, threshold: 0, evidence: ['web/api-c on new-2 (ContainerCreating)'] }],
    ['an eviction that failed', { evictionFailures: [{ node: 'new-1', pod: 'web/api-a', reason: '500 Internal Server Error' }] }, 'eviction-failures', { seen: 1, threshold: 0, evidence: ['web/api-a from new-1 (500 Internal Server Error)'] }],
    ['a named alarm in ALARM', { alarms: [{ name: 'checkout-5xx', state: 'ALARM', reason: 'Threshold Crossed' }] }, 'alarms', { seen: 1, threshold: 0, evidence: ['checkout-5xx (Threshold Crossed)'] }],
  ];
  const withAlarm: HealthCriteria = { ...DEFAULT_HEALTH_CRITERIA, alarms: ['checkout-5xx'] };
  for (const [name, over, which, numbers] of regressions) {
    it(`regresses on ${name}, saying what it saw against what passes`, () => {
      const report = evaluateHealth(facts({ alarms: [{ name: 'checkout-5xx', state: 'OK' }], ...over }), withAlarm, NOW);
      assert.equal(report.verdict, 'regressed');
      const s = signal(report, which);
      assert.equal(s.status, 'regressed', s.detail);
      assert.deepEqual({ seen: s.seen, threshold: s.threshold, evidence: s.evidence }, numbers);
      assert.deepEqual(report.signals.filter((x) => x.status === 'regressed').map((x) => x.signal), [which], 'only that signal');
    });
  }

  it('a node still booting within the grace, and a pod Pending within it, are no regression', () => {
    const report = evaluateHealth(facts({ nodes: [node('new-1', { ready: false, notReadySince: ago(120) })], pending: [{ namespace: 'web', name: 'x', since: ago(60), reason: 'Unschedulable' }] }), DEFAULT_HEALTH_CRITERIA, NOW);
    assert.equal(report.verdict, 'healthy');
  });

  it('a workload crash-looping on the previous image too is not the new image\'s doing', () => {
    const baseline = baselineOf([pod('api-x', { node: 'old-1', crashLooping: true, workload: 'web/ReplicaSet/api' })]);
    const report = evaluateHealth(facts({ pods: [pod('api-a', { crashLooping: true, workload: 'web/ReplicaSet/api' }), pod('db-a')], baseline }), DEFAULT_HEALTH_CRITERIA, NOW);
    const s = signal(report, 'crash-loops');
    assert.equal(s.status, 'ok');
    assert.match(s.detail, /1 more crash-loop on the previous image too/);
  });

  it('tolerates a share of crash-looping pods, rounded down', () => {
    const pods = Array.from({ length: 30 }, (_, i) => pod(`p-${i}`, { crashLooping: i < 3, workload: `web/ReplicaSet/p${i}` }));
    const criteria = (percent: number): HealthCriteria => ({ ...DEFAULT_HEALTH_CRITERIA, maxCrashLoopingPods: { percent }, restarts: { ...DEFAULT_HEALTH_CRITERIA.restarts } });
    assert.equal(signal(evaluateHealth(facts({ pods }), criteria(10), NOW), 'crash-loops').status, 'ok', '3 of 30 within 10%');
    assert.equal(signal(evaluateHealth(facts({ pods }), criteria(9), NOW), 'crash-loops').status, 'regressed', '9% of 30 is 2.7: 2 pass');
  });

  it('an alarm that cannot be read, or has no data, cannot be judged: never healthy, never a regression', () => {
    const criteria = { ...DEFAULT_HEALTH_CRITERIA, alarms: ['a', 'b', 'c'] };
    const report = evaluateHealth(facts({ alarms: [{ name: 'a', state: 'INSUFFICIENT_DATA' }, { name: 'b', state: 'MISSING' }] }), criteria, NOW);
    assert.equal(report.verdict, 'insufficient-data');
    assert.deepEqual(signal(report, 'alarms').evidence, ['a (INSUFFICIENT_DATA)', 'b (no such alarm)', 'c (not read)']);
  });

  describe('restart rate: restarts per pod-hour over the window, against the baseline', () => {
    const baseline = (restarts: number, podHours: number) => ({ source: 'old-image-nodes' as const, pods: 10, restarts, podSeconds: podHours * HOUR, crashLoopingWorkloads: [] });
    const rate = (pods: PodSignal[], base?: ReturnType<typeof baseline>) => signal(evaluateHealth(facts({ pods, ...(base ? { baseline: base } : {}) }), DEFAULT_HEALTH_CRITERIA, NOW), 'restart-rate');

    it('1 restart against 0 is no regression', () => {
      const s = rate([pod('a', { restarts: 1, observedSeconds: 600 })], baseline(0, 10));
      assert.equal(s.status, 'ok');
    });

    it('compares with the baseline: twice its rate, and above the floor', () => {
      const busy = baseline(40, 10); // 4 restarts per pod-hour on the previous image
      assert.equal(rate([pod('a', { restarts: 7 }), pod('b', { restarts: 7 })], busy).status, 'ok', '7/pod-hour is under twice 4');
      const s = rate([pod('a', { restarts: 9 }), pod('b', { restarts: 8 })], busy);
      assert.deepEqual([s.status, s.seen, s.baseline, s.threshold], ['regressed', 8.5, 4, 8]);
      assert.match(s.detail, /17 restarts in 2 pod-hours \(8\.5\/pod-hour\) above 8\/pod-hour: baseline 4\/pod-hour \(old-image-nodes\) × 2, at least 0\.5/);
    });

    it('without a baseline (none read, or too few pod-hours) the floor alone judges', () => {
      const s = rate([pod('a', { restarts: 3 }), pod('b')], baseline(0, 0.2));
      assert.deepEqual([s.status, s.baseline], ['regressed', undefined]);
      assert.match(s.detail, /no baseline \(too few pod-hours\)/);
    });

    it('too few pod-hours on the image to judge a rate on', () => {
      assert.equal(rate([pod('a', { restarts: 3, observedSeconds: 600 })]).status, 'insufficient-data');
    });

    it('a rate within the floor is never a regression, whatever the baseline', () => {
      fc.assert(
        fc.property(
          fc.array(fc.record({ restarts: fc.nat(50), observedSeconds: fc.integer({ min: 1, max: 10 * HOUR }) }), { maxLength: 20 }),
          fc.option(fc.record({ restarts: fc.nat(100), podHours: fc.double({ min: 0, max: 100, noNaN: true }) })),
          (samples, base) => {
            const pods = samples.map((s, i) => pod(`p-${i}`, s));
            const s = rate(pods, base ? baseline(base.restarts, base.podHours) : undefined);
            const restarts = samples.reduce((n, p) => n + p.restarts, 0);
            const podHours = samples.reduce((n, p) => n + p.observedSeconds, 0) / HOUR;
            if (restarts <= DEFAULT_HEALTH_CRITERIA.restarts.floorPerPodHour * podHours || restarts < DEFAULT_HEALTH_CRITERIA.restarts.minRestarts) assert.notEqual(s.status, 'regressed');
            if (s.status === 'regressed') assert.ok(s.seen > s.threshold && s.threshold >= DEFAULT_HEALTH_CRITERIA.restarts.floorPerPodHour);
          },
        ),
        { numRuns: 3000 },
      );
    });
  });

  it('any regressed signal makes the report regressed; otherwise any signal without data makes it insufficient', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(), (notReady, crash, alarmFiring, alarmUnknown) => {
        const report = evaluateHealth(
          facts({
            nodes: [node('new-1', notReady ? { ready: false, notReadySince: ago(HOUR) } : {})],
            pods: [pod('a', { crashLooping: crash })],
            alarms: alarmUnknown ? [] : [{ name: 'x', state: alarmFiring ? 'ALARM' : 'OK' }],
          }),
          { ...DEFAULT_HEALTH_CRITERIA, alarms: ['x'] },
          NOW,
        );
        const regressed = notReady || crash || (alarmFiring && !alarmUnknown);
        assert.equal(report.verdict, regressed ? 'regressed' : alarmUnknown ? 'insufficient-data' : 'healthy');
      }),
    );
  });

  it('keeps at most ten pieces of evidence per signal, and says how many more', () => {
    const pods = Array.from({ length: 25 }, (_, i) => pod(`p-${i}`, { crashLooping: true, workload: `web/ReplicaSet/p${i}` }));
    const s = signal(evaluateHealth(facts({ pods }), DEFAULT_HEALTH_CRITERIA, NOW), 'crash-loops');
    assert.equal(s.evidence.length, 11);
    assert.equal(s.evidence[10], 'and 15 more');
    assert.equal(s.seen, 25);
  });
});

describe('Fleet: signals from the Kubernetes API', () => {
  it('a node: Ready, since when it is not, and its pressure conditions', () => {
    const n = (conditions: { type: string; status: string; lastTransitionTime?: string }[]): V1Node => ({ metadata: { name: 'n', creationTimestamp: ago(900) }, status: { conditions } });
    assert.deepEqual(nodeSignalOf(n([{ type: 'Ready', status: 'True' }, { type: 'DiskPressure', status: 'True' }, { type: 'MemoryPressure', status: 'False' }])), { name: 'n', ready: true, pressure: ['DiskPressure'] });
    assert.deepEqual(nodeSignalOf(n([{ type: 'Ready', status: 'Unknown', lastTransitionTime: ago(60) }])), { name: 'n', ready: false, notReadySince: ago(60), pressure: [] });
    assert.deepEqual(nodeSignalOf(n([])), { name: 'n', ready: false, notReadySince: ago(900), pressure: [] }, 'never Ready: since it registered');
  });

  const k8sPod = (restarts: number[], waiting?: string, startTime = ago(2 * HOUR)): V1Pod => ({
    metadata: { namespace: 'web', name: 'api-7d4-x', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'api-7d4', uid: 'u', controller: true }] },
    spec: { nodeName: 'new-1', containers: [] },
    status: { startTime, containerStatuses: restarts.map((restartCount, i) => ({ name: `c${i}`, image: 'i', imageID: 'i', ready: false, restartCount, ...(waiting && i === 0 ? { state: { waiting: { reason: waiting } } } : {}) })) },
  });

  it('a pod without an earlier sample: its restarts over its whole life', () => {
    assert.deepEqual(podSignalOf(k8sPod([3, 1], 'CrashLoopBackOff'), NOW), { namespace: 'web', name: 'api-7d4-x', node: 'new-1', workload: 'web/ReplicaSet/api-7d4', restarts: 4, observedSeconds: 2 * HOUR, crashLooping: true });
  });

  it('a pod with an earlier sample: the restarts since, over the time since', () => {
    const s = podSignalOf(k8sPod([5]), NOW, { at: new Date(NOW.getTime() - 1800_000), restarts: 2 });
    assert.deepEqual([s.restarts, s.observedSeconds, s.crashLooping], [3, 1800, false]);
    const renewed = podSignalOf(k8sPod([1], undefined, ago(600)), NOW, { at: new Date(NOW.getTime() - 1800_000), restarts: 4 });
    assert.deepEqual([renewed.restarts, renewed.observedSeconds], [1, 600], 'a count that went down is a new pod under the old name');
  });
});
