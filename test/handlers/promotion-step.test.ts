import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { GroupOutcome, StoredPromotion } from '../../shared/aws/fleet-records.js';
import type { GroupView } from '../../shared/detect/inventory.js';
import { type GroupPlan, rolloutExecutionName } from '../../shared/detect/plan-rollouts.js';
import { InvalidInputError } from '../../shared/errors.js';
import { PROMOTION_PROGRESS } from '../../shared/events/promotion-events.js';
import { holdRelease } from '../../shared/fleet/promotion-actions.js';
import { parsePromotionPolicy } from '../../shared/fleet/promotion-policy.js';
import { newPromotion, type PromotionState } from '../../shared/fleet/promotion-state.js';
import { type Release, releaseKey } from '../../shared/fleet/release.js';
import type { HealthReport } from '../../shared/fleet/workload-health.js';
import { type PromotionStepPorts, rollbackExecutionName, runPromotionStep } from '../../shared/promotion/promotion-step.js';
import { lambdaContext, quietLogs } from './lambda-context.js';

/**
 * PromotionStep: the handler refuses bad input naming the field; the step (its ports plain
 * objects) begins a ring's rollouts with the names detection would use, rolls a regressed
 * ring back to the images its rollouts left, and never overwrites a person's change.
 */
Object.assign(process.env, { AWS_REGION: 'eu-west-1', MANAGED_CLUSTERS: '*', ROLLOUTS_TABLE: 'rollouts', FLEET_TABLE: 'fleet', AMI_ROLLOUT_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:ami-rollout' });
quietLogs();
const mocks = [mockClient(SSMClient), mockClient(SFNClient), mockClient(DynamoDBDocumentClient)];

const T0 = new Date('2026-11-21T09:00:00Z');
const RELEASE: Release = { source: 'eks-optimized', identity: { family: 'al2023', architecture: 'x86_64', variant: 'standard', kubernetesVersion: '1.31' }, release: '1.31.3-20261120' };
const KEY = releaseKey(RELEASE);
const NEW = 'ami-0123456789abcdef0';
const OLD = 'ami-0fedcba9876543210';
const policy = parsePromotionPolicy(JSON.stringify({ rings: [{ name: 'canary', soak: '1h', concurrency: 2 }, { name: 'prod', soak: '1h' }] }));

const place = { accountId: '123456789012', region: 'eu-west-1' };
function view(cluster: string, name: string): GroupView {
  return { place, home: true, cluster, kind: 'self-managed', name, autoScalingGroup: name, tags: {}, launchTemplate: { id: 'lt-0123456789abcdef0', version: 3 }, kubernetesVersion: '1.31', controlPlaneVersion: '1.31', imageId: OLD };
}
function rollPlan(cluster: string, group: string, ring: string): GroupPlan {
  return { cluster, group, kind: 'self-managed', action: 'roll', mode: 'auto', from: { imageId: OLD }, to: { imageId: NEW, release: RELEASE.release }, reason: 'newer', ring: { kind: 'ring', ring, index: ring === 'canary' ? 0 : 1, from: 'group' }, release: RELEASE };
}
function currentPlan(cluster: string, group: string, ring: string): GroupPlan {
  return { cluster, group, kind: 'self-managed', action: 'current', reason: 'runs it', ring: { kind: 'ring', ring, index: ring === 'canary' ? 0 : 1, from: 'group' }, release: RELEASE };
}
const healthy = (now: Date): HealthReport => ({ verdict: 'healthy', at: now.toISOString(), nodes: 3, pods: 10, signals: [] });
const regressed = (now: Date): HealthReport => ({ verdict: 'regressed', at: now.toISOString(), nodes: 3, pods: 10, signals: [{ signal: 'crash-loops', status: 'regressed', seen: 4, threshold: 0, evidence: ['default/web-1'], detail: '4 pods crash-loop on the new image' }] });

interface World {
  stored: StoredPromotion[];
  saves: { state: PromotionState; version: number }[];
  started: { name: string; input: any }[];
  published: { type: string; detail: any }[];
  /** each call of `promotion(key)` takes the next (the last stays) */
  reads: (StoredPromotion | undefined)[];
  refuseSaves: number;
}

function portsOf(world: World, facts: { views: GroupView[]; plans: GroupPlan[]; outcomes?: GroupOutcome[]; health?: (now: Date) => HealthReport; locks?: Record<string, string> }, now = T0): PromotionStepPorts {
  return {
    records: {
      promotion: async () => (world.reads.length > 1 ? world.reads.shift() : world.reads[0]),
      promotions: async () => world.stored,
      createPromotion: async () => true,
      savePromotion: async (state, version) => {
        world.saves.push({ state, version });
        if (world.refuseSaves-- > 0) return undefined;
        return version + 1;
      },
      ringApprovals: async () => [],
      freezes: async () => [],
      outcomes: async () => facts.outcomes ?? [],
    },
    policy: async () => policy,
    plan: async () => ({ groups: facts.views, plans: facts.plans, unreachable: [] }),
    lockOwner: async (ref) => facts.locks?.[`${ref.cluster}/${ref.group}`],
    health: async (request) => (facts.health ?? healthy)(request.now),
    recall: async () => undefined,
    startRollout: async (name, input) => {
      world.started.push({ name, input });
      return { executionArn: `arn:aws:states:eu-west-1:123456789012:execution:ami-rollout:${name}`, started: true };
    },
    publish: async (type, detail) => void world.published.push({ type, detail }),
    now: () => now,
    log: () => undefined,
  };
}
const worldWith = (state: PromotionState, over: Partial<World> = {}): World => ({ stored: [{ state, version: 7 }], saves: [], started: [], published: [], reads: [{ state, version: 7 }], refuseSaves: 0, ...over });

describe('Handler: promotion-step', () => {
  let handler: (event: unknown, context: unknown) => Promise<unknown>;
  before(async () => {
    ({ handler } = (await import('../../functions/promotion-step.js')) as never);
  });

  it('refuses input without a key, or with one no release key can be, naming the field and calling nothing', async () => {
    for (const [event, field] of [[{}, 'key'], [{ key: 'al2023 1.31!' }, 'key'], [{ key: KEY, release: { source: 'nope' } }, 'release']] as const) {
      await assert.rejects(handler(event, lambdaContext()), (error: Error) => error instanceof InvalidInputError && error.message.includes(field), JSON.stringify(event));
    }
    assert.equal(mocks.reduce((n, m) => n + m.calls().length, 0), 0);
  });
});

describe('PromotionStep', () => {
  const views = [view('dev', 'a'), view('dev', 'b'), view('stage', 'c'), view('prod', 'd')];
  const plans = [rollPlan('dev', 'a', 'canary'), rollPlan('dev', 'b', 'canary'), rollPlan('stage', 'c', 'canary'), rollPlan('prod', 'd', 'prod')];

  it('enters the first ring and begins its stale groups\' rollouts (its concurrency at once) under the names detection gives them, with the release and ring', async () => {
    const world = worldWith(newPromotion(RELEASE, policy, T0));
    const result = await runPromotionStep({ key: KEY }, portsOf(world, { views, plans }));
    assert.equal(result.command, 'roll');
    assert.equal(result.done, false);
    assert.equal(result.next, '2026-11-21T09:05:00.000Z', 'evaluateEvery: 5 minutes');
    assert.deepEqual(result.here, { steps: 1, continue: false });
    assert.deepEqual(world.started.map((s) => s.name), [rolloutExecutionName('dev', 'a', { imageId: NEW }), rolloutExecutionName('dev', 'b', { imageId: NEW })]);
    assert.deepEqual(world.started[0]!.input.fleet, { release: KEY, ring: 'canary' });
    assert.equal(world.started[0]!.input.target.imageId, NEW);
    assert.equal(world.started[0]!.input.detectedAt, undefined, 'the same input on every retry: StartExecution is idempotent on name and input');
    assert.deepEqual(world.saves.map((s) => s.version), [7]);
    assert.equal(world.saves[0]!.state.rings[0]!.status, 'rolling');
    assert.deepEqual(world.published.map((p) => [p.type, p.detail.kind, p.detail.ring]), [[PROMOTION_PROGRESS, 'ring-entered', 'canary']]);
    assert.ok(JSON.stringify(result).length < 4096, 'a small answer');

    // decided again (a retry): the same rollouts, the same inputs
    const again = worldWith(newPromotion(RELEASE, policy, T0));
    await runPromotionStep({ key: KEY }, portsOf(again, { views, plans }));
    assert.deepEqual(again.started, world.started);
  });

  it('counts a group whose rollout holds its lock as rolling, and starts only into free slots', async () => {
    const state = { ...newPromotion(RELEASE, policy, T0), rings: [{ ring: 'canary', status: 'rolling' as const, since: T0.toISOString() }, { ring: 'prod', status: 'waiting' as const }] };
    const world = worldWith(state);
    const owner = `arn:aws:states:eu-west-1:123456789012:execution:ami-rollout:${rolloutExecutionName('dev', 'a', { imageId: NEW })}`;
    const result = await runPromotionStep({ key: KEY }, portsOf(world, { views, plans, locks: { 'dev/a': owner } }));
    assert.equal(result.command, 'roll');
    assert.deepEqual(world.started.map((s) => s.name), [rolloutExecutionName('dev', 'b', { imageId: NEW })], 'one slot left of 2');
  });

  it('soaks once the ring runs the release, evaluating each of its clusters; passes it when the soak is over and health is good', async () => {
    const rolling = { ...newPromotion(RELEASE, policy, T0), rings: [{ ring: 'canary', status: 'rolling' as const, since: T0.toISOString() }, { ring: 'prod', status: 'waiting' as const }] };
    const current = [currentPlan('dev', 'a', 'canary'), currentPlan('dev', 'b', 'canary'), currentPlan('stage', 'c', 'canary'), rollPlan('prod', 'd', 'prod')];
    const asked: string[] = [];
    const world = worldWith(rolling);
    const ports = portsOf(world, { views, plans: current });
    const soak = await runPromotionStep({ key: KEY }, { ...ports, health: async (r) => (asked.push(`${r.ring}/${r.cluster}`), healthy(r.now)) });
    assert.equal(soak.command, 'soak');
    assert.equal(soak.next, '2026-11-21T09:05:00.000Z');
    assert.deepEqual(asked.sort(), ['canary/dev', 'canary/stage'], 'the ring being rolled: each cluster once');
    const soaking = world.saves.at(-1)!.state;

    const later = new Date(T0.getTime() + 3600_000);
    const world2 = worldWith(soaking);
    const passed = await runPromotionStep({ key: KEY, decision: { here: { steps: 9, continue: false } } }, portsOf(world2, { views, plans: current }, later));
    assert.equal(passed.command, 'promote');
    assert.equal(passed.next, later.toISOString(), 'the next ring at once');
    assert.deepEqual(passed.here, { steps: 10, continue: false });
    assert.deepEqual(world2.published.map((p) => p.detail.kind), ['ring-passed']);
  });

  it('a cluster whose health cannot be read is unreadable: the ring waits, nothing concluded', async () => {
    const soaking = { ...newPromotion(RELEASE, policy, T0), rings: [{ ring: 'canary', status: 'soaking' as const, since: T0.toISOString() }, { ring: 'prod', status: 'waiting' as const }] };
    const current = [currentPlan('dev', 'a', 'canary')];
    const world = worldWith(soaking);
    const ports = portsOf(world, { views, plans: current }, new Date(T0.getTime() + 7200_000));
    const result = await runPromotionStep({ key: KEY }, { ...ports, health: async () => { throw new Error('API unreachable'); } });
    assert.equal(result.command, 'soak', 'the soak is over but health cannot be judged');
  });

  it('a regression holds the release and rolls each affected group back to the image its rollout left, as a rollback of the release', async () => {
    const soaking = { ...newPromotion(RELEASE, policy, T0), rings: [{ ring: 'canary', status: 'soaking' as const, since: T0.toISOString() }, { ring: 'prod', status: 'waiting' as const }] };
    const current = [currentPlan('dev', 'a', 'canary'), rollPlan('prod', 'd', 'prod')];
    const outcomes: GroupOutcome[] = [{ ref: { cluster: 'dev', group: 'a' }, ring: 'canary', state: 'current', from: { imageId: OLD, release: '1.31.3-20261101' }, to: { imageId: NEW }, at: T0.toISOString() }];
    const world = worldWith(soaking);
    const result = await runPromotionStep({ key: KEY }, portsOf(world, { views, plans: current, outcomes, health: regressed }));
    assert.equal(result.command, 'hold');
    assert.equal(world.started.length, 1, 'only the regressed ring\'s group; prod untouched');
    const back = world.started[0]!;
    assert.equal(back.name, rollbackExecutionName(KEY, { cluster: 'dev', group: 'a' }, OLD));
    assert.equal(back.input.target.imageId, OLD);
    assert.equal(back.input.from.imageId, NEW);
    assert.equal(back.input.fleet.rollbackOf, KEY);
    assert.equal(back.input.fleet.release, releaseKey({ ...RELEASE, release: '1.31.3-20261101' }), 'its boundaries ask about the release it returns to, not the held one');
    assert.equal(world.saves[0]!.state.hold?.kind, 'regression');
    assert.deepEqual(world.published.map((p) => p.detail.kind), ['held']);
    assert.match(world.published[0]!.detail.hold.reason, /crash-loops/);
  });

  it('a version conflict (a person held the release meanwhile) is read again and decided again: their hold stands', async () => {
    const state = newPromotion(RELEASE, policy, T0);
    const held = holdRelease(state, { reason: 'looks odd', by: 'alice' }, T0);
    assert.ok(held.ok);
    const world = worldWith(state, { reads: [{ state, version: 7 }, { state: held.state, version: 8 }], refuseSaves: 1 });
    const result = await runPromotionStep({ key: KEY }, portsOf(world, { views, plans }));
    assert.equal(result.command, 'held');
    assert.deepEqual(world.saves.map((s) => s.version), [7, 8], 'the second write names the version it read again');
    assert.equal(world.saves[1]!.state.hold?.by, 'alice', 'never overwritten');
    assert.deepEqual(world.published, [], 'no event for a decision that was not stored');
  });

  it('refuses a promotion the table does not know, unless the input carries its release (then it begins it)', async () => {
    const world = worldWith(newPromotion(RELEASE, policy, T0), { reads: [undefined] });
    await assert.rejects(runPromotionStep({ key: KEY }, portsOf(world, { views, plans })), (error: Error) => error instanceof InvalidInputError && /key/.test(error.message));
    let created: PromotionState | undefined;
    const world2 = worldWith(newPromotion(RELEASE, policy, T0), { reads: [undefined, { state: newPromotion(RELEASE, policy, T0), version: 1 }] });
    const ports = portsOf(world2, { views, plans });
    const result = await runPromotionStep({ key: KEY, release: RELEASE }, { ...ports, records: { ...ports.records, createPromotion: async (s) => ((created = s), true) } });
    assert.equal(created?.key, KEY);
    assert.equal(result.command, 'roll');
  });

  it('a held release is decided without reading the fleet; the workflow is told to ask again later', async () => {
    const held = holdRelease(newPromotion(RELEASE, policy, T0), { reason: 'r', by: 'bob' }, T0);
    assert.ok(held.ok);
    const world = worldWith(held.state);
    let planned = 0;
    const ports = portsOf(world, { views, plans });
    const result = await runPromotionStep({ key: KEY }, { ...ports, plan: async (p) => (planned++, ports.plan(p)) });
    assert.equal(result.command, 'held');
    assert.equal(planned, 0);
    assert.equal(result.next, '2026-11-21T09:05:00.000Z');
    assert.equal(result.done, false);
  });
});
