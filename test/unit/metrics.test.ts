import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { installLambdaMetrics, powertoolsSink } from '../../functions/lib/metrics.js';
import { installMetricSink, type MetricPoint, metricsOfCommand, metricsOfDetection, metricsOfEvent, metricsOfNodeJoin, metricsOfRolloutDuration, metricsOfWindowWait, recordMetrics } from '../../shared/metrics/metrics.js';
import type { GroupPlan } from '../../shared/detect/plan-rollouts.js';

const drainFinished = {
  outcome: 'failed',
  cluster: 'prod',
  instanceId: 'i-0123456789abcdef0',
  durationSeconds: 900,
  blockers: [
    { pod: 'shop/web-1', pdb: { namespace: 'shop', name: 'web', disruptionsAllowed: 0 }, message: 'budget' },
    { pod: 'shop/db-0', pdb: null, message: 'the API refused: 500' },
  ],
  forced: [],
};

describe('metrics: what each event counts', () => {
  it('a drain: its outcome, its duration, the evictions a budget still refused (not other blockers), the pods forced', () => {
    assert.deepEqual(metricsOfEvent('Node Drain Finished', drainFinished), [
      { name: 'DrainsFinished', unit: 'Count', value: 1, cluster: 'prod', dimension: { name: 'outcome', value: 'failed' } },
      { name: 'DrainDuration', unit: 'Seconds', value: 900, cluster: 'prod', dimension: { name: 'outcome', value: 'failed' } },
      { name: 'EvictionsRefusedByBudget', unit: 'Count', value: 1, cluster: 'prod' },
    ]);
    const forced = metricsOfEvent('Node Drain Finished', { ...drainFinished, outcome: 'forced', blockers: [], forced: [{ pod: 'a/b', pdb: 'a/b' }, { pod: 'a/c', pdb: null }] });
    assert.deepEqual(forced.map((p) => [p.name, p.value]), [['DrainsFinished', 1], ['DrainDuration', 900], ['PodsForced', 2]]);
  });

  it('a rollout: one count per ending, by outcome, with the nodes it replaced; its progress events count nothing', () => {
    assert.deepEqual(metricsOfEvent('Rollout Rolled Back', { cluster: 'prod', group: 'web', replaced: 3 }), [
      { name: 'RolloutsEnded', unit: 'Count', value: 1, cluster: 'prod', dimension: { name: 'outcome', value: 'rolled-back' } },
      { name: 'NodesReplaced', unit: 'Count', value: 3, cluster: 'prod' },
    ]);
    assert.deepEqual(metricsOfEvent('Rollout Finished', { cluster: 'prod', updateId: 'u' }).map((p) => p.dimension?.value), ['finished']);
    for (const progress of ['Rollout Planned', 'Rollout Batch Finished', 'Rollout Canary Passed', 'Node Group Configuration Problem', 'Node Drain Blocked']) {
      assert.deepEqual(metricsOfEvent(progress, { cluster: 'prod', replaced: 2 }), [], progress);
    }
  });

  it('waits: an approval from request to answer; a window from Begin to its opening', () => {
    assert.deepEqual(metricsOfEvent('Rollout Approved', { cluster: 'prod', requestedAt: '2026-12-01T10:00:00.000Z', at: '2026-12-01T10:20:00.000Z' }), [
      { name: 'RolloutWait', unit: 'Seconds', value: 1200, cluster: 'prod', dimension: { name: 'reason', value: 'approval' } },
    ]);
    assert.deepEqual(metricsOfEvent('Rollout Approved', { cluster: 'prod', at: '2026-12-01T10:20:00.000Z' }), [], 'no request time: no figure');
    assert.deepEqual(metricsOfRolloutDuration('prod', 'rolled-back', '2026-12-01T10:00:00.000Z', new Date('2026-12-01T11:30:00Z')), [
      { name: 'RolloutDuration', unit: 'Seconds', value: 5400, cluster: 'prod', dimension: { name: 'outcome', value: 'rolled-back' } },
    ]);
    assert.deepEqual(metricsOfRolloutDuration('prod', 'finished', 'not a time', new Date()), []);
    assert.deepEqual(metricsOfWindowWait('prod', new Date('2026-12-05T22:00:00Z'), new Date('2026-12-06T02:00:00Z')).map((p) => [p.value, p.dimension?.value]), [[14_400, 'window']]);
  });

  it('a detection: the groups of each cluster by reason', () => {
    const base = { kind: 'self-managed' as const };
    const plans = [
      { ...base, cluster: 'prod', group: 'a', action: 'roll', mode: 'auto', from: {}, to: { imageId: 'ami-1' }, reason: 'new' },
      { ...base, cluster: 'prod', group: 'b', action: 'roll', mode: 'auto', from: {}, to: { imageId: 'ami-1' }, reason: 'new' },
      { ...base, cluster: 'prod', group: 'c', action: 'skip', why: 'configuration', reason: 'bad channel' },
      { ...base, cluster: 'dev', group: 'd', action: 'current', reason: 'runs ami-1' },
    ] as unknown as GroupPlan[];
    assert.deepEqual(metricsOfDetection(plans).map((p) => [p.cluster, p.dimension?.value, p.value]), [['prod', 'stale', 2], ['prod', 'configuration', 1], ['dev', 'current', 1]]);
  });

  it('a node join: its result, and the time to Ready only when it joined', () => {
    const now = new Date('2026-12-01T10:03:00Z');
    assert.deepEqual(metricsOfNodeJoin('prod', 'CONTINUE', '2026-12-01T10:00:30Z', now).map((p) => [p.name, p.value]), [['NodeJoins', 1], ['TimeToReady', 150]]);
    assert.deepEqual(metricsOfNodeJoin('prod', 'ABANDON', '2026-12-01T10:00:30Z', now).map((p) => [p.name, p.dimension?.value]), [['NodeJoins', 'ABANDON']]);
  });

  it('a command: by outcome and by command; a cluster only when it named one', () => {
    assert.deepEqual(metricsOfCommand('rollout', 'refused', ['prod']).map((p) => [p.dimension?.name, p.dimension?.value, p.cluster]), [['outcome', 'refused', 'prod'], ['command', 'rollout', 'prod']]);
    assert.ok(metricsOfCommand('status', 'done', ['prod', 'dev']).every((p) => p.cluster === undefined));
  });
});

describe('metrics: where the points go', () => {
  it('nowhere until a sink is installed, then to it', () => {
    const seen: MetricPoint[] = [];
    recordMetrics(metricsOfCommand('help', 'done', []));
    installMetricSink((points) => seen.push(...points));
    try {
      recordMetrics(metricsOfCommand('help', 'done', []));
      assert.equal(seen.length, 2);
    } finally {
      installMetricSink(undefined);
    }
  });

  it('in Lambda, as EMF: one record per point, the point dimension alone and with the cluster', () => {
    // dev mode writes through the global console (which the test listens to) and would turn metrics off unless told not to
    process.env.POWERTOOLS_DEV = 'true';
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const log = mock.method(console, 'log', () => {});
    try {
      const sink = powertoolsSink(new Metrics({ namespace: 'EksNodeLifecycle/test', serviceName: 'eks-node-lifecycle' }));
      sink(metricsOfEvent('Node Drain Finished', drainFinished));
      const records = log.mock.calls.map((c) => JSON.parse(String(c.arguments[0])) as Record<string, any>);
      assert.equal(records.length, 3);
      const first = records[0]!;
      const directive = first._aws.CloudWatchMetrics[0];
      assert.equal(directive.Namespace, 'EksNodeLifecycle/test');
      assert.deepEqual(directive.Metrics, [{ Name: 'DrainsFinished', Unit: 'Count' }]);
      assert.deepEqual(directive.Dimensions.map((d: string[]) => [...d].sort()), [['outcome', 'service'], ['cluster', 'outcome', 'service']]);
      assert.equal(first.DrainsFinished, 1);
      assert.equal(first.outcome, 'failed');
      assert.equal(first.cluster, 'prod');
      const refused = records[2]!;
      // no dimension of its own: `service` alone (what the dashboard reads) and with the cluster
      assert.deepEqual(refused._aws.CloudWatchMetrics[0].Dimensions.map((d: string[]) => [...d].sort()), [['service'], ['cluster', 'service']]);
      assert.equal(refused.EvictionsRefusedByBudget, 1);
    } finally {
      log.mock.restore();
      delete process.env.POWERTOOLS_DEV;
      delete process.env.POWERTOOLS_METRICS_DISABLED;
    }
  });

  it('the Powertools sink is installed only in a Lambda execution environment', () => {
    const seen: MetricPoint[] = [];
    installMetricSink((points) => seen.push(...points));
    try {
      installLambdaMetrics({});
      recordMetrics(metricsOfCommand('help', 'done', []));
      assert.equal(seen.length, 2, 'outside Lambda the installed sink stays');
    } finally {
      installMetricSink(undefined);
    }
  });
});
