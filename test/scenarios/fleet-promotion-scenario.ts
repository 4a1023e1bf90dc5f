/**
 * Issue 21's fleet scenario, shared by `npm run fleet` (scripts/fleet.ts), its bench
 * (scripts/bench/fleet-promotion.ts) and a small version in the suite
 * (test/scenarios/fleet-promotion.test.ts): six clusters in three rings across a hub and two
 * member accounts, a promotion policy in SSM, and three releases of the AL2023 line:
 * 1. a good release that soaks in every ring and reaches the last;
 * 2. a bad release whose pods crash-loop on its nodes (the sandbox's kubelet: `badFor:
 *    'workloads'`): seen in ring 0 within its soak, ring 0 rolled back, rings 1–2 untouched,
 *    the release held fleet-wide;
 * 3. a good release frozen mid-promotion (`freeze all`): nothing moves until it is lifted,
 *    then it reaches the last ring.
 * Everything runs as deployed: the real handlers and workflows, IAM on every call, member roles
 * through AssumeRole, the virtual clock.
 */
import { createDeployment, createPdb, releaseAmi, type SimAccount, type SimCluster, watchBudgets, type BudgetMonitor, World, type WorldOptions } from '@eks-node-lifecycle/sandbox';
import { awsScope } from '../../shared/aws/clients.js';
import { FleetRecords } from '../../shared/aws/fleet-records.js';
import type { Place } from '../../shared/aws/places.js';
import { PROMOTION_PROGRESS, type PromotionProgressDetail } from '../../shared/events/promotion-events.js';
import { RING_TAG } from '../../shared/fleet/ring-membership.js';
import type { PromotionState } from '../../shared/fleet/promotion-state.js';
import { type InvariantMonitor, watchInvariants } from './fault-invariants.js';

export const HUB = '111122223333';
export const MEMBER_A = '444455556666';
export const MEMBER_B = '777788889999';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface FleetScenarioOptions {
  /** nodes per group (2: every group rolls in two batches) */
  nodes?: number;
  /** the rings' soaks, in hours: [ring 0, ring 1, ring 2] */
  soakHours?: [number, number, number];
  /** minutes between health evaluations (the policy's evaluateEvery) */
  evaluateMinutes?: number;
  /** which releases to run (default all three) */
  releases?: readonly ('good' | 'bad' | 'freeze')[];
  /** a line per promotion event as it happens */
  onLine?: (line: string) => void;
  /** the promotion policy instead of promotionPolicy(soakHours, evaluateMinutes) */
  policy?: object;
  /** stage params of the world (chat: chatParams(receiver)) */
  params?: WorldOptions['params'];
}

export interface ClusterSite {
  place: Place;
  ring: string;
  account: SimAccount;
  cluster: SimCluster;
  group: string;
  budgets: BudgetMonitor;
}

export interface ReleaseSummary {
  release: string;
  kind: 'good' | 'bad' | 'freeze';
  key: string;
  ringsReached: string[];
  ringsPassed: string[];
  groupsRolled: number;
  groupsRolledBack: number;
  held: boolean;
  holdReason?: string;
  /** groups outside ring 0 that ever ran one of the release's images */
  outsideRing0: number;
  /** virtual seconds from the release's first new node to the hold (the bad release) */
  detectionDelaySeconds?: number;
  /** virtual seconds from the first pod crash-looping on its nodes (the threshold crossed) to the hold */
  thresholdToHoldSeconds?: number;
  /** virtual seconds from the promotion's start to its end (every ring passed), and the sum of the soaks */
  promotionSeconds?: number;
  soakSeconds: number;
  /** for the freeze: virtual seconds frozen, and ring transitions while frozen (must be 0) */
  frozenSeconds?: number;
  transitionsWhileFrozen?: number;
}

export interface FleetScenarioResult {
  releases: ReleaseSummary[];
  timeline: string[];
  sites: ClusterSite[];
  world: World;
  monitor: InvariantMonitor;
  /** state transitions and Lambda invocations of the promotion workflows, per group promoted */
  transitions: number;
  invocations: number;
  groupsPromoted: number;
}

export const RINGS = ['canary', 'staging', 'prod'] as const;

/** Two clusters per ring; each ring spans accounts, so a ring's promotion always crosses them. */
export const LAYOUT: readonly { place: Place; name: string; ring: (typeof RINGS)[number] }[] = [
  { place: { accountId: HUB, region: 'eu-west-1' }, name: 'canary-eu', ring: 'canary' },
  { place: { accountId: MEMBER_A, region: 'eu-west-1' }, name: 'canary-a', ring: 'canary' },
  { place: { accountId: HUB, region: 'eu-west-1' }, name: 'staging-eu', ring: 'staging' },
  { place: { accountId: MEMBER_B, region: 'us-east-1' }, name: 'staging-b', ring: 'staging' },
  { place: { accountId: MEMBER_A, region: 'eu-west-1' }, name: 'prod-a', ring: 'prod' },
  { place: { accountId: MEMBER_B, region: 'us-east-1' }, name: 'prod-b', ring: 'prod' },
];

export function promotionPolicy(soakHours: readonly number[], evaluateMinutes: number): object {
  return {
    rings: RINGS.map((name, i) => ({ name, soak: `${soakHours[i]}h`, concurrency: '100%' })),
    evaluateEvery: `${evaluateMinutes}m`,
    onRegression: 'rollback',
  };
}

/** A pod seen in CrashLoopBackOff, as its cluster's API server stored it: when a health threshold (`maxCrashLoopingPods` 0) is first crossed. */
export interface CrashLoopSeen {
  site: ClusterSite;
  pod: string;
  at: number;
}

/** Every instance a group ever launched, with its image and launch time (terminated ones too): who ever ran what. */
export interface Launch {
  site: ClusterSite;
  instanceId: string;
  imageId: string;
  at: number;
}

export async function startFleetWorld(options: FleetScenarioOptions = {}): Promise<{ world: World; sites: ClusterSite[]; monitor: InvariantMonitor; fleet: FleetRecords; launches: Launch[]; crashLoops: CrashLoopSeen[] }> {
  const nodes = options.nodes ?? 2;
  const world = await World.start({ members: [{ accountId: MEMBER_A, regions: ['eu-west-1'] }, { accountId: MEMBER_B, regions: ['us-east-1'] }], ...(options.params ? { params: options.params } : {}) });
  world.account.ssm.putParameter(world.model.params['promotionPolicyParameter']!.replace('${sls:stage}', world.model.stage), JSON.stringify(options.policy ?? promotionPolicy(options.soakHours ?? [4, 8, 12], options.evaluateMinutes ?? 10)));
  const sites: ClusterSite[] = [];
  for (const { place, name, ring } of LAYOUT) {
    const cluster = await world.addCluster(name, { version: '1.31', place, tags: { [RING_TAG]: ring } });
    const account = world.accountAt(place);
    account.seedVpc();
    const group = `${name}-nodes`;
    account.createSelfManagedGroup({
      cluster: name,
      name: group,
      amiFamily: 'al2023',
      min: nodes,
      max: nodes * 2,
      desired: nodes,
      launchTemplateVersion: '1',
      tags: { 'eks-node-lifecycle/rollout': 'auto', 'eks-node-lifecycle/drain': 'on', 'eks-node-lifecycle/max-unavailable': '1' },
      hooks: { terminate: { name: 'eks-node-lifecycle-drain', heartbeatTimeout: 600, defaultResult: 'CONTINUE' } },
    });
    sites.push({ place, ring, account, cluster, group, budgets: watchBudgets(cluster.store) });
  }
  const launches: Launch[] = [];
  for (const account of new Set(sites.map((s) => s.account))) {
    account.ec2.instances.onStateChange((record, previous) => {
      if (previous !== undefined) return;
      const group = record.instance.Tags?.find((t: { Key?: string }) => t.Key === 'aws:autoscaling:groupName')?.Value;
      const site = sites.find((s) => s.account === account && s.group === group);
      if (site && record.instance.ImageId) launches.push({ site, instanceId: record.instance.InstanceId!, imageId: record.instance.ImageId, at: world.clock.now() });
    });
  }
  const crashLoops: CrashLoopSeen[] = [];
  for (const site of sites) {
    site.cluster.store.on((event) => {
      if (event.resource !== 'pods' || event.type === 'DELETED') return;
      const pod = event.object as { metadata: { namespace: string; name: string }; status?: { containerStatuses?: { state?: { waiting?: { reason?: string } } }[] } };
      if (!pod.status?.containerStatuses?.some((c) => c.state?.waiting?.reason === 'CrashLoopBackOff')) return;
      const name = `${pod.metadata.namespace}/${pod.metadata.name}`;
      if (!crashLoops.some((c) => c.site === site && c.pod === name)) crashLoops.push({ site, pod: name, at: world.clock.now() });
    });
  }
  await world.settle();
  for (const s of sites) {
    createDeployment(s.cluster.store, { namespace: 'shop', name: 'web', replicas: nodes * 2, labels: { app: 'web' } });
    createPdb(s.cluster.store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, maxUnavailable: 1 });
  }
  await world.run(5 * MINUTE);
  const monitor = watchInvariants(world);
  const fleet = new FleetRecords(awsScope({ region: world.model.region }), process.env['FLEET_TABLE']!);
  return { world, sites, monitor, fleet, launches, crashLoops };
}

export function progressEvents(world: World, key?: string): PromotionProgressDetail[] {
  return world.published.filter((e) => e['detail-type'] === PROMOTION_PROGRESS).map((e) => e.detail as PromotionProgressDetail).filter((d) => !key || d.key === key);
}

function stamp(start: number, at: number): string {
  const t = (at - start) / 1000;
  return `+${String(Math.floor(t / 3600)).padStart(3, ' ')}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatProgress(start: number, d: PromotionProgressDetail): string {
  return `${stamp(start, Date.parse(d.at))}  ${d.key}  ${(d.ring ?? '').padEnd(8)} ${d.kind.padEnd(14)} ${d.detail.slice(0, 200)}`;
}

const ROLLOUT_LINES = new Set(['Rollout Finished', 'Rollout Rolled Back', 'Rollout Paused', 'Rollout Resumed', 'Rollout Failed']);

function formatRollout(start: number, event: { time?: string; 'detail-type': string; detail: unknown }): string {
  const d = event.detail as { cluster?: string; group?: string; accountId?: string; summary?: string; reason?: string };
  const where = [d.accountId, d.cluster, d.group].filter(Boolean).join('/');
  const why = d.reason ? `: ${d.reason}` : '';
  return `${stamp(start, Date.parse(event.time ?? ''))}    ${event['detail-type'].replace('Rollout ', 'rollout ').toLowerCase()} ${where}${why}`.slice(0, 260);
}

export { HOUR, MINUTE };
export type { PromotionState };

/** The places the six clusters live in, each once: an AMI is released once per account and region. */
function placesOf(sites: readonly ClusterSite[]): ClusterSite[] {
  return sites.filter((s, i) => sites.findIndex((o) => o.place.accountId === s.place.accountId && o.place.region === s.place.region) === i);
}

async function promotionOf(fleet: FleetRecords, date: string): Promise<PromotionState | undefined> {
  return (await fleet.promotions()).map((p) => p.state).find((s) => s.key.endsWith(`-${date}`));
}

/**
 * Runs the releases in order and returns one summary per release, the promotion timeline, and
 * the figures the bench reports. The caller stops the world.
 */
export async function runFleetScenario(options: FleetScenarioOptions = {}): Promise<FleetScenarioResult> {
  const evaluate = (options.evaluateMinutes ?? 10) * MINUTE;
  const soakHours = options.soakHours ?? [4, 8, 12];
  const soakSeconds = soakHours.reduce((a, b) => a + b, 0) * 3600;
  const { world, sites, monitor, fleet, launches, crashLoops } = await startFleetWorld(options);
  const invocations: string[] = [];
  world.lambda.onInvoked((i) => invocations.push(i.function));
  const start = world.clock.now();
  const timeline: string[] = [];
  let seen = 0;
  // the promotions' transitions, and how each group's rollouts ended or paused, as they were published
  const flush = () => {
    for (const event of world.published.slice(seen)) {
      const line = event['detail-type'] === PROMOTION_PROGRESS ? formatProgress(start, event.detail as PromotionProgressDetail) : ROLLOUT_LINES.has(event['detail-type']) ? formatRollout(start, event) : undefined;
      if (!line) continue;
      timeline.push(line);
      options.onLine?.(line);
    }
    seen = world.published.length;
  };
  const say = (text: string) => {
    flush();
    const line = `${stamp(start, world.clock.now())}  ${text}`;
    timeline.push(line);
    options.onLine?.(line);
  };
  const detect = () => world.runSchedule('detectStaleGroups', { kind: 'scheduled-detection' });
  /** Runs the world an evaluation at a time (a scheduled detection every hour, as deployed) until `done` or `maxMs`. */
  const runUntil = async (done: () => Promise<boolean>, maxMs: number): Promise<boolean> => {
    const deadline = world.clock.now() + maxMs;
    let lastDetection = world.clock.now();
    while (world.clock.now() < deadline) {
      if (await done()) return true;
      await world.run(evaluate);
      if (world.clock.now() - lastDetection >= HOUR) {
        await detect();
        lastDetection = world.clock.now();
      }
      flush();
    }
    return done();
  };
  const release = (date: string, bad?: 'workloads') => {
    const images = new Map<string, string>();
    for (const s of placesOf(sites)) {
      const image = releaseAmi(s.account, { family: 'al2023', kubernetesVersion: '1.31', date, ...(bad ? { badFor: bad } : {}) }).image.ImageId!;
      for (const o of sites.filter((x) => x.account === s.account)) images.set(o.cluster.key, image);
    }
    say(`AWS releases the AL2023 1.31 AMI v${date}${bad ? ' (bad: its pods crash-loop)' : ''} in ${placesOf(sites).length} account-regions`);
    return images;
  };
  const summaries: ReleaseSummary[] = [];
  const summarise = async (kind: ReleaseSummary['kind'], date: string, images: Map<string, string>, extra: Partial<ReleaseSummary> = {}): Promise<ReleaseSummary> => {
    const state = await promotionOf(fleet, date);
    const ran = (s: ClusterSite) => launches.some((l) => l.site === s && l.imageId === images.get(s.cluster.key));
    const current = (s: ClusterSite) => [...s.account.autoscaling.group(s.group).instances.keys()].every((id) => s.account.ec2.instances.get(id)?.instance.ImageId === images.get(s.cluster.key));
    const ranSites = sites.filter(ran);
    const summary: ReleaseSummary = {
      release: `v${date}`,
      kind,
      key: state?.key ?? '(no promotion)',
      ringsReached: state ? state.rings.filter((r) => r.status !== 'waiting' && r.status !== 'awaiting-approval').map((r) => r.ring) : [],
      ringsPassed: state ? state.rings.filter((r) => r.status === 'passed').map((r) => r.ring) : [],
      groupsRolled: ranSites.length,
      groupsRolledBack: ranSites.filter((s) => !current(s)).length,
      held: state?.hold !== undefined,
      ...(state?.hold ? { holdReason: state.hold.reason.slice(0, 300) } : {}),
      outsideRing0: ranSites.filter((s) => s.ring !== RINGS[0]).length,
      ...(state?.finishedAt ? { promotionSeconds: (Date.parse(state.finishedAt) - Date.parse(state.startedAt)) / 1000 } : {}),
      soakSeconds,
      ...extra,
    };
    summaries.push(summary);
    return summary;
  };
  const wanted = options.releases ?? ['good', 'bad', 'freeze'];
  const budget = soakSeconds * 1000 * 1.5 + 6 * HOUR;

  if (wanted.includes('good')) {
    const images = release('20261210');
    await detect();
    await runUntil(async () => (await promotionOf(fleet, '20261210'))?.finishedAt !== undefined, budget);
    await summarise('good', '20261210', images);
  }

  if (wanted.includes('bad')) {
    const images = release('20261215', 'workloads');
    await detect();
    await runUntil(async () => (await promotionOf(fleet, '20261215'))?.hold !== undefined, budget);
    // the rollbacks of ring 0, and a detection that must not start the held release anywhere
    await runUntil(async () => false, 2 * HOUR);
    const state = await promotionOf(fleet, '20261215');
    const firstNode = Math.min(...launches.filter((l) => l.imageId === images.get(l.site.cluster.key)).map((l) => l.at));
    const firstCrash = Math.min(...crashLoops.filter((c) => c.at >= firstNode).map((c) => c.at));
    const held = state?.hold ? Date.parse(state.hold.since) : NaN;
    await summarise('bad', '20261215', images, {
      ...(Number.isFinite(held) && Number.isFinite(firstNode) ? { detectionDelaySeconds: (held - firstNode) / 1000 } : {}),
      ...(Number.isFinite(held) && Number.isFinite(firstCrash) ? { thresholdToHoldSeconds: (held - firstCrash) / 1000 } : {}),
    });
  }

  if (wanted.includes('freeze')) {
    const images = release('20261220');
    await detect();
    const passed = (ring: string) => async () => (await promotionOf(fleet, '20261220'))?.rings.some((r) => r.ring === ring && r.status === 'passed') ?? false;
    await runUntil(passed(RINGS[0]), budget);
    const frozenAt = world.clock.now();
    await fleet.setFreeze({ scope: { kind: 'all' }, reason: 'change freeze: end-of-quarter', by: 'slack:T0SANDBOX:U0SRE', since: new Date(frozenAt).toISOString() });
    say('freeze all --reason "change freeze: end-of-quarter"');
    const before = progressEvents(world, (await promotionOf(fleet, '20261220'))?.key).length;
    const rolloutsBefore = [...world.stepFunctions.executions.values()].filter((e) => e.stateMachineArn.endsWith('-ami-rollout')).length;
    await runUntil(async () => false, Math.max(6 * HOUR, soakHours[1]! * HOUR * 1.5));
    const transitionsWhileFrozen = progressEvents(world, (await promotionOf(fleet, '20261220'))?.key).length - before;
    const rolloutsWhileFrozen = [...world.stepFunctions.executions.values()].filter((e) => e.stateMachineArn.endsWith('-ami-rollout')).length - rolloutsBefore;
    await fleet.liftFreeze({ kind: 'all' });
    say(`unfreeze all (frozen ${Math.round((world.clock.now() - frozenAt) / HOUR)}h: ${transitionsWhileFrozen} promotion transitions, ${rolloutsWhileFrozen} rollouts started)`);
    const frozenSeconds = (world.clock.now() - frozenAt) / 1000;
    await runUntil(async () => (await promotionOf(fleet, '20261220'))?.finishedAt !== undefined, budget);
    await summarise('freeze', '20261220', images, { frozenSeconds, transitionsWhileFrozen: transitionsWhileFrozen + rolloutsWhileFrozen });
  }
  // a held promotion is read again every evaluation, for ever: run on a while (the last rollbacks), not to the end
  await world.run(30 * MINUTE);
  flush();

  const promotions = [...world.stepFunctions.executions.values()].filter((e) => e.stateMachineArn.endsWith('-fleet-promotion'));
  return {
    releases: summaries,
    timeline,
    sites,
    world,
    monitor,
    transitions: promotions.reduce((n, e) => n + e.history.length, 0),
    invocations: invocations.filter((f) => f === 'promotionStep').length,
    groupsPromoted: summaries.filter((s) => !s.held).reduce((n, s) => n + s.groupsRolled, 0),
  };
}
