import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, DescribeNodegroupCommand, EKSClient, ListClustersCommand, ListNodegroupsCommand } from '@aws-sdk/client-eks';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { awsScope } from '../../shared/aws/clients.js';
import { type DetectionPorts, type DetectionResult, detectStaleGroups } from '../../shared/detect/detect.js';
import { CONFIGURATION_PROBLEM, type ConfigurationProblemDetail } from '../../shared/events/configuration.js';
import { RolloutInputSchema } from '../../shared/events/rollout.js';
import type { Freeze } from '../../shared/fleet/freeze.js';
import type { FleetView } from '../../shared/fleet/may-start.js';
import { parsePromotionPolicy } from '../../shared/fleet/promotion-policy.js';
import { newPromotion, type PromotionState, type RingProgress } from '../../shared/fleet/promotion-state.js';
import { promotionExecutionName, type Release, releaseKey } from '../../shared/fleet/release.js';
import type { RollPlan } from '../../shared/detect/fleet-gate.js';
import { rolloutRefusal } from '../../shared/chatops/rollout-gate.js';

/**
 * Detection and fleet promotion (detect.ts gateOnFleet, fleet-gate.ts): a stale group starts
 * only when mayStart allows it — its ring reached by its release's promotion, no hold of the
 * release, no freeze over it — and a release ring groups roll to gets its promotion begun once.
 * Four clusters of one group each: `dev` and `prod` (their ring on the cluster), `plain` (no
 * ring: as today) and `typo` (ring=prd: no such ring). The SDK is mocked; the fleet table is a
 * fake view.
 */
const ACCOUNT = '111122223333';
const NOW = new Date('2026-12-07T10:00:00.000Z');
const T = '2026-12-07T08:00:00.000Z';
const OLD_RELEASE = '1.31.1-20261001';
const NEW_RELEASE = '1.31.3-20261201';
const NEW_IMAGE = 'ami-0aaaaaaaaaaaaaaa1';
const RELEASE: Release = { source: 'eks-optimized', identity: { family: 'al2023', architecture: 'x86_64', variant: 'standard', kubernetesVersion: '1.31' }, release: NEW_RELEASE };
const KEY = releaseKey(RELEASE);
const POLICY = parsePromotionPolicy(JSON.stringify({ rings: [{ name: 'dev', soak: '2h' }, { name: 'prod', soak: '1d' }] }));
const RING_OF: Record<string, string | undefined> = { dev: 'dev', prod: 'prod', plain: undefined, typo: 'prd' };

const eks = mockClient(EKSClient);
const ec2 = mockClient(EC2Client);
const autoscaling = mockClient(AutoScalingClient);
const ssm = mockClient(SSMClient);
const sfn = mockClient(SFNClient);
const mocks = [eks, ec2, autoscaling, ssm, sfn];

function answer(): void {
  eks.on(ListClustersCommand).resolves({ clusters: Object.keys(RING_OF) });
  eks.on(DescribeClusterCommand).callsFake(async (input: { name: string }) => ({
    cluster: { name: input.name, endpoint: `https://${input.name}.example`, version: '1.31', certificateAuthority: { data: 'Y2E=' }, kubernetesNetworkConfig: { serviceIpv4Cidr: '172.20.0.0/16' }, tags: RING_OF[input.name] ? { 'eks-node-lifecycle/ring': RING_OF[input.name]! } : {} },
  }));
  eks.on(ListNodegroupsCommand).resolves({ nodegroups: ['ng'] });
  eks.on(DescribeNodegroupCommand).callsFake(async (input: { clusterName: string; nodegroupName: string }) => ({
    nodegroup: {
      nodegroupName: input.nodegroupName,
      clusterName: input.clusterName,
      nodegroupArn: `arn:aws:eks:eu-west-1:${ACCOUNT}:nodegroup/${input.clusterName}/${input.nodegroupName}/x`,
      amiType: 'AL2023_x86_64_STANDARD',
      releaseVersion: OLD_RELEASE,
      version: '1.31',
      resources: { autoScalingGroups: [{ name: `eks-${input.clusterName}` }] },
      scalingConfig: { desiredSize: 2, minSize: 1, maxSize: 3 },
      tags: { 'eks-node-lifecycle/rollout': 'auto' },
    },
  }));
  autoscaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
  ssm.on(GetParametersCommand).callsFake(async (input: { Names: string[] }) => ({ Parameters: input.Names.map((Name) => ({ Name, Value: Name.endsWith('release_version') ? NEW_RELEASE : NEW_IMAGE })) }));
  ec2.on(DescribeImagesCommand).callsFake(async (input: { ImageIds?: string[] }) => ({
    Images: (input.ImageIds ?? []).map((ImageId) => ({ ImageId, Name: 'amazon-eks-node-al2023-x86_64-standard-1.31-v20261201', OwnerId: '602401143452', ImageOwnerAlias: 'amazon', State: 'available', CreationDate: '2026-12-01T00:00:00.000Z' })),
  }));
  sfn.on(StartExecutionCommand).callsFake(async (input: { stateMachineArn: string; name: string }) => ({ executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}`, startDate: NOW }));
}

const PROMOTION_MACHINE = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:eks-node-lifecycle-dev-fleet-promotion`;
const ROLLOUT_MACHINE = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:eks-node-lifecycle-dev-ami-rollout`;

/** A promotion of RELEASE whose rings stand as given (dev, prod). */
function promotion(dev: RingProgress['status'], prod: RingProgress['status'] = 'waiting', hold?: PromotionState['hold']): PromotionState {
  const ring = (name: string, status: RingProgress['status']): RingProgress =>
    status === 'passed' ? { ring: name, status, at: T, how: 'soaked' } : status === 'waiting' ? { ring: name, status } : { ring: name, status, since: T };
  return { ...newPromotion(RELEASE, POLICY, new Date(T)), rings: [ring('dev', dev), ring('prod', prod)], ...(hold ? { hold } : {}) };
}
const freeze = (scope: Freeze['scope']): Freeze => ({ scope, reason: 'incident 4711', by: 'slack:T1:U1', since: T });
const HOLD = { kind: 'regression' as const, since: T, reason: 'crash loops in dev', evidence: [] };

interface Run {
  result: DetectionResult;
  created: PromotionState[];
  views: number;
  announced: ConfigurationProblemDetail[];
  /** the rollouts started, by cluster: their input */
  rollouts: Map<string, Record<string, any>>;
  promotionStarts: { name: string; input: unknown }[];
}

async function detect(view: FleetView, options: { dryRun?: boolean; mode?: 'act' | 'observe'; exists?: boolean } = {}): Promise<Run> {
  const created: PromotionState[] = [];
  const announced: ConfigurationProblemDetail[] = [];
  let views = 0;
  const aws = awsScope({ region: 'eu-west-1', accountId: ACCOUNT, credentials: async () => ({ accessKeyId: 'x', secretAccessKey: 'x' }) });
  const ports: DetectionPorts = {
    aws,
    places: { scopeOf: () => aws },
    fleet: [{ place: { accountId: ACCOUNT, region: 'eu-west-1' }, clusters: '*', home: true }],
    ...(options.mode ? { mode: options.mode } : {}),
    promotionPolicy: POLICY,
    amiRolloutStateMachineArn: ROLLOUT_MACHINE,
    now: () => NOW,
    log: () => undefined,
    windows: { close: async () => ({ groups: [], images: [] }) },
    publish: async () => undefined,
    announce: { claim: async () => true, release: async () => undefined, publish: async (_type, detail) => void announced.push(detail) },
    promotions: {
      records: {
        fleetView: async () => (views++, view),
        createPromotion: async (state) => (created.push(state), !options.exists),
      },
      stateMachineArn: PROMOTION_MACHINE,
    },
  };
  const result = await detectStaleGroups(options.dryRun ? { kind: 'detect', dryRun: true } : { kind: 'scheduled-detection' }, ports);
  const starts = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
  const rollouts = new Map(starts.filter((s) => s.stateMachineArn === ROLLOUT_MACHINE).map((s) => [JSON.parse(s.input!).cluster as string, JSON.parse(s.input!) as Record<string, any>]));
  const promotionStarts = starts.filter((s) => s.stateMachineArn === PROMOTION_MACHINE).map((s) => ({ name: s.name!, input: JSON.parse(s.input!) }));
  return { result, created, views, announced, rollouts, promotionStarts };
}

const deferredOf = (run: Run) => Object.fromEntries((run.result.deferred ?? []).map((d) => [d.cluster, d.verdict]));

describe('Detection and fleet promotion', () => {
  beforeEach(() => {
    mocks.forEach((m) => m.reset());
    answer();
  });
  afterEach(() => mocks.forEach((m) => m.reset()));

  it('no promotion yet: one is begun (recorded, then its execution); no ring group starts; a group in no ring starts as today, with its release', async () => {
    const run = await detect({ promotions: [], freezes: [] });
    assert.equal(run.views, 1, 'the fleet table read once per detection');
    assert.deepEqual(run.created, [newPromotion(RELEASE, POLICY, NOW)]);
    assert.deepEqual(run.promotionStarts, [{ name: promotionExecutionName(RELEASE), input: { key: KEY } }]);
    assert.deepEqual(run.result.promotions, [{ release: KEY, executionName: promotionExecutionName(RELEASE), outcome: 'begun' }]);
    // the promotion just begun has reached no ring: both wait for it
    assert.deepEqual(deferredOf(run), { dev: 'waiting-for-ring', prod: 'waiting-for-ring' });
    assert.match(run.result.deferred!.find((d) => d.cluster === 'prod')!.reason, new RegExp(`the promotion of ${KEY} has not reached ring prod`));
    assert.deepEqual([...run.rollouts.keys()], ['plain']);
    const plain = RolloutInputSchema.parse(run.rollouts.get('plain'));
    assert.deepEqual(plain.fleet, { release: KEY });
    assert.deepEqual(run.result.started.map((s) => s.cluster), ['plain']);
  });

  it('every plan whose target names a release carries it, in a ring or not; a ring tag naming no ring is a skip, and announced once as a configuration problem', async () => {
    const run = await detect({ promotions: [promotion('soaking')], freezes: [] });
    const byCluster = Object.fromEntries(run.result.plans.map((p) => [p.cluster, p]));
    for (const cluster of ['dev', 'prod', 'plain']) assert.deepEqual(byCluster[cluster]!.release, RELEASE, cluster);
    assert.equal(byCluster.typo!.action, 'skip');
    assert.match((byCluster.typo as { reason: string }).reason, /ring=prd on the cluster is not a ring of the promotion policy \(dev, prod\); did you mean prod\?/);
    assert.deepEqual(run.announced.map((a) => [a.cluster, a.key, a.stopsAutomaticRollouts]), [['typo', 'ring', true]]);
    assert.match(run.announced[0]!.problem, /automatic rollouts of this group are stopped until it is fixed/);
    assert.equal(run.rollouts.has('typo'), false);
  });

  it("a ring the promotion has reached (soaking): its group starts, with the release and its ring; the next ring waits; no second promotion", async () => {
    const run = await detect({ promotions: [promotion('soaking')], freezes: [] });
    assert.deepEqual(run.created, []);
    assert.deepEqual(run.promotionStarts, []);
    assert.equal(run.result.promotions, undefined);
    assert.deepEqual(RolloutInputSchema.parse(run.rollouts.get('dev')).fleet, { release: KEY, ring: 'dev' });
    assert.deepEqual([...run.rollouts.keys()].sort(), ['dev', 'plain']);
    assert.deepEqual(deferredOf(run), { prod: 'waiting-for-ring' });
  });

  it('a ring the promotion is rolling: left to it (it starts them a few at once); a passed ring and the next soaking both start', async () => {
    assert.deepEqual(deferredOf(await detect({ promotions: [promotion('rolling')], freezes: [] })), { dev: 'left-to-promotion', prod: 'waiting-for-ring' });
    sfn.resetHistory();
    const late = await detect({ promotions: [promotion('passed', 'soaking')], freezes: [] });
    assert.equal(late.result.deferred, undefined);
    assert.deepEqual([...late.rollouts.keys()].sort(), ['dev', 'plain', 'prod']);
  });

  it('a held release: no group starts it, in a ring or not', async () => {
    const run = await detect({ promotions: [promotion('passed', 'soaking', HOLD)], freezes: [] });
    assert.deepEqual(deferredOf(run), { dev: 'held', prod: 'held', plain: 'held' });
    assert.equal(run.rollouts.size, 0);
    assert.match(run.result.deferred![0]!.reason, new RegExp(`${KEY} is held: crash loops in dev`));
  });

  it('a freeze of everything stops every group; a freeze of one cluster stops that cluster only, ring or not', async () => {
    const all = await detect({ promotions: [promotion('passed', 'soaking')], freezes: [freeze({ kind: 'all' })] });
    assert.deepEqual(deferredOf(all), { dev: 'frozen', prod: 'frozen', plain: 'frozen' });
    assert.equal(all.rollouts.size, 0);
    sfn.resetHistory();
    const one = await detect({ promotions: [promotion('passed', 'soaking')], freezes: [freeze({ kind: 'cluster', cluster: 'plain' }), freeze({ kind: 'ring', ring: 'prod' })] });
    assert.deepEqual(deferredOf(one), { plain: 'frozen', prod: 'frozen' });
    assert.deepEqual([...one.rollouts.keys()], ['dev']);
  });

  it('observe mode begins no promotion (reported) and starts nothing; a dry run creates nothing and its plans say why a group would not start', async () => {
    const observed = await detect({ promotions: [], freezes: [] }, { mode: 'observe' });
    assert.deepEqual(observed.created, []);
    assert.deepEqual(observed.promotionStarts, []);
    assert.deepEqual(observed.result.promotions?.map((p) => p.outcome), ['observed']);
    assert.equal(observed.rollouts.size, 0);
    assert.deepEqual(deferredOf(observed), { dev: 'waiting-for-ring', prod: 'waiting-for-ring' });
    // the group in no ring is observed as today
    assert.deepEqual(observed.result.observed?.map((o) => o.cluster), ['plain']);

    sfn.resetHistory();
    const dry = await detect({ promotions: [], freezes: [] }, { dryRun: true });
    assert.deepEqual(dry.created, []);
    assert.equal(sfn.commandCalls(StartExecutionCommand).length, 0);
    assert.deepEqual(dry.result.promotions?.map((p) => p.outcome), ['dry-run']);
    const prod = dry.result.plans.find((p) => p.cluster === 'prod')!;
    assert.deepEqual(prod.notes, [`not started now: no promotion of ${KEY} has begun: ring prod waits for it`]);
    assert.equal(dry.result.plans.find((p) => p.cluster === 'plain')!.notes, undefined);
  });

  it('a promotion another detection recorded first: its execution is started under the same name all the same (a retry completes it)', async () => {
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('exists'), { name: 'ExecutionAlreadyExists' }));
    const run = await detect({ promotions: [], freezes: [] }, { exists: true });
    assert.deepEqual(run.result.promotions?.map((p) => p.outcome), ['already-begun']);
    assert.equal(sfn.commandCalls(StartExecutionCommand).filter((c) => c.args[0].input.stateMachineArn === PROMOTION_MACHINE).length, 1);
  });

  it('nothing stale: the fleet table is not read', async () => {
    ssm.on(GetParametersCommand).callsFake(async (input: { Names: string[] }) => ({ Parameters: input.Names.map((Name) => ({ Name, Value: Name.endsWith('release_version') ? OLD_RELEASE : NEW_IMAGE })) }));
    const run = await detect({ promotions: [], freezes: [freeze({ kind: 'all' })] });
    assert.equal(run.views, 0);
    assert.equal(run.result.deferred, undefined);
  });
});

describe("A person's rollout asks what detection asks (chatops/rollout-gate.ts)", () => {
  const plan = (ring?: string): RollPlan => ({
    cluster: ring ?? 'plain',
    group: 'ng',
    kind: 'managed',
    action: 'roll',
    mode: 'auto',
    from: { release: OLD_RELEASE },
    to: { imageId: NEW_IMAGE, release: NEW_RELEASE },
    reason: 'r',
    release: RELEASE,
    ...(ring ? { ring: { kind: 'ring' as const, ring, index: ring === 'dev' ? 0 : 1, from: 'cluster' as const } } : {}),
  });

  it('a group in no ring, a ring reached: no refusal', () => {
    assert.equal(rolloutRefusal(plan(), { promotions: [], freezes: [] }), undefined);
    assert.equal(rolloutRefusal(plan('dev'), { promotions: [promotion('soaking')], freezes: [] }), undefined);
  });

  it('a ring not reached: refused, pointing at promote --to; a hold and a freeze: refused with how each is lifted, ring or not', () => {
    assert.deepEqual(rolloutRefusal(plan('prod'), { promotions: [promotion('soaking')], freezes: [] }), {
      reason: `the promotion of ${KEY} has not reached ring prod; the promotion is at ring dev`,
      next: [`the promotion rolls ring prod when it gets there; \`promote ${KEY} --to prod\` takes it there sooner`],
    });
    assert.match(rolloutRefusal(plan(), { promotions: [promotion('soaking', 'waiting', HOLD)], freezes: [] })!.next[0]!, new RegExp(`release ${KEY}`));
    assert.match(rolloutRefusal(plan(), { promotions: [], freezes: [freeze({ kind: 'cluster', cluster: 'plain' })] })!.reason, /^frozen \(incident 4711/);
  });
});
