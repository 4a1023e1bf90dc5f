import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDaemonSet, createDeployment, type ObservedRequest, releaseAmi, World } from '@eks-node-lifecycle/sandbox';
import { checkRecall, gatherClusterHealth, type PromotionFactPorts } from '../../functions/lib/promotion-facts.js';
import { awsScope } from '../../shared/aws/clients.js';
import { FleetRecords } from '../../shared/aws/fleet-records.js';
import type { Release } from '../../shared/fleet/release.js';
import { DEFAULT_HEALTH_CRITERIA, type HealthCriteria, type HealthReport } from '../../shared/fleet/workload-health.js';
import { KubeClients } from '../../shared/kube/client.js';
import { EksTokenCache } from '../../shared/kube/eks-token.js';

/**
 * The promotion's fact gatherers against the sandbox: a cluster with nodes on a release bad
 * for workloads regresses, naming its crash-looping pods; a good release's nodes are healthy;
 * a named alarm in ALARM regresses; the recommended release moving back is a recall, an image
 * deprecated a deprecation. Every evaluation's requests are counted.
 */
const region = 'eu-west-1';
const AL2023 = '/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended';

describe('Fleet promotion facts (sandbox)', () => {
  let world: World;
  const kubeRequests: ObservedRequest[] = [];
  const tableCalls: string[] = [];
  let ports: PromotionFactPorts;
  let fine: string;
  let bad: string;
  let badRelease: string;

  before(async () => {
    world = await World.start();
    await world.addCluster('prod', { version: '1.31', onRequest: (r) => kubeRequests.push(r) });
    world.account.seedVpc();
    const account = world.account;
    const good = account.ssm.value(`${AL2023}/image_id`)!;
    fine = releaseAmi(account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261115', recommend: false }).image.ImageId;
    const badImage = releaseAmi(account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201', recommend: false, badFor: 'workloads' });
    bad = badImage.image.ImageId;
    badRelease = badImage.releaseVersion!;
    for (const [name, imageId] of [['old', good], ['fine', fine], ['bad', bad]] as const) {
      account.createSelfManagedGroup({ cluster: 'prod', name, imageId, desired: 2, labels: { group: name } });
    }
    await world.run(3 * 60_000);
    const { store } = world.cluster('prod');
    for (const group of ['old', 'fine', 'bad']) createDeployment(store, { namespace: 'shop', name: `web-${group}`, replicas: 2, labels: { app: `web-${group}` }, nodeSelector: { group } });
    createDaemonSet(store, { namespace: 'kube-system', name: 'aws-node', labels: { 'k8s-app': 'aws-node' } });
    await world.settle();
    // long enough for the crash loops to pass minRestarts, and for a restart window
    await world.run(40 * 60_000);

    const hub = awsScope({ region });
    const table = world.model.tables.map((t) => (t as { TableName?: string }).TableName ?? '').find((name) => name.endsWith('-fleet'))!;
    const records = new FleetRecords(hub, table);
    const kube = new KubeClients(hub, new EksTokenCache({ region, now: () => world.clock.date() }));
    ports = {
      scopeOf: () => hub,
      kubeOf: () => kube,
      fleet: {
        restartSamples: (...args) => (tableCalls.push('GetItem'), records.restartSamples(...args)),
        saveRestartSamples: (...args) => (tableCalls.push('PutItem'), records.saveRestartSamples(...args)),
      },
    };
  });
  after(() => world.stop());

  /** One evaluation, with the requests it made. */
  async function evaluate(releaseImageIds: string[], criteria: HealthCriteria = DEFAULT_HEALTH_CRITERIA) {
    const [aws, kube, table] = [world.account.calls.length, kubeRequests.length, tableCalls.length];
    const report = await gatherClusterHealth(ports, { cluster: 'prod', ring: 'canary', releaseImageIds, criteria, now: world.clock.date() });
    const requests = [
      ...world.account.calls.slice(aws).map((c) => `${c.service}:${c.command}`),
      ...kubeRequests.slice(kube).map((r) => `kube:${r.verb} ${r.resource}`),
      ...tableCalls.slice(table).map((c) => `dynamodb:${c}`),
    ];
    return { report, requests };
  }

  const signal = (report: HealthReport, name: string) => report.signals.find((s) => s.signal === name)!;

  it('regresses on the release bad for workloads, naming the crash-looping pods on its nodes', async () => {
    const { report, requests } = await evaluate([bad]);
    assert.equal(report.verdict, 'regressed');
    assert.equal(report.nodes, 2);
    const crash = signal(report, 'crash-loops');
    assert.equal(crash.status, 'regressed');
    assert.equal(crash.seen, 2);
    for (const line of crash.evidence) assert.match(line, /^shop\/web-bad-[\w-]+ on /);
    const restarts = signal(report, 'restart-rate');
    assert.equal(restarts.status, 'regressed', restarts.detail);
    assert.equal(restarts.baseline, 0, 'the old image\'s pods never restarted');
    // the first evaluation of the cluster: 1 DescribeCluster (cached after), 1 DescribeInstances, 2 LISTs, 1 GetItem, 1 PutItem (the first sample)
    assert.deepEqual(requests.sort(), ['dynamodb:GetItem', 'dynamodb:PutItem', 'ec2:DescribeInstances', 'eks:DescribeCluster', 'kube:list nodes', 'kube:list pods'].sort());
  });

  it('a good release\'s nodes are healthy; a release no node runs yet is insufficient data', async () => {
    const { report, requests } = await evaluate([fine]);
    assert.equal(report.verdict, 'healthy', JSON.stringify(report.signals.filter((s) => s.status !== 'ok')));
    assert.equal(report.nodes, 2);
    // a later evaluation within half a restart window: the cluster's connection is kept, no sample written
    assert.deepEqual(requests.sort(), ['dynamodb:GetItem', 'ec2:DescribeInstances', 'kube:list nodes', 'kube:list pods']);
    const unknown = await evaluate(['ami-0000000000000000f']);
    assert.equal(unknown.report.verdict, 'insufficient-data');
    assert.equal(signal(unknown.report, 'nodes-not-ready').detail, 'no node runs the image yet');
  });

  it('an alarm the criteria name in ALARM regresses the cluster; one CloudWatch does not know cannot be judged', async () => {
    world.setAlarmState('prod-checkout-5xx', 'OK');
    const criteria = { ...DEFAULT_HEALTH_CRITERIA, alarms: ['prod-checkout-5xx'] };
    const calm = await evaluate([fine], criteria);
    assert.equal(calm.report.verdict, 'healthy');
    assert.equal(calm.requests.filter((r) => r === 'cloudwatch:DescribeAlarms').length, 1);
    world.setAlarmState('prod-checkout-5xx', 'ALARM');
    const { report } = await evaluate([fine], criteria);
    assert.equal(report.verdict, 'regressed');
    assert.deepEqual(signal(report, 'alarms').evidence, ['prod-checkout-5xx (Threshold Crossed: the sandbox set ALARM)']);
    const missing = await evaluate([fine], { ...DEFAULT_HEALTH_CRITERIA, alarms: ['no-such-alarm'] });
    assert.equal(missing.report.verdict, 'insufficient-data');
    assert.deepEqual(signal(missing.report, 'alarms').evidence, ['no-such-alarm (no such alarm)']);
  });

  it('a release whose recommendation moved back is recalled; an image deprecated is deprecated', async () => {
    const account = world.account;
    const release: Release = { source: 'eks-optimized', identity: { family: 'al2023', architecture: 'x86_64', variant: 'standard', kubernetesVersion: '1.31' }, release: badRelease };
    const previous = account.ssm.value(`${AL2023}/release_version`)!;
    account.ssm.publish(`${AL2023}/release_version`, badRelease);
    const calls = account.calls.length;
    assert.equal(await checkRecall(ports, { release, places: [{ imageIds: [bad] }], now: world.clock.date() }), undefined);
    assert.deepEqual(account.calls.slice(calls).map((c) => `${c.service}:${c.command}`).sort(), ['ec2:DescribeImages', 'ssm:GetParameters']);
    account.ssm.publish(`${AL2023}/release_version`, previous);
    const recall = await checkRecall(ports, { release, places: [{ imageIds: [bad] }], now: world.clock.date() });
    assert.equal(recall?.kind, 'recalled');
    assert.match(recall!.detail, new RegExp(`names ${previous} again .* older than ${badRelease}`));
    const custom: Release = { source: 'custom', release: 'platform-1.4.2' };
    assert.equal(await checkRecall(ports, { release: custom, places: [{ imageIds: [fine] }], now: world.clock.date() }), undefined);
    account.ec2.deprecateImage(fine);
    await world.run(1000);
    const deprecated = await checkRecall(ports, { release: custom, places: [{ imageIds: [fine] }], now: world.clock.date() });
    assert.equal(deprecated?.kind, 'deprecated');
    assert.match(deprecated!.detail, new RegExp(`${fine} \\(the hub\\) is deprecated since`));
  });
});
