import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { DrainStatus } from '../../shared/aws/drain-records.js';
import type { GroupInstance, GroupSnapshot } from '../../shared/aws/auto-scaling-groups.js';
import { type Cycle, type SelfManagedRoll, SelfManagedRollSchema } from '../../shared/events/rollout.js';
import {
  DEFAULT_ROLL_SETTINGS,
  HOOK_BACKUP_SECONDS,
  type Observation,
  type RollAction,
  type RollDecision,
  type RollSettings,
  afterFailure,
  decideSelfManaged,
  healthTargets,
  pairByZone,
} from '../../shared/rollout/self-managed/decide-self-managed.js';
import { parseWindow } from '../../shared/rollout/maintenance-window.js';
import type { HealthVerdict, NodeFact } from '../../shared/rollout/health-gate.js';
import { planBatches } from '../../shared/rollout/plan-batches.js';

/**
 * The self-managed roll as a specification: each phase of the reconciler, given a state and
 * an observation built by hand, and properties over random runs against a toy group.
 */
const T0 = new Date('2026-11-21T09:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const iso = (seconds: number) => at(seconds).toISOString();
const SETTINGS: RollSettings = { ...DEFAULT_ROLL_SETTINGS, drainTimeoutSeconds: 20 * 60, forceAtDeadline: false };
const LT = 'lt-0123456789abcdef0';
const OLD_VERSION = '3';
const TARGET_VERSION = '4';

// instance ids the schema accepts: old ones i-0a…, new ones i-0b…, foreign versions i-0c…
const oid = (n: number) => `i-0a${n.toString(16).padStart(15, '0')}`;
const nid = (n: number) => `i-0b${n.toString(16).padStart(15, '0')}`;
const nodeName = (id: string) => `ip-${id}`;

const O1 = oid(1);
const O2 = oid(2);
const O3 = oid(3);
const O4 = oid(4);
const N1 = nid(1);
const N2 = nid(2);
const N3 = nid(3);

function inst(instanceId: string, availabilityZone: string, launchTemplateVersion: string | undefined, lifecycleState = 'InService'): GroupInstance {
  return { instanceId, availabilityZone, lifecycleState, healthStatus: 'Healthy', ...(launchTemplateVersion !== undefined ? { launchTemplateVersion } : {}) };
}
const old = (id: string, zone: string) => inst(id, zone, OLD_VERSION);
const fresh = (id: string, zone: string, version = TARGET_VERSION) => inst(id, zone, version);

/** four old nodes, two in eu-west-1a */
const OLD_FOUR = [old(O1, 'eu-west-1a'), old(O2, 'eu-west-1b'), old(O3, 'eu-west-1c'), old(O4, 'eu-west-1a')];

function snapshot(instances: GroupInstance[], over: Partial<GroupSnapshot> = {}): GroupSnapshot {
  return { name: 'prod-workers', desired: 4, min: 1, max: 6, launchTemplate: { id: LT, version: TARGET_VERSION }, suspendedProcesses: [], tags: {}, propagateAtLaunch: [], subnetIds: [], instances, ...over };
}

function node(id: string, facts: Partial<NodeFact> = {}): [string, NodeFact] {
  return [id, { name: nodeName(id), ready: true, unschedulable: false, ...facts }];
}

/** Ready, schedulable nodes for the ids, with per-id overrides. */
function nodes(ids: string[], over: Record<string, Partial<NodeFact>> = {}): Map<string, NodeFact> {
  return new Map(ids.map((id) => node(id, over[id])));
}

function observe(o: {
  instances: GroupInstance[];
  group?: Partial<GroupSnapshot>;
  nodes?: Map<string, NodeFact>;
  drains?: Record<string, DrainStatus>;
  health?: HealthVerdict | null;
  launchFailures?: string[];
  control?: Observation['control'];
  now?: Date;
}): Observation {
  return {
    group: snapshot(o.instances, o.group),
    ...(o.launchFailures ? { launchFailures: o.launchFailures } : {}),
    nodes: o.nodes ?? nodes(o.instances.map((i) => i.instanceId)),
    drains: new Map(Object.entries(o.drains ?? {})),
    health: o.health ?? null,
    control: o.control ?? null,
    now: o.now ?? T0,
  };
}

function roll(over: Partial<SelfManagedRoll> = {}): SelfManagedRoll {
  return {
    kind: 'self-managed',
    phase: 'start',
    original: { desired: 4, min: 1, max: 6, launchTemplate: { id: LT, version: OLD_VERSION }, suspendedAZRebalance: true },
    target: { launchTemplateId: LT, version: TARGET_VERSION },
    autoScalingGroup: 'prod-workers',
    strategy: 'surge',
    maxUnavailable: 2,
    batches: [
      { canary: true, instanceIds: [O1], zones: ['eu-west-1a'] },
      { canary: false, instanceIds: [O2, O3], zones: ['eu-west-1b', 'eu-west-1c'] },
      { canary: false, instanceIds: [O4], zones: ['eu-west-1a'] },
    ],
    batchIndex: 0,
    cycle: null,
    launched: [],
    cordonedAll: false,
    replaced: 0,
    rollback: null,
    end: null,
    ...over,
  };
}

function cycle(over: Partial<Cycle> = {}): Cycle {
  return { kind: 'batch', retire: [O1], known: [O1, O2, O3, O4], replacements: [], expect: 1, deadline: iso(900), ...over };
}

const decide = (state: SelfManagedRoll, obs: Observation) => decideSelfManaged(state, obs, SETTINGS);
const kinds = (d: RollDecision) => d.actions.map((a) => a.kind);
const actionsOf = <K extends RollAction['kind']>(d: RollDecision, kind: K) => d.actions.filter((a): a is Extract<RollAction, { kind: K }> => a.kind === kind);
const events = (d: RollDecision) => actionsOf(d, 'notify').map((a) => a.event);
/** A rollback that cannot finish goes through give-up, which tidies up and ends the roll. */
function givenUp(d: RollDecision, obs: Observation): RollDecision {
  assert.equal(d.state.phase, 'give-up', d.summary);
  assert.equal(d.next, 'step');
  const end = decide(d.state, obs);
  assert.equal(end.next, 'end');
  assert.equal(end.state.phase, 'ended');
  assert.equal(end.state.end, 'rollback-failed');
  assert.equal(end.tidy, true, 'each tidy-up action is tried whatever the others do');
  return end;
}

describe('Rollout: decide self-managed roll', () => {
  describe('start', () => {
    it('points the group at the target version, suspends AZRebalance, announces the plan and launches the canary (surge)', () => {
      const d = decide(roll(), observe({ instances: OLD_FOUR }));
      assert.deepEqual(d.actions[0], { kind: 'update-group', launchTemplate: { id: LT, version: TARGET_VERSION } });
      assert.deepEqual(actionsOf(d, 'az-rebalance'), [{ kind: 'az-rebalance', suspended: true }]);
      assert.deepEqual(events(d), ['planned']);
      assert.equal(d.next, 'step');
      assert.equal(d.state.phase, 'launch');
      assert.deepEqual(d.state.cycle, { kind: 'batch', retire: [O1], known: [O1, O2, O3, O4], replacements: [], expect: 1, deadline: iso(SETTINGS.readyTimeoutSeconds) });
    });

    it('leaves AZRebalance alone when it was suspended before the rollout', () => {
      const state = roll({ original: { ...roll().original, suspendedAZRebalance: false } });
      assert.deepEqual(actionsOf(decide(state, observe({ instances: OLD_FOUR })), 'az-rebalance'), []);
    });

    it('under minimal drains the batch first, cordoning nothing else (evicted pods need the other old nodes)', () => {
      const d = decide(roll({ strategy: 'minimal' }), observe({ instances: OLD_FOUR }));
      assert.equal(d.state.phase, 'drain');
      assert.equal(d.state.cordonedAll, false);
      assert.deepEqual(d.state.cycle?.retire, [O1]);
      assert.ok(!kinds(d).includes('terminate') && !kinds(d).includes('drain'), 'nothing is taken out at start');
    });

    it('finishes at once when no node is on the old version', () => {
      const d = decide(roll(), observe({ instances: [fresh(N1, 'eu-west-1a')] }));
      assert.equal(d.state.phase, 'finish');
      assert.equal(d.state.end, 'finished');
    });

    it('still runs a canary when its planned node is gone: the next old node takes its place', () => {
      const d = decide(roll(), observe({ instances: OLD_FOUR.slice(1) }));
      assert.equal(d.state.batchIndex, 0);
      assert.deepEqual(d.state.cycle?.retire, [O2]);
    });

    it('fills a batch that zone pairing emptied early from the next old nodes, up to max-unavailable', () => {
      // batch 2 planned [O2, O3]; O3 went early with the canary (its replacement landed in O3's zone)
      const d = decide(roll({ batchIndex: 1 }), observe({ instances: [old(O2, 'eu-west-1b'), old(O4, 'eu-west-1a'), fresh(N1, 'eu-west-1c')] }));
      assert.deepEqual(d.state.cycle?.retire, [O2, O4]);
    });
  });

  describe('launch', () => {
    const table: [string, { desired: number; max: number }, number, { desired: number; max: number }][] = [
      ['raises desired by the batch and max to fit it', { desired: 4, max: 4 }, 2, { desired: 6, max: 6 }],
      ['keeps a max that already fits', { desired: 4, max: 10 }, 2, { desired: 6, max: 10 }],
      ['one node at a time', { desired: 1, max: 1 }, 1, { desired: 2, max: 2 }],
    ];
    for (const [name, original, n, want] of table) {
      it(`sets desired = the group at the cycle's start + n: ${name}`, () => {
        const retire = [O1, O2, O3].slice(0, n);
        const known = [O1, O2, O3, O4].slice(0, original.desired);
        const state = roll({ phase: 'launch', original: { ...roll().original, ...original }, cycle: cycle({ retire, known, expect: n }) });
        const d = decide(state, observe({ instances: OLD_FOUR, now: at(60) }));
        assert.deepEqual(d.actions, [{ kind: 'update-group', ...want }]);
        assert.equal(d.state.phase, 'await-replacements');
        assert.equal(d.state.cycle?.deadline, iso(60 + SETTINGS.readyTimeoutSeconds));
      });
    }
  });

  describe('await-replacements', () => {
    const waiting = (over: Partial<Cycle> = {}, state: Partial<SelfManagedRoll> = {}) => roll({ phase: 'await-replacements', cycle: cycle({ retire: [O1, O2], expect: 2, ...over }), ...state });

    it('waits while no replacement has launched', () => {
      const d = decide(waiting(), observe({ instances: OLD_FOUR }));
      assert.equal(d.next, 'wait');
      assert.deepEqual(d.wait, { seconds: SETTINGS.pollSeconds, phase: 'replacements' });
      assert.deepEqual(d.actions, []);
    });

    it('counts only new instances on the target version with Ready nodes', () => {
      const instances = [
        ...OLD_FOUR,
        fresh(N1, 'eu-west-1a'), // counts
        fresh(N2, 'eu-west-1b', '5'), // another version: does not count
        fresh(N3, 'eu-west-1c'), // known before the cycle: does not count
      ];
      const d = decide(waiting({ known: [O1, O2, O3, O4, N3] }), observe({ instances }));
      assert.equal(d.next, 'wait');
      assert.match(d.summary, /1 of 2 replacements Ready/);
      assert.deepEqual(d.state.launched, [N1], 'the new instance is remembered as launched by the rollout');
    });

    it('does not count a new instance whose node is not Ready', () => {
      const instances = [...OLD_FOUR, fresh(N1, 'eu-west-1a'), fresh(N2, 'eu-west-1b')];
      const d = decide(waiting(), observe({ instances, nodes: nodes(instances.map((i) => i.instanceId), { [N2]: { ready: false } }) }));
      assert.equal(d.next, 'wait');
      assert.deepEqual(new Set(d.state.launched), new Set([N1, N2]));
    });

    it('learns how long the boot took, and the next batch looks first a little before that, then often', () => {
      const instances = [...OLD_FOUR, fresh(N1, 'eu-west-1a'), fresh(N2, 'eu-west-1b')];
      const ready = decide(waiting({ launchedAt: iso(0) }), observe({ instances, now: at(70) }));
      assert.equal(ready.state.bootSeconds, 70);
      const next = (now: number) => decide(waiting({ launchedAt: iso(100) }, { bootSeconds: 70 }), observe({ instances: OLD_FOUR, now: at(now) })).wait?.seconds;
      assert.equal(next(100), 70 - SETTINGS.fastPollSeconds, 'first look just before the learned boot');
      assert.equal(next(166), SETTINGS.fastPollSeconds, 'then every fast poll');
      assert.equal(next(400), SETTINGS.fastPollSeconds, 'late: still often, until the deadline');
      assert.equal(decide(waiting({ launchedAt: iso(100) }), observe({ instances: OLD_FOUR, now: at(100) })).wait?.seconds, SETTINGS.pollSeconds, 'nothing learned yet: the ordinary poll');
    });

    it('moves on to cordon when n replacements are Ready, naming them', () => {
      const instances = [...OLD_FOUR, fresh(N1, 'eu-west-1a'), fresh(N2, 'eu-west-1b')];
      const d = decide(waiting(), observe({ instances }));
      assert.equal(d.next, 'step');
      assert.equal(d.state.phase, 'cordon');
      assert.deepEqual(d.state.cycle?.replacements, [N1, N2]);
    });

    it('goes straight to drain once every old node is cordoned', () => {
      const instances = [...OLD_FOUR, fresh(N1, 'eu-west-1a'), fresh(N2, 'eu-west-1b')];
      assert.equal(decide(waiting({}, { cordonedAll: true }), observe({ instances })).state.phase, 'drain');
    });

    it('under minimal goes to the health gate, with its own deadline', () => {
      const instances = [old(O3, 'eu-west-1c'), old(O4, 'eu-west-1a'), fresh(N1, 'eu-west-1a'), fresh(N2, 'eu-west-1b')];
      const d = decide(waiting({}, { strategy: 'minimal' }), observe({ instances, now: at(100) }));
      assert.equal(d.state.phase, 'health');
      assert.deepEqual(d.state.cycle?.replacements, [N1, N2]);
      assert.equal(d.state.cycle?.deadline, iso(100 + SETTINGS.healthTimeoutSeconds));
    });

    it('rolls back at the deadline, naming the instances that never became Ready nodes', () => {
      const instances = [...OLD_FOUR, fresh(N1, 'eu-west-1a'), fresh(N2, 'eu-west-1b')];
      const d = decide(waiting(), observe({ instances, nodes: nodes(instances.map((i) => i.instanceId), { [N2]: { ready: false } }), now: at(901) }));
      assert.equal(d.state.phase, 'rollback');
      assert.equal(d.state.rollback?.attempts, 0);
      assert.match(d.state.rollback!.reason, new RegExp(`${N2} launched but never became Ready`));
      assert.doesNotMatch(d.state.rollback!.reason, new RegExp(N1));
      assert.deepEqual(new Set(d.state.launched), new Set([N1, N2]), 'the rollback knows both as the rollout\'s');
    });

    it('rolls back at the deadline saying nothing launched', () => {
      const d = decide(waiting(), observe({ instances: OLD_FOUR, now: at(901) }));
      assert.equal(d.state.phase, 'rollback');
      assert.match(d.state.rollback!.reason, /no instance launched/);
    });

    it('still waits exactly at the deadline', () => {
      assert.equal(decide(waiting(), observe({ instances: OLD_FOUR, now: at(900) })).next, 'wait');
    });

    it('a rollback cycle counts new instances on the original version and then drains', () => {
      const state = waiting({ kind: 'rollback', retire: [N1], known: [O1, N1], expect: 1 }, { launched: [N1] });
      const instances = [old(O1, 'eu-west-1a'), fresh(N1, 'eu-west-1b'), inst(oid(9), 'eu-west-1b', OLD_VERSION)];
      const d = decide(state, observe({ instances }));
      assert.equal(d.state.phase, 'drain');
      assert.deepEqual(d.state.cycle?.replacements, [oid(9)]);
      assert.deepEqual(d.state.launched, [N1], 'old-version instances are not the rollout\'s');
    });

    it('a rollback cycle that gets no old-version node by the deadline ends as rollback-failed', () => {
      const state = waiting({ kind: 'rollback', retire: [N1], known: [O1, N1], expect: 1 }, { launched: [N1], rollback: { reason: 'health', attempts: 0 } });
      const obs = observe({ instances: [old(O1, 'eu-west-1a'), fresh(N1, 'eu-west-1b')], now: at(901) });
      const end = givenUp(decide(state, obs), obs);
      assert.deepEqual(events(end), ['rollback-failed']);
      assert.match(end.state.left!.join('\n'), new RegExp(`1 instance still runs the new image: ${N1}`));
    });
  });

  describe('cordon', () => {
    it('cordons every old node not yet cordoned, never a new one, and only once', () => {
      const instances = [...OLD_FOUR, fresh(N1, 'eu-west-1a')];
      const state = roll({ phase: 'cordon', cycle: cycle({ replacements: [N1] }), launched: [N1] });
      const d = decide(state, observe({ instances, nodes: nodes(instances.map((i) => i.instanceId), { [O3]: { unschedulable: true } }) }));
      assert.deepEqual(d.actions, [{ kind: 'cordon', nodes: [O1, O2, O4].map(nodeName) }]);
      assert.equal(d.state.cordonedAll, true);
      assert.equal(d.state.phase, 'drain');
    });

    it('cordons nothing when every old node already is', () => {
      const d = decide(roll({ phase: 'cordon', cycle: cycle() }), observe({ instances: OLD_FOUR, nodes: nodes(OLD_FOUR.map((i) => i.instanceId), Object.fromEntries(OLD_FOUR.map((i) => [i.instanceId, { unschedulable: true }]))) }));
      assert.deepEqual(d.actions, []);
      assert.equal(d.state.phase, 'drain');
    });

    it('the next batch does not cordon again', () => {
      const state = roll({ phase: 'batch-done', batchIndex: 0, cordonedAll: true, replaced: 1, launched: [N1], cycle: cycle({ replacements: [N1] }) });
      const d = decide(state, observe({ instances: [...OLD_FOUR.slice(1), fresh(N1, 'eu-west-1a')] }));
      assert.equal(d.state.phase, 'launch');
      const minimal = decide({ ...state, strategy: 'minimal' }, observe({ instances: [...OLD_FOUR.slice(1), fresh(N1, 'eu-west-1a')] }));
      assert.equal(minimal.state.phase, 'drain');
    });
  });

  describe('drain', () => {
    it('surge: drains the old node in each replacement\'s zone, rewriting the retire set', () => {
      // the canary O1 is in 1a, but its replacement came up in 1b: O2 (1b) goes instead
      const instances = [...OLD_FOUR, fresh(N1, 'eu-west-1b')];
      const state = roll({ phase: 'drain', cordonedAll: true, launched: [N1], cycle: cycle({ retire: [O1], replacements: [N1] }) });
      const d = decide(state, observe({ instances, now: at(10) }));
      assert.deepEqual(d.actions, [{ kind: 'drain', instanceIds: [O2] }]);
      assert.deepEqual(d.state.cycle?.retire, [O2]);
      assert.equal(d.state.phase, 'await-drain');
      assert.equal(d.state.cycle?.deadline, iso(10 + SETTINGS.drainTimeoutSeconds));
    });

    it('surge: drains the planned nodes when the replacements came up in their zones', () => {
      const instances = [...OLD_FOUR, fresh(N1, 'eu-west-1c'), fresh(N2, 'eu-west-1b')];
      const state = roll({ phase: 'drain', batchIndex: 1, cordonedAll: true, launched: [N1, N2], cycle: cycle({ retire: [O2, O3], replacements: [N1, N2], expect: 2 }) });
      assert.deepEqual(decide(state, observe({ instances })).actions, [{ kind: 'drain', instanceIds: [O3, O2] }]);
    });

    it('minimal: drains the planned nodes still in the group', () => {
      const state = roll({ phase: 'drain', strategy: 'minimal', cordonedAll: true, cycle: cycle({ retire: [O1, O2], expect: 2 }) });
      const d = decide(state, observe({ instances: OLD_FOUR.slice(1) }));
      assert.deepEqual(d.actions, [{ kind: 'drain', instanceIds: [O2] }]);
      assert.deepEqual(d.state.cycle?.retire, [O2]);
    });

    it('a rollback cycle drains the new nodes it retires', () => {
      const state = roll({ phase: 'drain', launched: [N1], rollback: { reason: 'x', attempts: 0 }, cycle: cycle({ kind: 'rollback', retire: [N1], replacements: [oid(9)] }) });
      const d = decide(state, observe({ instances: [...OLD_FOUR, fresh(N1, 'eu-west-1a'), inst(oid(9), 'eu-west-1a', OLD_VERSION)] }));
      assert.deepEqual(d.actions, [{ kind: 'drain', instanceIds: [N1] }]);
    });
  });

  describe('pairByZone', () => {
    const OLD = [
      { instanceId: 'a1', availabilityZone: 'a' },
      { instanceId: 'b1', availabilityZone: 'b' },
      { instanceId: 'a2', availabilityZone: 'a' },
      { instanceId: 'c1', availabilityZone: 'c' },
    ];
    const table: [string, string[], string[], string[]][] = [
      ['a planned node in the replacement\'s zone', ['a2'], ['a'], ['a2']],
      ['another old node in the zone when no planned one is there', ['a1'], ['b'], ['b1']],
      ['the oldest unplanned node of the zone first', ['c1'], ['a'], ['a1']],
      ['a planned node elsewhere when the zone has no old node', ['b1'], ['d'], ['b1']],
      ['two replacements in one zone take both of its nodes', ['a1', 'b1'], ['a', 'a'], ['a1', 'a2']],
      ['unmatched zones are served after the matched ones', ['a1', 'b1'], ['d', 'b'], ['b1', 'a1']],
      ['more replacements than old nodes: every old node once', ['a1'], ['a', 'a', 'a', 'b', 'c'], ['a1', 'a2', 'b1', 'c1']],
      ['no replacements, nothing', ['a1'], [], []],
      ['a planned node no longer old is ignored', ['z9'], ['d'], ['a1']],
    ];
    for (const [name, planned, zones, want] of table) {
      it(`takes ${name}`, () => assert.deepEqual(pairByZone(planned, zones, OLD), want));
    }

    it('returns min(#replacements, #old) distinct old nodes (property)', () => {
      const zone = fc.constantFrom('a', 'b', 'c', 'd');
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.record({ instanceId: fc.stringMatching(/^i-[0-9a-f]{3}$/), availabilityZone: zone }), { selector: (i) => i.instanceId, maxLength: 12 }),
          fc.array(zone, { maxLength: 12 }),
          fc.array(fc.stringMatching(/^i-[0-9a-f]{3}$/), { maxLength: 6 }),
          (olds, zones, extra) => {
            const planned = [...new Set([...olds.filter((_, k) => k % 2 === 0).map((i) => i.instanceId), ...extra])];
            const chosen = pairByZone(planned, zones, olds);
            assert.equal(chosen.length, Math.min(zones.length, olds.length));
            assert.equal(new Set(chosen).size, chosen.length, 'no node twice');
            const ids = new Set(olds.map((i) => i.instanceId));
            for (const id of chosen) assert.ok(ids.has(id), `${id} is an old node`);
          },
        ),
        { numRuns: 2000 },
      );
    });
  });

  describe('await-drain', () => {
    const draining = (over: Partial<SelfManagedRoll> = {}, c: Partial<Cycle> = {}) =>
      roll({ phase: 'await-drain', batchIndex: 1, cordonedAll: true, launched: [N1, N2], cycle: cycle({ retire: [O2, O3], replacements: [N1, N2], expect: 2, deadline: iso(1200), ...c }), ...over });
    const instances = [...OLD_FOUR, fresh(N1, 'eu-west-1b'), fresh(N2, 'eu-west-1c')];

    const passes: [string, Record<string, DrainStatus>, GroupInstance[]][] = [
      ['drained', { [O2]: 'drained', [O3]: 'drained' }, instances],
      ['forced', { [O2]: 'forced', [O3]: 'drained' }, instances],
      ['node-gone', { [O2]: 'node-gone', [O3]: 'forced' }, instances],
      ['the instance left the group', { [O2]: 'drained' }, instances.filter((i) => i.instanceId !== O3)],
      ['the instance is terminating', { [O2]: 'drained', [O3]: 'running' }, instances.map((i) => (i.instanceId === O3 ? { ...i, lifecycleState: 'Terminating:Wait' } : i))],
    ];
    for (const [name, drains, group] of passes) {
      it(`moves on to terminate when every drain is over: ${name}`, () => {
        const d = decide(draining(), observe({ instances: group, drains }));
        assert.equal(d.state.phase, 'terminate');
        assert.deepEqual(d.actions, []);
      });
    }

    it('while a drain runs (or has no record yet): one pass over the nodes still draining, then a wait', () => {
      for (const drains of [{ [O2]: 'drained', [O3]: 'running' }, { [O2]: 'drained' }] as Record<string, DrainStatus>[]) {
        const d = decide(draining(), observe({ instances, drains }));
        assert.equal(d.next, 'wait');
        assert.deepEqual(d.wait, { seconds: SETTINGS.pollSeconds, phase: 'drains' });
        assert.deepEqual(d.actions, [{ kind: 'drain-pass', nodes: [{ instanceId: O3, nodeName: nodeName(O3) }], mode: 'evict' }]);
      }
    });

    it('needs nothing of the group: its polls go without DescribeAutoScalingGroups', () => {
      const d = decide(draining(), { ...observe({ instances, drains: { [O2]: 'drained', [O3]: 'running' } }), group: null });
      assert.deepEqual(d.actions, [{ kind: 'drain-pass', nodes: [{ instanceId: O3, nodeName: nodeName(O3) }], mode: 'evict' }]);
      assert.equal(decide(draining(), { ...observe({ instances, drains: { [O2]: 'drained', [O3]: 'node-gone' } }), group: null }).state.phase, 'terminate');
    });

    it('a node no longer in the cluster is passed without a name (its drain ends node-gone)', () => {
      const d = decide(draining(), observe({ instances, nodes: nodes([O1, O2, O4, N1, N2]), drains: { [O2]: 'drained', [O3]: 'running' } }));
      assert.deepEqual(d.actions, [{ kind: 'drain-pass', nodes: [{ instanceId: O3, nodeName: null }], mode: 'evict' }]);
    });

    it('at the deadline a force policy forces for a grace period, then rolls back naming what still blocks', () => {
      const force = { ...SETTINGS, forceAtDeadline: true };
      const late = decideSelfManaged(draining(), observe({ instances, drains: { [O2]: 'running', [O3]: 'drained' }, now: at(1201) }), force);
      assert.equal(late.next, 'step');
      assert.equal(late.state.cycle?.forcing, true);
      assert.equal(late.state.cycle?.deadline, iso(1201 + force.forceGraceSeconds));
      assert.equal(late.state.phase, 'await-drain');
      const forcing = decideSelfManaged(late.state, observe({ instances, drains: { [O2]: 'running', [O3]: 'drained' }, now: at(1202) }), force);
      assert.deepEqual(forcing.actions, [{ kind: 'drain-pass', nodes: [{ instanceId: O2, nodeName: nodeName(O2) }], mode: 'force' }]);
      const stuck = { ...late.state, cycle: { ...late.state.cycle!, blockers: ['shop/api-1 (PodDisruptionBudget shop/api)'] } };
      const over = decideSelfManaged(stuck, observe({ instances, drains: { [O2]: 'running' }, now: at(1201 + force.forceGraceSeconds + 1) }), force);
      assert.equal(over.state.phase, 'rollback');
      assert.match(over.state.rollback!.reason, /did not finish within 25 min; still blocked: shop\/api-1 \(PodDisruptionBudget shop\/api\)/);
    });

    it('rolls back when a drain failed, naming the instance', () => {
      const d = decide(draining(), observe({ instances, drains: { [O2]: 'drained', [O3]: 'failed' } }));
      assert.equal(d.state.phase, 'rollback');
      assert.match(d.state.rollback!.reason, new RegExp(`the drain of ${O3} failed`));
      assert.doesNotMatch(d.state.rollback!.reason, new RegExp(O2));
    });

    it('rolls back at the deadline, naming the drains still running', () => {
      const d = decide(draining(), observe({ instances, drains: { [O2]: 'running', [O3]: 'drained' }, now: at(1201) }));
      assert.equal(d.state.phase, 'rollback');
      assert.match(d.state.rollback!.reason, new RegExp(`the drain of ${O2} did not finish within 20 min`));
    });

    it('a rollback cycle whose drain fails ends as rollback-failed', () => {
      const state = draining({ rollback: { reason: 'health gate', attempts: 1 } }, { kind: 'rollback', retire: [N1] });
      const obs = observe({ instances, drains: { [N1]: 'failed' } });
      const end = givenUp(decide(state, obs), obs);
      assert.equal(end.state.rollback?.attempts, 1);
      assert.match(end.state.rollback!.reason, new RegExp(`rollback could not drain the new nodes: the drain of ${N1} failed`));
    });
  });

  describe('terminate', () => {
    const table: [string, SelfManagedRoll['strategy'], Cycle['kind'], boolean][] = [
      ['surge decrements desired', 'surge', 'batch', true],
      ['minimal does not: the group launches the replacements', 'minimal', 'batch', false],
      ['a rollback cycle decrements under surge', 'surge', 'rollback', true],
      ['a rollback cycle decrements under minimal', 'minimal', 'rollback', true],
    ];
    for (const [name, strategy, kind, decrement] of table) {
      it(name, () => {
        const state = roll({ phase: 'terminate', strategy, cycle: cycle({ kind, retire: [O1, O2], expect: 2 }) });
        const d = decide(state, observe({ instances: OLD_FOUR, now: at(5) }));
        assert.deepEqual(d.actions, [{ kind: 'terminate', instanceIds: [O1, O2], decrement }]);
        assert.equal(d.state.phase, 'await-terminated');
        assert.equal(d.state.cycle?.deadline, iso(5 + SETTINGS.terminateTimeoutSeconds));
      });
    }

    it('terminates only what is still in the group', () => {
      const state = roll({ phase: 'terminate', cycle: cycle({ retire: [O1, O2], expect: 2 }) });
      const d = decide(state, observe({ instances: [old(O1, 'eu-west-1a'), { ...old(O2, 'eu-west-1b'), lifecycleState: 'Terminating' }, old(O3, 'eu-west-1c')] }));
      assert.deepEqual(d.actions, [{ kind: 'terminate', instanceIds: [O1], decrement: true }]);
    });
  });

  describe('terminate hooks nobody completed', () => {
    const terminating = () => roll({ phase: 'await-terminated', replaced: 1, launched: [N1], cycle: cycle({ retire: [O1], replacements: [N1], deadline: iso(900) }) });
    const waitingOnHook = [{ ...old(O1, 'eu-west-1a'), lifecycleState: 'Terminating:Wait' }, ...OLD_FOUR.slice(1), fresh(N1, 'eu-west-1a')];
    const backups = (d: ReturnType<typeof decide>) => d.actions.filter((a) => a.kind === 'complete-hooks');

    it('follows the instances it asks to terminate', () => {
      const d = decide(roll({ phase: 'terminate', cycle: cycle({ retire: [O1], replacements: [N1], deadline: iso(900) }) }), observe({ instances: [...OLD_FOUR, fresh(N1, 'eu-west-1a')], now: at(5) }));
      assert.deepEqual(d.state.terminated, [{ instanceId: O1, at: iso(5) }]);
    });

    it('completes the hooks of one still waiting on them two minutes after it was asked, in whatever phase, and not before', () => {
      const state = { ...terminating(), terminated: [{ instanceId: O1, at: iso(0) }] };
      assert.deepEqual(backups(decide(state, observe({ instances: waitingOnHook, now: at(60) }))), []);
      const later = decide(state, observe({ instances: waitingOnHook, now: at(HOOK_BACKUP_SECONDS) }));
      assert.deepEqual(backups(later), [{ kind: 'complete-hooks', instanceIds: [O1] }]);
      assert.deepEqual(later.state.terminated, [{ instanceId: O1, at: iso(0) }], 'followed until it leaves');
      const inHealth = decide({ ...state, phase: 'health', cycle: cycle({ retire: [O1], replacements: [N1], deadline: iso(900) }) }, observe({ instances: waitingOnHook, now: at(300), health: { verdict: 'pending', reason: 'x' } }));
      assert.deepEqual(backups(inHealth), [{ kind: 'complete-hooks', instanceIds: [O1] }]);
    });

    it('does not finish while one waits on its hook: waits for the backup, then finishes once the hook is done', () => {
      // aborting after the canary, whose old node still waits on its terminate hook
      const done = roll({ phase: 'batch-done', replaced: 1, cordonedAll: true, launched: [N1], cycle: cycle({ replacements: [N1] }), terminated: [{ instanceId: O1, at: iso(0) }] });
      const early = decide(done, observe({ instances: waitingOnHook, control: 'abort', now: at(100) }));
      assert.equal(early.next, 'wait');
      assert.deepEqual(early.wait, { seconds: 15, phase: 'terminations' }, 'until the backup, one poll at most');
      assert.equal(early.state.phase, 'batch-done', 'the decision to finish is taken again later');
      assert.deepEqual(early.actions, []);
      const due = decide(done, observe({ instances: waitingOnHook, control: 'abort', now: at(HOOK_BACKUP_SECONDS) }));
      assert.equal(due.state.phase, 'batch-done');
      assert.deepEqual(backups(due), [{ kind: 'complete-hooks', instanceIds: [O1] }]);
      const after = decide(done, observe({ instances: [{ ...old(O1, 'eu-west-1a'), lifecycleState: 'Terminating:Proceed' }, ...OLD_FOUR.slice(1), fresh(N1, 'eu-west-1a')], control: 'abort', now: at(140) }));
      assert.equal(after.state.phase, 'finish');
      const stuck = decide(done, observe({ instances: waitingOnHook, control: 'abort', now: at(SETTINGS.terminateTimeoutSeconds + 1) }));
      assert.equal(stuck.state.phase, 'finish', 'a hook that outlives every try does not hold the end for ever');
    });

    it('follows one it drained whose termination a dying step did not keep (ownDrained: its drain record), as if it had asked', () => {
      // the step that drained and terminated O1 died before its state was kept: the state knows nothing of it
      const state = terminating();
      const seen = decideSelfManaged(state, { ...observe({ instances: waitingOnHook, now: at(10) }), ownDrained: new Set([O1]) }, SETTINGS);
      assert.deepEqual(seen.state.terminated, [{ instanceId: O1, at: iso(10) }], 'followed from when it was found');
      assert.deepEqual(backups(seen), []);
      const due = decide(seen.state, observe({ instances: waitingOnHook, now: at(10 + HOOK_BACKUP_SECONDS) }));
      assert.deepEqual(backups(due), [{ kind: 'complete-hooks', instanceIds: [O1] }]);
      // and without the drain record's word, an instance waiting on its hook is someone else's business
      const unknown = decide(state, observe({ instances: waitingOnHook, now: at(10 + HOOK_BACKUP_SECONDS) }));
      assert.deepEqual(backups(unknown), []);
      assert.equal(unknown.state.terminated, undefined);
    });

    it('forgets one that left the group or is past its hooks, and knows nothing while the group is not described', () => {
      const state = { ...terminating(), terminated: [{ instanceId: O1, at: iso(0) }] };
      const gone = decide(state, observe({ instances: [...OLD_FOUR.slice(1), fresh(N1, 'eu-west-1a')], now: at(200) }));
      assert.equal(gone.state.terminated, undefined);
      assert.deepEqual(backups(gone), []);
      const proceeding = decide(state, observe({ instances: [{ ...old(O1, 'eu-west-1a'), lifecycleState: 'Terminating:Proceed' }, ...OLD_FOUR.slice(1), fresh(N1, 'eu-west-1a')], now: at(200) }));
      assert.deepEqual(backups(proceeding), [], 'completed already: Auto Scaling goes on');
      const draining = decideSelfManaged({ ...state, phase: 'await-drain' }, { ...observe({ instances: waitingOnHook, now: at(300) }), group: null }, SETTINGS);
      assert.deepEqual(draining.state.terminated, state.terminated);
      assert.deepEqual(backups(draining), []);
    });
  });

  describe('await-terminated', () => {
    const terminating = (over: Partial<SelfManagedRoll> = {}, c: Partial<Cycle> = {}) =>
      roll({ phase: 'await-terminated', replaced: 1, launched: [N1], cycle: cycle({ retire: [O1], replacements: [N1], deadline: iso(900), ...c }), ...over });

    it('waits while a retired instance is still in the group', () => {
      const d = decide(terminating(), observe({ instances: [...OLD_FOUR, fresh(N1, 'eu-west-1a')] }));
      assert.deepEqual(d.wait, { seconds: SETTINGS.pollSeconds, phase: 'terminations' });
    });

    it('surge: counts the replaced nodes and goes to the health gate', () => {
      const d = decide(terminating(), observe({ instances: [...OLD_FOUR.slice(1), fresh(N1, 'eu-west-1a')], now: at(30) }));
      assert.equal(d.state.phase, 'health');
      assert.equal(d.state.replaced, 2);
      assert.equal(d.state.cycle?.deadline, iso(30 + SETTINGS.healthTimeoutSeconds));
    });

    it('minimal: waits for the group to launch the replacements', () => {
      const d = decide(terminating({ strategy: 'minimal' }), observe({ instances: OLD_FOUR.slice(1), now: at(30) }));
      assert.equal(d.state.phase, 'await-replacements');
      assert.equal(d.state.cycle?.deadline, iso(30 + SETTINGS.readyTimeoutSeconds));
    });

    it('rolls back when an instance does not leave in time', () => {
      const d = decide(terminating(), observe({ instances: OLD_FOUR, now: at(901) }));
      assert.equal(d.state.phase, 'rollback');
      assert.match(d.state.rollback!.reason, new RegExp(`${O1} still in the group`));
    });

    it('a rollback cycle that is done goes back to rollback, which finishes when nothing new is left', () => {
      const d = decide(terminating({ rollback: { reason: 'x', attempts: 0, announced: true } }, { kind: 'rollback', retire: [N1] }), observe({ instances: OLD_FOUR }));
      assert.equal(d.state.phase, 'rollback');
      assert.equal(d.state.cycle, null);
      const next = decide(d.state, observe({ instances: OLD_FOUR }));
      assert.equal(next.state.phase, 'finish');
      assert.equal(next.state.end, 'rolled-back');
      assert.deepEqual(actionsOf(next, 'notify'), [], 'the rollback was announced once, when it began');
    });

    it('a rollback cycle stuck terminating ends as rollback-failed', () => {
      const obs = observe({ instances: [...OLD_FOUR, fresh(N1, 'eu-west-1a')], now: at(901) });
      givenUp(decide(terminating({ rollback: { reason: 'x', attempts: 0 } }, { kind: 'rollback', retire: [N1] }), obs), obs);
    });
  });

  describe('health', () => {
    const checking = roll({ phase: 'health', replaced: 1, launched: [N1], cycle: cycle({ replacements: [N1], deadline: iso(600) }) });
    const instances = [...OLD_FOUR.slice(1), fresh(N1, 'eu-west-1a')];

    it('healthy: the batch is done', () => {
      const d = decide(checking, observe({ instances, health: { verdict: 'healthy', nodes: 1, pods: 7 } }));
      assert.equal(d.state.phase, 'batch-done');
      assert.match(d.summary, /1 nodes, 7 pods/);
    });

    it('pending: waits, saying why', () => {
      const d = decide(checking, observe({ instances, health: { verdict: 'pending', reason: 'pods not Running/Ready on the new nodes: web/a (Pending)' } }));
      assert.deepEqual(d.wait, { seconds: SETTINGS.pollSeconds, phase: 'health' });
      assert.match(d.summary, /web\/a/);
    });

    it('not checked counts as pending', () => {
      assert.equal(decide(checking, observe({ instances, health: null })).next, 'wait');
    });

    it('pending past the deadline: rolls back with the reason', () => {
      const d = decide(checking, observe({ instances, health: { verdict: 'pending', reason: 'no Ready node yet for i-1' }, now: at(601) }));
      assert.equal(d.state.phase, 'rollback');
      assert.match(d.state.rollback!.reason, /health gate after batch 1 of 3 \(canary\): no Ready node yet for i-1 after 10 min/);
    });
  });

  describe('batch-done', () => {
    const done = (over: Partial<SelfManagedRoll> = {}) => roll({ phase: 'batch-done', replaced: 1, cordonedAll: true, launched: [N1], cycle: cycle({ replacements: [N1] }), ...over });
    const instances = [...OLD_FOUR.slice(1), fresh(N1, 'eu-west-1a')];

    it('after the canary: announces canary-passed and begins the next batch', () => {
      const d = decide(done(), observe({ instances }));
      assert.deepEqual(d.actions, [{ kind: 'notify', event: 'canary-passed', detail: { batch: 1, of: 3, replaced: 1 }, once: 'canary-passed' }]);
      assert.equal(d.state.batchIndex, 1);
      assert.equal(d.state.phase, 'launch');
      assert.deepEqual(d.state.cycle?.retire, [O2, O3]);
      assert.deepEqual(d.state.cycle?.known, [O2, O3, O4, N1]);
    });

    it('after a batch: announces batch-finished', () => {
      const d = decide(done({ batchIndex: 1, replaced: 3 }), observe({ instances: [old(O4, 'eu-west-1a'), fresh(N1, 'eu-west-1a')] }));
      assert.deepEqual(events(d), ['batch-finished']);
      assert.deepEqual(d.state.cycle?.retire, [O4]);
    });

    it('abort: finishes as aborted, after announcing the batch', () => {
      const d = decide(done(), observe({ instances, control: 'abort' }));
      assert.deepEqual(events(d), ['canary-passed']);
      assert.equal(d.state.phase, 'finish');
      assert.equal(d.state.end, 'aborted');
    });

    it('pause: announces the batch and the pause, and waits in paused', () => {
      const d = decide(done(), observe({ instances, control: 'pause' }));
      assert.deepEqual(events(d), ['canary-passed', 'paused']);
      assert.equal(d.state.phase, 'paused');
      assert.equal(d.state.batchIndex, 1);
    });

    it('with no old node left, finishes as finished whatever the control says', () => {
      for (const control of [null, 'abort', 'pause'] as const) {
        const d = decide(done({ batchIndex: 2 }), observe({ instances: [fresh(N1, 'eu-west-1a')], control }));
        assert.equal(d.state.phase, 'finish');
        assert.equal(d.state.end, 'finished');
      }
    });

    it('an old node the plan did not know gets a batch of its own at the end', () => {
      const stray = oid(0x99);
      const d = decide(done({ batchIndex: 2 }), observe({ instances: [fresh(N1, 'eu-west-1a'), old(stray, 'eu-west-1b')] }));
      assert.equal(d.state.batchIndex, 3);
      assert.equal(d.state.batches.length, 4);
      assert.deepEqual(d.state.cycle?.retire, [stray]);
    });
  });

  describe('paused', () => {
    const paused = roll({ phase: 'paused', batchIndex: 1, replaced: 1, cordonedAll: true, launched: [N1] });
    const instances = [...OLD_FOUR.slice(1), fresh(N1, 'eu-west-1a')];

    it('waits while the pause stands, at the paused poll interval', () => {
      const d = decide(paused, observe({ instances, control: 'pause' }));
      assert.deepEqual(d.wait, { seconds: SETTINGS.pausedPollSeconds, phase: 'paused' });
      assert.deepEqual(d.actions, []);
    });

    it('resumes with the next batch', () => {
      const d = decide(paused, observe({ instances, control: null }));
      assert.deepEqual(events(d), ['resumed']);
      assert.equal(d.state.phase, 'launch');
      assert.deepEqual(d.state.cycle?.retire, [O2, O3]);
    });

    it('aborts', () => {
      const d = decide(paused, observe({ instances, control: 'abort' }));
      assert.equal(d.state.phase, 'finish');
      assert.equal(d.state.end, 'aborted');
    });
  });

  describe('rollback', () => {
    const rollingBack = (over: Partial<SelfManagedRoll> = {}) => roll({ phase: 'rollback', cordonedAll: true, rollback: { reason: 'health gate failed', attempts: 0 }, ...over });

    it('reverts the template to the original concrete version, uncordons cordoned old nodes, terminates never-joined new instances', () => {
      // batch 2 of a surge roll: the canary's replacement N1 joined; N2 never did
      const instances = [old(O2, 'eu-west-1b'), old(O3, 'eu-west-1c'), old(O4, 'eu-west-1a'), fresh(N1, 'eu-west-1a'), fresh(N2, 'eu-west-1b')];
      const facts = nodes([O2, O3, O4, N1], { [O2]: { unschedulable: true }, [O3]: { unschedulable: true }, [N1]: { unschedulable: true } });
      const d = decide(rollingBack({ launched: [N1, N2], cycle: cycle({ retire: [O2, O3], known: [O2, O3, O4, N1] }) }), observe({ instances, nodes: facts, now: at(50) }));
      assert.deepEqual(d.actions[0], { kind: 'update-group', launchTemplate: { id: LT, version: OLD_VERSION } });
      assert.deepEqual(actionsOf(d, 'notify'), [{ kind: 'notify', event: 'rolling-back', detail: { reason: 'health gate failed' }, once: 'rolling-back' }]);
      assert.deepEqual(actionsOf(d, 'uncordon'), [{ kind: 'uncordon', nodes: [nodeName(O2), nodeName(O3)], instanceIds: [O2, O3] }], 'old cordoned nodes only, not the new one; their drains released');
      assert.deepEqual(actionsOf(d, 'terminate'), [{ kind: 'terminate', instanceIds: [N2], decrement: true }], '5 in the group, above the original 4');
      assert.equal(d.state.cordonedAll, false);
      // N1 joined: one rollback cycle brings an old-version instance back for it
      assert.equal(d.state.phase, 'launch');
      // N2 is being terminated with a decrement: the cycle counts the group without it
      assert.deepEqual(d.state.cycle, { kind: 'rollback', retire: [N1], known: [O2, O3, O4, N1], replacements: [], expect: 1, deadline: iso(50 + SETTINGS.readyTimeoutSeconds) });
    });

    it('decrements only while the group is above its original desired', () => {
      // minimal: old nodes went first; three new instances, none joined, the group at 4
      const instances = [old(O3, 'eu-west-1c'), fresh(N1, 'eu-west-1a'), fresh(N2, 'eu-west-1b'), fresh(N3, 'eu-west-1a')];
      const state = rollingBack({ strategy: 'minimal', original: { ...roll().original, desired: 3 }, launched: [N1, N2, N3] });
      const d = decide(state, observe({ instances, nodes: nodes([O3]) }));
      assert.deepEqual(actionsOf(d, 'terminate'), [
        { kind: 'terminate', instanceIds: [N1], decrement: true },
        { kind: 'terminate', instanceIds: [N2], decrement: false },
        { kind: 'terminate', instanceIds: [N3], decrement: false },
      ]);
      assert.equal(d.state.phase, 'await-terminated');
      assert.deepEqual(d.state.cycle?.retire, [N1, N2, N3]);
      assert.equal(d.state.cycle?.kind, 'rollback');
    });

    it('counts a target-version instance as new even if the rollout did not record it', () => {
      const d = decide(rollingBack({ launched: [] }), observe({ instances: [...OLD_FOUR, fresh(N1, 'eu-west-1a')], nodes: nodes([O1, O2, O3, O4]) }));
      assert.deepEqual(actionsOf(d, 'terminate'), [{ kind: 'terminate', instanceIds: [N1], decrement: true }]);
    });

    it('with joined new nodes, replaces them max-unavailable at a time, launching only what the group lacks', () => {
      // surge (2 at a time), batch 2 in flight: two old gone, four new joined, two old left
      const instances = [old(O3, 'eu-west-1c'), old(O4, 'eu-west-1a'), fresh(N1, 'eu-west-1a'), fresh(N2, 'eu-west-1b'), fresh(N3, 'eu-west-1c'), fresh(nid(4), 'eu-west-1a')];
      const d = decide(rollingBack({ maxUnavailable: 2, launched: [N1, N2, N3, nid(4)] }), observe({ instances }));
      assert.deepEqual(actionsOf(d, 'terminate'), []);
      assert.deepEqual(d.state.cycle?.retire, [N1, N2]);
      // 6 in the group, 4 wanted: after N1 and N2 go there are 4, so nothing is launched
      assert.equal(d.state.cycle?.expect, 0);
      const launch = decide(d.state, observe({ instances }));
      assert.deepEqual(actionsOf(launch, 'update-group'), [{ kind: 'update-group', desired: 6, max: 6 }]);
    });

    it('with nothing new in the group, finishes as rolled-back at once', () => {
      const first = decide(rollingBack(), observe({ instances: OLD_FOUR }));
      assert.equal(first.state.phase, 'finish');
      assert.equal(first.state.end, 'rolled-back');
    });

    it('keeps the attempts counted so far', () => {
      assert.equal(decide(rollingBack({ rollback: { reason: 'r', attempts: 2 } }), observe({ instances: OLD_FOUR })).state.rollback?.attempts, 2);
    });
  });

  describe('finish', () => {
    const finishing = (end: SelfManagedRoll['end'], over: Partial<SelfManagedRoll> = {}) => roll({ phase: 'finish', end, replaced: 4, ...over });

    it('finished: restores the sizes, keeps the new template, resumes AZRebalance, announces', () => {
      const d = decide(finishing('finished'), observe({ instances: [fresh(N1, 'eu-west-1a')] }));
      assert.deepEqual(d.actions, [
        { kind: 'update-group', desired: 4, min: 1, max: 6 },
        { kind: 'az-rebalance', suspended: false },
        { kind: 'notify', event: 'finished', detail: { replaced: 4, remainingOld: 0 }, once: 'end' },
      ]);
      assert.equal(d.next, 'end');
      assert.equal(d.state.phase, 'ended');
      assert.equal(d.state.end, 'finished');
    });

    it('a finish with no end recorded counts as finished', () => {
      assert.equal(decide(finishing(null), observe({ instances: [] })).state.end, 'finished');
    });

    for (const end of ['aborted', 'rolled-back'] as const) {
      it(`${end}: reverts the template to the original version and uncordons old cordoned nodes`, () => {
        const facts = nodes([O1, O2, N1], { [O1]: { unschedulable: true }, [N1]: { unschedulable: true } });
        const d = decide(finishing(end, { rollback: end === 'rolled-back' ? { reason: 'why', attempts: 0 } : null }), observe({ instances: [old(O1, 'eu-west-1a'), old(O2, 'eu-west-1b'), fresh(N1, 'eu-west-1a')], nodes: facts }));
        assert.deepEqual(d.actions[0], { kind: 'update-group', desired: 4, min: 1, max: 6, launchTemplate: { id: LT, version: OLD_VERSION } });
        assert.deepEqual(actionsOf(d, 'uncordon'), [{ kind: 'uncordon', nodes: [nodeName(O1)], instanceIds: [O1] }]);
        assert.deepEqual(events(d), [end]);
        assert.equal(d.state.end, end);
      });
    }

    it('leaves AZRebalance suspended when it was suspended before the rollout', () => {
      const d = decide(finishing('finished', { original: { ...roll().original, suspendedAZRebalance: false } }), observe({ instances: [] }));
      assert.ok(!kinds(d).includes('az-rebalance'));
    });

    it('an ended roll does nothing', () => {
      const d = decide(roll({ phase: 'ended', end: 'finished' }), observe({ instances: OLD_FOUR }));
      assert.deepEqual(d.actions, []);
      assert.equal(d.next, 'end');
    });
  });

  describe('afterFailure', () => {
    it('a failed step in a normal phase starts the rollback', () => {
      for (const phase of ['start', 'launch', 'await-replacements', 'cordon', 'drain', 'await-drain', 'terminate', 'await-terminated', 'health', 'batch-done', 'paused'] as const) {
        const state = afterFailure(roll({ phase, cycle: cycle() }), 'KubernetesAccessDeniedError: nope');
        assert.equal(state.phase, 'rollback', phase);
        assert.deepEqual(state.rollback, { reason: 'a step failed: KubernetesAccessDeniedError: nope', attempts: 0 });
      }
    });

    it('a failure during the rollback tries again, and gives up at the third', () => {
      let state = roll({ phase: 'rollback', rollback: { reason: 'health gate', attempts: 0 }, cycle: cycle() });
      state = afterFailure(state, 'e1');
      assert.deepEqual([state.phase, state.rollback, state.cycle], ['rollback', { reason: 'health gate', attempts: 1 }, null]);
      // a failure inside the rollback cycle counts too
      state = afterFailure({ ...state, phase: 'await-drain', cycle: cycle({ kind: 'rollback', retire: [N1] }) }, 'e2');
      assert.deepEqual([state.phase, state.rollback?.attempts], ['rollback', 2]);
      state = afterFailure(state, 'e3');
      assert.equal(state.phase, 'give-up', 'a rollback that cannot finish tidies up before it ends');
      assert.equal(state.rollback?.attempts, 3);
      assert.match(state.rollback!.reason, /health gate; the rollback failed 3 times, last: e3/);
    });

    it('failures that are only AWS or the cluster refusing (throttling, an outage) get ten attempts, not three', () => {
      let state = roll({ phase: 'rollback', rollback: { reason: 'health gate', attempts: 0 }, cycle: cycle() });
      for (let k = 1; k < 10; k++) {
        state = afterFailure(state, 'AwsTransientError: autoscaling:DescribeAutoScalingGroups was throttled');
        assert.equal(state.phase, 'rollback', `attempt ${k}`);
      }
      state = afterFailure(state, 'KubernetesUnavailableError: the API server did not answer');
      assert.equal(state.phase, 'give-up');
      assert.equal(afterFailure({ ...state, phase: 'rollback', end: null, rollback: { reason: 'x', attempts: 2 } }, 'ConfigurationError: gone').phase, 'give-up', 'any other error: the third attempt is the last');
    });

    it('a failed finish is retried as a finish, and gives up at the third', () => {
      let state = roll({ phase: 'finish', end: 'finished' });
      state = afterFailure(state, 'throttled');
      assert.deepEqual([state.phase, state.end, state.rollback?.attempts], ['finish', 'finished', 1]);
      state = afterFailure(state, 'throttled');
      assert.equal(state.phase, 'finish');
      state = afterFailure(state, 'throttled');
      assert.equal(state.phase, 'give-up');
      assert.match(state.rollback!.reason, /could not be restored .* after 3 tries/);
      assert.equal(afterFailure(state, 'crash'), state, 'a tidy-up that crashed is tried again as it was');
    });

    it('an ended roll stays as it is', () => {
      const state = roll({ phase: 'ended', end: 'finished' });
      assert.equal(afterFailure(state, 'x'), state);
    });
  });


  describe('someone else changing the group', () => {
    // batch 1 (the canary) waiting for its replacement: the rollout raised desired to 5, max stays 6
    const LEFT = { desired: 5, min: 1, max: 6, launchTemplate: { id: LT, version: TARGET_VERSION } };
    const awaiting = (over: Partial<SelfManagedRoll> = {}) =>
      roll({ phase: 'await-replacements', expected: LEFT, cycle: cycle({ launchedAt: iso(0), deadline: iso(900) }), ...over });

    it('an autoscaler moving desired pauses the roll, names the change, and writes nothing to the group', () => {
      const d = decide(awaiting(), observe({ instances: OLD_FOUR, group: { desired: 7 }, now: at(60) }));
      assert.equal(d.state.phase, 'paused');
      assert.deepEqual(d.state.pause, { kind: 'interference', since: iso(60), resume: 'await-replacements', changes: ['desired capacity moved from 5 to 7'] });
      assert.deepEqual(kinds(d), ['pause-lock', 'notify']);
      assert.match(actionsOf(d, 'pause-lock')[0]!.reason, /changed outside this rollout: desired capacity moved from 5 to 7/);
      assert.deepEqual(actionsOf(d, 'notify')[0], {
        kind: 'notify',
        event: 'paused',
        detail: { reason: 'interference', changes: ['desired capacity moved from 5 to 7'], message: (actionsOf(d, 'notify')[0]!.detail as Record<string, unknown>)['message'] },
        once: `paused:${iso(60)}`,
      });
      assert.deepEqual(d.state.expected, LEFT, 'what the rollout left is kept: resuming needs it to know what the others changed');
      assert.deepEqual(d.wait, { seconds: SETTINGS.pausedPollSeconds, phase: 'paused' });
    });

    it('never blames capacity: the replacements that did not come are explained by the change, not by a deadline', () => {
      const d = decide(awaiting(), observe({ instances: OLD_FOUR, group: { desired: 4 }, now: at(901) }));
      assert.equal(d.state.phase, 'paused', 'past the deadline too, a change by someone else pauses; it does not roll back');
      assert.deepEqual(d.state.pause?.changes, ['desired capacity moved from 5 to 4']);
      assert.equal(d.state.rollback, null);
    });

    it('resuming adopts the change: the sizes restored at the end move by as much, and the roll goes on where it stopped', () => {
      const paused = decide(awaiting(), observe({ instances: OLD_FOUR, group: { desired: 7 }, now: at(60) })).state;
      // still paused while the lock says so, whatever else changes
      assert.equal(decide(paused, observe({ instances: OLD_FOUR, group: { desired: 8 }, control: 'pause', now: at(120) })).state.phase, 'paused');
      const d = decide(paused, observe({ instances: OLD_FOUR, group: { desired: 7 }, now: at(600) }));
      assert.deepEqual(events(d), ['resumed']);
      assert.equal(actionsOf(d, 'notify')[0]!.once, `resumed:${iso(60)}`);
      assert.equal(d.state.phase, 'await-replacements');
      assert.equal(d.state.cycle?.deadline, iso(600 + SETTINGS.readyTimeoutSeconds), 'the deadline counts from the resume');
      assert.deepEqual([d.state.original.desired, d.state.original.min, d.state.original.max], [6, 1, 6], 'the autoscaler wanted two more than the rollout left: the end restores 4 + 2');
      assert.deepEqual(d.state.adopted, ['desired capacity moved from 5 to 7']);
      assert.equal(actionsOf(d, 'update-group').length, 0, 'nothing written back');
      assert.equal(d.state.pause, undefined);
      assert.deepEqual(d.state.expected, { ...LEFT, desired: 7 });
    });

    it('a launch template set by someone else pauses; resuming (a person\'s word) points the group at the rollout\'s version again', () => {
      const theirs = { id: LT, version: '7' };
      const paused = decide(awaiting(), observe({ instances: OLD_FOUR, group: { desired: 5, launchTemplate: theirs }, now: at(60) })).state;
      assert.deepEqual(paused.pause?.changes, [`launch template changed from ${LT} version ${TARGET_VERSION} to ${LT} version 7`]);
      const resumed = decide(paused, observe({ instances: OLD_FOUR, group: { desired: 5, launchTemplate: theirs }, now: at(120) }));
      assert.deepEqual(actionsOf(resumed, 'update-group'), [{ kind: 'update-group', launchTemplate: { id: LT, version: TARGET_VERSION } }]);
      assert.equal(resumed.state.foreignTemplate, undefined);
    });

    it('aborting after a template change leaves the template as they set it, and the sizes as they made them', () => {
      const theirs = { id: LT, version: '7' };
      const paused = decide(awaiting(), observe({ instances: OLD_FOUR, group: { launchTemplate: theirs, desired: 6 }, now: at(60) })).state;
      const aborting = decide(paused, observe({ instances: OLD_FOUR, group: { launchTemplate: theirs, desired: 6 }, control: 'abort', now: at(120) }));
      assert.equal(aborting.state.phase, 'finish');
      const end = decide(aborting.state, observe({ instances: OLD_FOUR, group: { launchTemplate: theirs, desired: 6 }, now: at(121) }));
      assert.deepEqual(actionsOf(end, 'update-group'), [{ kind: 'update-group', desired: 5, min: 1, max: 6 }], 'no launch template: theirs stays; desired 4 + their 1');
      assert.match(end.summary, /as set outside the rollout \(7\)/);
    });

    it('an abort asked while someone changes the group ends the roll at once, adopting the change', () => {
      const d = decide(awaiting(), observe({ instances: OLD_FOUR, group: { desired: 7 }, control: 'abort', now: at(60) }));
      assert.equal(d.state.phase, 'ended');
      assert.equal(d.state.end, 'aborted');
      assert.deepEqual(actionsOf(d, 'update-group')[0], { kind: 'update-group', desired: 6, min: 1, max: 6, launchTemplate: { id: LT, version: OLD_VERSION } });
    });

    it('a rollback adopts a change without pausing (it is the safety net) and records it for the report', () => {
      const state = roll({ phase: 'rollback', expected: LEFT, rollback: { reason: 'health', attempts: 0 } });
      const d = decide(state, observe({ instances: OLD_FOUR, group: { desired: 3, launchTemplate: { id: LT, version: OLD_VERSION } } }));
      assert.notEqual(d.state.phase, 'paused');
      assert.equal(d.state.original.desired, 2, 'they took two away from what the rollout left (5 → 3): the end restores 4 − 2');
      assert.deepEqual(d.state.adopted, ['desired capacity moved from 5 to 3', `launch template changed from ${LT} version ${TARGET_VERSION} to ${LT} version ${OLD_VERSION}`]);
      assert.equal(actionsOf(d, 'update-group').filter((a) => a.launchTemplate).length, 0, 'a template someone else set is not overwritten');
    });

    it('what the rollout\'s own step wrote before it died is no interference (its intent, kept on the lock, explains it)', () => {
      // the step raised desired to 7 and died before its state was kept; it runs again from the state before
      const intent = { from: LEFT, to: { ...LEFT, desired: 7 } };
      const d = decide(awaiting(), { ...observe({ instances: OLD_FOUR, group: { desired: 7 }, now: at(60) }), intent });
      assert.notEqual(d.state.phase, 'paused');
      assert.deepEqual(d.state.expected, { ...LEFT, desired: 7 });
      // someone else's change to another field still counts
      const other = decide(awaiting(), { ...observe({ instances: OLD_FOUR, group: { desired: 7, max: 9 }, now: at(60) }), intent });
      assert.deepEqual(other.state.pause?.changes, ['maximum size moved from 6 to 9']);
      // a step that terminated two instances with a decrement, and died after the first: desired between the two is its own
      const halfway = decide(awaiting({ expected: { ...LEFT, desired: 6 } }), { ...observe({ instances: OLD_FOUR, group: { desired: 5 }, now: at(60) }), intent: { from: { ...LEFT, desired: 6 }, to: { ...LEFT, desired: 4 } } });
      assert.notEqual(halfway.state.phase, 'paused');
      const beyond = decide(awaiting({ expected: { ...LEFT, desired: 6 } }), { ...observe({ instances: OLD_FOUR, group: { desired: 3 }, now: at(60) }), intent: { from: { ...LEFT, desired: 6 }, to: { ...LEFT, desired: 4 } } });
      assert.deepEqual(beyond.state.pause?.changes, ['desired capacity moved from 6 to 3'], 'past what the step was doing: someone else');
    });

    it('the group as the rollout left it is no interference: its own decrement and its own template are expected', () => {
      const t = roll({ phase: 'terminate', expected: LEFT, cordonedAll: true, cycle: cycle({ retire: [O1], replacements: [N1], known: [O1, O2, O3, O4] }) });
      const d = decide(t, observe({ instances: [...OLD_FOUR, fresh(N1, 'eu-west-1a')], group: { desired: 5 } }));
      assert.equal(d.state.phase, 'await-terminated');
      assert.deepEqual(d.state.expected, { ...LEFT, desired: 4 }, 'after terminating with a decrement, 4 is what the next step expects');
    });
  });

  describe('the maintenance window', () => {
    // Saturday 2026-11-21: the window is Saturday 08:00-09:30 UTC
    const window = parseWindow('sat 08:00-09:30 UTC');
    assert.ok('window' in window);
    const inWindow = { ...SETTINGS, window: window.window };
    const done = (over: Partial<SelfManagedRoll> = {}) => roll({ phase: 'batch-done', replaced: 1, cordonedAll: true, launched: [N1], cycle: cycle({ replacements: [N1] }), ...over });
    const instances = [...OLD_FOUR.slice(1), fresh(N1, 'eu-west-1a')];
    const after = (seconds: number) => new Date(Date.parse('2026-11-21T09:30:00Z') + seconds * 1000);

    it('open: the next batch begins', () => {
      const d = decideSelfManaged(done(), observe({ instances, now: at(0) }), inWindow);
      assert.equal(d.state.phase, 'launch');
    });

    it('closed at a batch boundary: the batch is reported, no new batch begins, the rest waits for the window (30 min at a time)', () => {
      const d = decideSelfManaged(done(), observe({ instances, now: after(1) }), inWindow);
      assert.deepEqual(events(d), ['canary-passed', 'paused']);
      assert.equal(d.state.phase, 'paused');
      assert.equal(d.state.batchIndex, 1, 'the finished batch counts');
      assert.equal(d.state.cycle, null);
      assert.deepEqual(d.state.pause, { kind: 'window', since: after(1).toISOString(), resume: 'next-batch', opensAt: '2026-11-28T08:00:00.000Z' });
      assert.deepEqual(d.wait, { seconds: SETTINGS.windowPollSeconds, phase: 'window' });
      assert.equal(actionsOf(d, 'update-group').length + actionsOf(d, 'drain').length, 0);
    });

    it('waits until it opens, then goes on with the next batch', () => {
      const waiting = decideSelfManaged(done(), observe({ instances, now: after(1) }), inWindow).state;
      const still = decideSelfManaged(waiting, observe({ instances, now: new Date('2026-11-28T07:50:00Z') }), inWindow);
      assert.deepEqual(still.wait, { seconds: 600, phase: 'window' }, 'never past the opening');
      assert.deepEqual(still.actions, []);
      const open = decideSelfManaged(waiting, observe({ instances, now: new Date('2026-11-28T08:00:01Z') }), inWindow);
      assert.deepEqual(events(open), ['resumed']);
      assert.equal(open.state.phase, 'launch');
      assert.deepEqual(open.state.cycle?.retire, [O2, O3]);
    });

    it('a week of waiting for a window is not a pause that lasts too long', () => {
      const waiting = decideSelfManaged(done(), observe({ instances, now: after(1) }), inWindow).state;
      const later = decideSelfManaged(waiting, observe({ instances, now: new Date('2026-11-28T07:00:00Z') }), { ...inWindow, maxPauseSeconds: 3600 });
      assert.equal(later.state.phase, 'paused');
    });

    it('on-window-close=end: the roll ends at the boundary, saying why', () => {
      const d = decideSelfManaged(done(), observe({ instances, now: after(1) }), { ...inWindow, onWindowClose: 'end' });
      assert.equal(d.state.phase, 'finish');
      assert.equal(d.state.end, 'aborted');
      assert.match(d.state.endReason!, /maintenance window "sat 08:00-09:30 UTC" is closed; it opens at 2026-11-28T08:00:00.000Z \(on-window-close=end\)/);
      const end = decideSelfManaged(d.state, observe({ instances }), inWindow);
      assert.equal((actionsOf(end, 'notify')[0]!.detail as Record<string, unknown>)['reason'], d.state.endReason);
    });

    it('a roll that reaches its start after the window closed (a late approval) waits before changing anything', () => {
      const d = decideSelfManaged(roll(), observe({ instances: OLD_FOUR, now: after(60) }), inWindow);
      assert.equal(d.state.phase, 'paused');
      assert.equal(d.state.pause?.resume, 'start');
      assert.deepEqual(kinds(d), ['notify']);
      const open = decideSelfManaged(d.state, observe({ instances: OLD_FOUR, now: new Date('2026-11-28T08:00:00Z') }), inWindow);
      assert.equal(open.state.phase, 'start');
    });

    it('no new batch with no window (or --now) whatever the hour', () => {
      assert.equal(decide(done(), observe({ instances, now: after(1) })).state.phase, 'launch');
    });
  });

  describe('a pause that lasts too long', () => {
    it('ends the roll as aborted, restoring the group, and says why', () => {
      const state = roll({ phase: 'paused', batchIndex: 1, pause: { kind: 'person', since: iso(0), resume: 'next-batch' } });
      const d = decide(state, observe({ instances: OLD_FOUR, control: 'pause', now: at(SETTINGS.maxPauseSeconds + 1) }));
      assert.equal(d.state.phase, 'finish');
      assert.match(d.state.endReason!, /paused for more than 7d, the group's max-pause/);
    });

    it('a group allowed a longer pause (max-pause) stays paused past a week, and ends past its own limit', () => {
      const state = roll({ phase: 'paused', batchIndex: 1, pause: { kind: 'person', since: iso(0), resume: 'next-batch' } });
      const settings = { ...SETTINGS, maxPauseSeconds: 15 * 86_400 };
      const still = decideSelfManaged(state, observe({ instances: OLD_FOUR, control: 'pause', now: at(14 * 86_400) }), settings);
      assert.equal(still.state.phase, 'paused');
      const over = decideSelfManaged(state, observe({ instances: OLD_FOUR, control: 'pause', now: at(15 * 86_400 + 1) }), settings);
      assert.match(over.state.endReason!, /paused for more than 15d/);
    });

    it('looks at the lock every minute for the first hour, then every five, never past the limit', () => {
      const state = roll({ phase: 'paused', batchIndex: 1, pause: { kind: 'person', since: iso(0), resume: 'next-batch' } });
      const waitAt = (seconds: number) => decide(state, observe({ instances: OLD_FOUR, control: 'pause', now: at(seconds) })).wait;
      assert.deepEqual(waitAt(600), { seconds: 60, phase: 'paused' });
      assert.deepEqual(waitAt(7200), { seconds: 300, phase: 'paused' });
      assert.deepEqual(waitAt(SETTINGS.maxPauseSeconds - 100), { seconds: 101, phase: 'paused' }, 'the last wait ends just past the limit');
    });
  });

  describe('the health gate counts new instances by what they are', () => {
    it('a replacement Auto Scaling lost (a reclaimed Spot instance) is left out, and the one launched in its place is judged', () => {
      const state = roll({ phase: 'health', cycle: cycle({ replacements: [N1], known: [O1, O2, O3, O4] }) });
      const group = snapshot([old(O2, 'eu-west-1b'), old(O3, 'eu-west-1c'), old(O4, 'eu-west-1a'), fresh(N1, 'eu-west-1a', TARGET_VERSION), fresh(N2, 'eu-west-1a')].map((i) => (i.instanceId === N1 ? { ...i, lifecycleState: 'Terminating' } : i)));
      assert.deepEqual(healthTargets(state, group), [N2]);
      assert.deepEqual(healthTargets(state, snapshot([fresh(N1, 'eu-west-1a'), old(O2, 'eu-west-1b')])), [N1]);
      assert.deepEqual(healthTargets(roll(), group), [], 'no cycle, nothing to judge');
    });
  });

  describe('late replacements are explained by what Auto Scaling says', () => {
    const late = roll({ phase: 'await-replacements', cycle: cycle({ launchedAt: iso(0), deadline: iso(900) }) });
    it('quotes the failed launches', () => {
      const d = decide(late, observe({ instances: OLD_FOUR, group: { desired: 5 }, launchFailures: ['Could not launch On-Demand Instances. InsufficientInstanceCapacity - We currently do not have sufficient m5.large capacity'], now: at(901) }));
      assert.match(d.state.rollback!.reason, /no instance launched: Auto Scaling reports Could not launch On-Demand Instances\. InsufficientInstanceCapacity/);
    });
    it('with no failed launch, says so instead of guessing a cause', () => {
      const d = decide(late, observe({ instances: OLD_FOUR, group: { desired: 5 }, launchFailures: [], now: at(901) }));
      assert.match(d.state.rollback!.reason, /no instance launched, and Auto Scaling reports no failed launch \(desired 5, 4 instances\)/);
      assert.doesNotMatch(d.state.rollback!.reason, /InsufficientInstanceCapacity|capacity/);
    });
  });

  describe('the template setting comes back as the group had it', () => {
    const ended = (end: SelfManagedRoll['end'], setting?: '$Latest' | '$Default') =>
      roll({ phase: 'finish', end, original: { ...roll().original, ...(setting ? { launchTemplateSetting: setting } : {}) } });
    const updateOf = (d: RollDecision) => actionsOf(d, 'update-group')[0]?.launchTemplate;
    const cases: [string, SelfManagedRoll['end'], '$Latest' | '$Default' | undefined, RollAction[], { id: string; version: string } | undefined][] = [
      ['a number, finished: stays on the target', 'finished', undefined, [], undefined],
      ['a number, rolled back: the number', 'rolled-back', undefined, [], { id: LT, version: OLD_VERSION }],
      ['$Latest, finished: $Latest (the target is the latest)', 'finished', '$Latest', [], { id: LT, version: '$Latest' }],
      ['$Latest, rolled back: the rollout\'s version dropped, then $Latest', 'rolled-back', '$Latest', [{ kind: 'drop-version', launchTemplateId: LT, version: TARGET_VERSION }], { id: LT, version: '$Latest' }],
      ['$Latest, aborted: the same', 'aborted', '$Latest', [{ kind: 'drop-version', launchTemplateId: LT, version: TARGET_VERSION }], { id: LT, version: '$Latest' }],
      ['$Default, finished: the target becomes the default, then $Default', 'finished', '$Default', [{ kind: 'set-default-version', launchTemplateId: LT, version: TARGET_VERSION }], { id: LT, version: '$Default' }],
      ['$Default, rolled back: $Default (the default never moved)', 'rolled-back', '$Default', [], { id: LT, version: '$Default' }],
    ];
    for (const [name, end, setting, before, template] of cases) {
      it(name, () => {
        const d = decide(ended(end, setting), observe({ instances: OLD_FOUR }));
        assert.deepEqual(d.actions.filter((a) => a.kind === 'drop-version' || a.kind === 'set-default-version'), before);
        assert.deepEqual(updateOf(d), template);
        if (before.length > 0) assert.ok(d.actions.indexOf(before.length ? d.actions.find((a) => a.kind === before[0]!.kind)! : d.actions[0]!) < d.actions.findIndex((a) => a.kind === 'update-group'), 'before the group is pointed at it');
      });
    }
  });

  describe('give-up: a rollback that cannot finish', () => {
    const instances = [old(O1, 'eu-west-1a'), old(O2, 'eu-west-1b'), old(O3, 'eu-west-1c'), old(O4, 'eu-west-1a'), fresh(N1, 'eu-west-1b')];
    const state = roll({
      phase: 'give-up',
      launched: [N1],
      rollback: { reason: 'rollback could not drain the new nodes', attempts: 0, announced: true },
      cycle: cycle({ kind: 'rollback', retire: [N1], known: [O1, O2, O3, O4, N1] }),
      forced: ['shop/web-1 (PodDisruptionBudget shop/web)'],
    });
    const facts = nodes([O1, O2, O3, O4, N1], {
      [O2]: { unschedulable: true, ourCordon: true },
      [O3]: { unschedulable: true, ourCordon: false }, // a person's cordon: not ours to lift
      [N1]: { unschedulable: true, ourCordon: true },
    });

    it('puts back what needs no node taken away, and lists the rest with the commands that finish it', () => {
      const d = decide(state, observe({ instances, group: { desired: 5 }, nodes: facts }));
      assert.equal(d.tidy, true);
      assert.deepEqual(d.state.phase, 'ended');
      assert.deepEqual(actionsOf(d, 'update-group'), [{ kind: 'update-group', desired: 5, min: 1, max: 6, launchTemplate: { id: LT, version: OLD_VERSION } }], 'desired stays at the five instances held');
      assert.deepEqual(actionsOf(d, 'uncordon'), [{ kind: 'uncordon', nodes: [nodeName(O2), nodeName(N1)], instanceIds: [O2, N1] }], 'our cordons only; the drains this rollout owned are released');
      assert.deepEqual(actionsOf(d, 'az-rebalance'), [{ kind: 'az-rebalance', suspended: false }]);
      const [notify] = actionsOf(d, 'notify');
      assert.equal(notify!.event, 'rollback-failed');
      assert.equal(notify!.once, 'end');
      assert.deepEqual(notify!.detail['forced'], ['shop/web-1 (PodDisruptionBudget shop/web)']);
      const left = d.state.left!.join('\n');
      assert.match(left, /desired capacity left at 5 \(4 before the rollout\)/);
      assert.match(left, /aws autoscaling update-auto-scaling-group --auto-scaling-group-name prod-workers --desired-capacity 4 --min-size 1 --max-size 6/);
      assert.match(left, new RegExp(`1 instance still runs the new image: ${N1}`));
      assert.equal(d.actions.at(-1)!.kind, 'notify', 'announced last, once the rest was tried');
    });

    it('never lowers desired below the instances held, nor raises it', () => {
      const d = decide(state, observe({ instances: instances.slice(0, 4), group: { desired: 4 }, nodes: facts }));
      assert.equal(actionsOf(d, 'update-group')[0]!.desired, 4);
      assert.doesNotMatch(d.state.left!.join('\n'), /desired capacity left/);
    });

    it('a group it could not read is left alone, and the report says how to restore it', () => {
      const d = decide(state, { ...observe({ instances }), group: null, unobserved: ['Auto Scaling group prod-workers (Throttling: Rate exceeded)'] });
      assert.deepEqual(actionsOf(d, 'update-group'), []);
      const left = d.state.left!.join('\n');
      assert.match(left, /Auto Scaling group prod-workers \(Throttling: Rate exceeded\) could not be read/);
      assert.match(left, /--launch-template LaunchTemplateId=lt-0123456789abcdef0,Version=3/);
    });
  });

  describe('forced pods are reported', () => {
    it('in the batch that forced them, and at the end', () => {
      const forced = ['shop/web-1 (PodDisruptionBudget shop/web)'];
      const d = decide(roll({ phase: 'batch-done', batchIndex: 1, replaced: 3, cordonedAll: true, cycle: cycle({ forced }), forced }), observe({ instances: OLD_FOUR }));
      assert.deepEqual((actionsOf(d, 'notify')[0]!.detail as Record<string, unknown>)['forced'], forced);
      const end = decide(roll({ phase: 'finish', end: 'finished', forced }), observe({ instances: [] }));
      assert.deepEqual((actionsOf(end, 'notify')[0]!.detail as Record<string, unknown>)['forced'], forced);
    });
  });

  describe('over random runs against a toy group (properties)', () => {
    it('never terminates a node outside the cycle\'s retire set other than a never-joined new instance; every state fits the schema', () => {
      assertRuns(checkTerminations);
    });

    it('never sets desired above original desired + maxUnavailable', () => {
      assertRuns(checkDesired);
    });

    it('never undoes what an autoscaler did to desired capacity: a roll that ends restores its own changes only', () => {
      fc.assert(
        fc.property(scenarioArb, meddlingTickArb, (scenario, ticks) => {
          // an interference pause is resumed by the toy's person at the next tick unless it asks to abort
          run(scenario, ticks, () => undefined, ({ state, desired, meddled }) => {
            if (state.end === 'rollback-failed') return;
            // their changes were made on top of the rollout's own (its surge): what they add stays, what they take away goes, down to none
            assert.equal(desired, Math.max(0, scenario.size + meddled), `ended ${state.end}: desired ${desired}, the group's ${scenario.size} moved by ${meddled} by others (adopted: ${state.adopted?.join('; ')})`);
          });
        }),
        { numRuns: 1000 },
      );
    });

    it('a batch launched while Auto Scaling replaces an unhealthy instance (one extra present) stays within the surge budget (example found by the property)', () => {
      const state = roll({ phase: 'launch', original: { ...roll().original, desired: 3 }, maxUnavailable: 1, cycle: cycle({ retire: [O1], known: [O1, O2, O3, O4], expect: 1 }) });
      const d = decide(state, observe({ instances: OLD_FOUR }));
      assert.deepEqual(actionsOf(d, 'update-group').map((a) => a.desired), [4], 'original 3 + max-unavailable 1, not known 4 + 1');
    });

    it('a rollback with more joined new nodes than maxUnavailable stays within the surge budget (example)', () => {
      // surge, 4 nodes, 2 at a time: the canary and batch 2 replaced three old nodes; batch 3 fails its health gate
      const instances = [old(O4, 'eu-west-1a'), fresh(N1, 'eu-west-1a'), fresh(N2, 'eu-west-1b'), fresh(N3, 'eu-west-1c'), fresh(nid(4), 'eu-west-1a')];
      let state = roll({ phase: 'rollback', rollback: { reason: 'health gate', attempts: 0 }, launched: [N1, N2, N3, nid(4)] });
      const desired: number[] = [];
      for (let k = 0; k < 3; k++) {
        const d = decide(state, observe({ instances }));
        desired.push(...actionsOf(d, 'update-group').flatMap((a) => (a.desired === undefined ? [] : [a.desired])));
        state = d.state;
      }
      assert.ok(desired.length > 0);
      for (const n of desired) assert.ok(n <= 4 + 2, `desired ${n} > original 4 + maxUnavailable 2 (rollback cycle launched with desired = original + every joined node)`);
    });
  });
});

// ---- the toy group the properties run against --------------------------------------------

interface Scenario {
  size: number;
  zones: number;
  maxUnavailable: number;
  canary: number;
  strategy: 'surge' | 'minimal';
  suspendedAZRebalance: boolean;
  /** how many of the group's instances already run the target version */
  current: number;
}

interface Tick {
  /** a step failed instead of deciding (the workflow's Catch) */
  fail: boolean;
  /** which pending instances get a Ready node now (bit k: the k-th without one) */
  joins: number;
  drain: DrainStatus;
  healthy: boolean;
  control: Observation['control'];
  advance: number;
  /** the group's own churn: an old instance dies and is replaced */
  churn: boolean;
  /** someone else moves desired capacity by this much (an autoscaler); absent: nobody does */
  meddle?: number;
}

const scenarioArb = fc.record({
  size: fc.integer({ min: 1, max: 6 }),
  zones: fc.integer({ min: 1, max: 3 }),
  maxUnavailable: fc.integer({ min: 1, max: 3 }),
  canary: fc.integer({ min: 0, max: 2 }),
  strategy: fc.constantFrom('surge' as const, 'minimal' as const),
  suspendedAZRebalance: fc.boolean(),
  current: fc.integer({ min: 0, max: 1 }),
});

const tickArb = fc.array(
  fc.record({
    fail: fc.nat({ max: 19 }).map((n) => n === 0),
    joins: fc.integer({ min: 0, max: 255 }),
    drain: fc.constantFrom<DrainStatus>('running', 'running', 'drained', 'forced', 'node-gone', 'failed'),
    healthy: fc.boolean(),
    control: fc.constantFrom<Observation['control']>(null, null, null, 'pause', 'abort'),
    advance: fc.constantFrom(0, 15, 60, 300, 1000),
    churn: fc.constantFrom(false, false, false, false, false, false, false, true),
  }),
  { minLength: 1, maxLength: 60 },
);

/** Ticks in which an autoscaler also moves desired capacity now and then. */
const meddlingTickArb = fc.array(
  fc.record({
    fail: fc.nat({ max: 29 }).map((n) => n === 0),
    joins: fc.integer({ min: 0, max: 255 }),
    drain: fc.constantFrom<DrainStatus>('running', 'drained', 'drained', 'node-gone'),
    healthy: fc.constantFrom(true, true, false),
    control: fc.constantFrom<Observation['control']>(null, null, null, null, 'abort'),
    advance: fc.constantFrom(0, 15, 60, 300, 1000),
    churn: fc.constant(false),
    meddle: fc.constantFrom(0, 0, 0, 0, 0, 0, 1, -1, 2),
  }),
  { minLength: 1, maxLength: 80 },
);

type Check = (input: SelfManagedRoll, obs: Observation, decision: RollDecision) => void;

/** fc.assert over random runs, with the broken invariant's own message up front */
function assertRuns(check: Check): void {
  try {
    fc.assert(fc.property(scenarioArb, tickArb, (scenario, ticks) => run(scenario, ticks, check)), { numRuns: 1500 });
  } catch (error) {
    const cause = (error as Error).cause as Error | undefined;
    throw new assert.AssertionError({ message: `${cause?.message ?? ''}\n${(error as Error).message}` });
  }
}

const ZONES = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];

function run(scenario: Scenario, ticks: Tick[], check: Check, atEnd?: (end: { state: SelfManagedRoll; desired: number; meddled: number }) => void): void {
  let meddled = 0;
  let seq = 0;
  const ids = { old: 0, fresh: 0x100 };
  const world = {
    instances: [] as GroupInstance[],
    desired: scenario.size,
    min: 0,
    max: scenario.size,
    template: OLD_VERSION,
    nodes: new Map<string, NodeFact>(),
    drains: new Map<string, DrainStatus>(),
    now: T0.getTime(),
  };
  const launch = (version: string) => {
    const id = version === OLD_VERSION && seq < scenario.size ? oid(++ids.old) : nid(++ids.fresh);
    world.instances.push(inst(id, ZONES[seq++ % scenario.zones]!, version));
  };
  for (let k = 0; k < scenario.size; k++) launch(k < scenario.current ? TARGET_VERSION : OLD_VERSION);
  for (const i of world.instances) world.nodes.set(i.instanceId, { name: nodeName(i.instanceId), ready: true, unschedulable: false });

  // what planSelfManagedRoll reads from the group
  const olds = world.instances.filter((i) => i.launchTemplateVersion !== TARGET_VERSION);
  const plan = planBatches(
    olds.map((i, k) => ({ name: i.instanceId, instanceId: i.instanceId, availabilityZone: i.availabilityZone, launchedAt: new Date(T0.getTime() - (k + 1) * 3_600_000) })),
    { maxUnavailable: scenario.maxUnavailable, canary: scenario.canary, strategy: scenario.strategy },
    T0,
    { groupSize: scenario.size },
  );
  let state = roll({
    original: { desired: scenario.size, min: 0, max: scenario.size, launchTemplate: { id: LT, version: OLD_VERSION }, suspendedAZRebalance: scenario.suspendedAZRebalance },
    expected: { desired: scenario.size, min: 0, max: scenario.size, launchTemplate: { id: LT, version: OLD_VERSION } },
    strategy: scenario.strategy,
    maxUnavailable: plan.decision === 'roll' ? plan.maxUnavailable : 1,
    batches: plan.decision === 'roll' ? plan.batches.map((b) => ({ canary: b.canary, instanceIds: b.nodes.map((n) => n.instanceId), zones: b.nodes.map((n) => n.availabilityZone) })) : [],
  });

  for (const tick of ticks) {
    if (state.phase === 'ended') break;
    if (tick.meddle) {
      const before = world.desired;
      world.desired = Math.min(world.max, Math.max(world.min, world.desired + tick.meddle));
      meddled += world.desired - before;
    }
    // the world moves: leaving instances go, nodes join, drains progress, the group keeps its size
    world.instances = world.instances.filter((i) => i.lifecycleState === 'InService' || i.lifecycleState === 'Pending');
    const waitingToJoin = world.instances.filter((i) => !world.nodes.has(i.instanceId));
    waitingToJoin.forEach((i, k) => {
      if (tick.joins & (1 << k)) world.nodes.set(i.instanceId, { name: nodeName(i.instanceId), ready: true, unschedulable: false });
    });
    for (const [id, status] of world.drains) if (status === 'running') world.drains.set(id, tick.drain);
    if (tick.churn) {
      const victim = world.instances.find((i) => i.launchTemplateVersion === OLD_VERSION);
      if (victim) victim.lifecycleState = 'Terminating';
    }
    const present = () => world.instances.filter((i) => i.lifecycleState === 'InService');
    while (present().length < world.desired) launch(world.template);
    while (present().length > world.desired) present().at(-1)!.lifecycleState = 'Terminating';

    if (tick.fail) {
      state = afterFailure(state, 'AwsTransientError: throttled');
      continue;
    }
    const obs: Observation = {
      group: snapshot(structuredClone(world.instances), { desired: world.desired, min: world.min, max: world.max, launchTemplate: { id: LT, version: world.template } }),
      nodes: new Map([...world.nodes].map(([id, n]) => [id, { ...n }])),
      drains: new Map(state.phase === 'await-drain' ? (state.cycle?.retire ?? []).flatMap((id) => (world.drains.has(id) ? [[id, world.drains.get(id)!] as const] : [])) : []),
      health: state.phase === 'health' ? (tick.healthy ? { verdict: 'healthy', nodes: 1, pods: 1 } : { verdict: 'pending', reason: 'pods not ready' }) : null,
      control: tick.control,
      now: new Date(world.now),
    };
    const decision = decideSelfManaged(state, obs, SETTINGS);
    check(state, obs, decision);
    SelfManagedRollSchema.parse(decision.state);

    for (const action of decision.actions) {
      switch (action.kind) {
        case 'update-group':
          if (action.desired !== undefined) world.desired = action.desired;
          if (action.min !== undefined) world.min = action.min;
          if (action.max !== undefined) world.max = action.max;
          if (action.launchTemplate) world.template = action.launchTemplate.version;
          break;
        case 'terminate':
          for (const id of action.instanceIds) {
            const i = world.instances.find((x) => x.instanceId === id && x.lifecycleState === 'InService');
            if (!i) continue;
            i.lifecycleState = 'Terminating';
            if (action.decrement) world.desired--;
          }
          break;
        case 'cordon':
        case 'uncordon':
          for (const name of action.nodes) for (const n of world.nodes.values()) if (n.name === name) n.unschedulable = action.kind === 'cordon';
          break;
        case 'drain':
          for (const id of action.instanceIds) world.drains.set(id, 'running');
          break;
        default:
          break;
      }
    }
    state = decision.state;
    world.now += tick.advance * 1000;
  }
  if (state.phase === 'ended') atEnd?.({ state, desired: world.desired, meddled });
}

const checkTerminations: Check = (input, obs, decision) => {
  const byId = new Map(obs.group!.instances.map((i) => [i.instanceId, i]));
  const retire = new Set(input.cycle?.retire ?? []);
  for (const action of decision.actions) {
    if (action.kind !== 'terminate') continue;
    for (const id of action.instanceIds) {
      const instance = byId.get(id);
      const isNew = input.launched.includes(id) || instance?.launchTemplateVersion === input.target.version;
      const neverJoined = isNew && obs.nodes.get(id)?.ready !== true;
      assert.ok(retire.has(id) || neverJoined, `phase ${input.phase} terminates ${id}, neither retired by the cycle (${[...retire].join(', ')}) nor a never-joined new instance`);
    }
  }
};

const checkDesired: Check = (input, _obs, decision) => {
  for (const action of decision.actions) {
    if (action.kind !== 'update-group' || action.desired === undefined) continue;
    const limit = input.original.desired + input.maxUnavailable;
    assert.ok(action.desired <= limit, `phase ${input.phase} (${input.cycle?.kind ?? 'no'} cycle) sets desired ${action.desired} > original ${input.original.desired} + maxUnavailable ${input.maxUnavailable}`);
  }
};

describe('Self-managed roll: workload health and the fleet at batch boundaries', () => {
  const report = { verdict: 'regressed' as const, at: iso(60), nodes: 1, pods: 2, signals: [{ signal: 'crash-loops' as const, status: 'regressed' as const, seen: 1, threshold: 0, evidence: ['shop/web-1 on n1'], detail: '1 pods in CrashLoopBackOff' }] };
  const afterFirst = () => roll({ phase: 'batch-done', batchIndex: 0, cordonedAll: true, replaced: 1, launched: [N1], cycle: cycle({ replacements: [N1] }) });
  const groupAfterFirst = () => [...OLD_FOUR.slice(1), fresh(N1, 'eu-west-1a')];
  const freeze = { scope: { kind: 'all' as const }, reason: 'incident 42', by: 'alice', since: iso(0) };

  it('a regression rolls back at once, before the health deadline, recorded failed-health with its signals', () => {
    const state = roll({ phase: 'health', cordonedAll: true, launched: [N1], cycle: cycle({ replacements: [N1], deadline: iso(600) }) });
    const d = decide(state, observe({ instances: groupAfterFirst(), now: at(30), health: { verdict: 'regressed', reason: 'workloads regressed on the new nodes: crash-loops', report } }));
    assert.equal(d.state.phase, 'rollback');
    assert.equal(d.state.rollback?.cause, 'failed-health');
    assert.deepEqual(d.state.rollback?.signals, report.signals);
    assert.deepEqual(actionsOf(d, 'outcome').map((a) => a.state), ['failed-health']);
    // the rollback announces the cause and the numbers
    const back = decide(d.state, observe({ instances: groupAfterFirst(), now: at(31) }));
    const rollingBack = actionsOf(back, 'notify').find((a) => a.event === 'rolling-back')!;
    assert.deepEqual(rollingBack.detail, { reason: d.state.rollback!.reason, cause: 'failed-health', signals: report.signals });
  });

  it('insufficient data never fails a batch: healthy readiness goes on', () => {
    const state = roll({ phase: 'health', cordonedAll: true, launched: [N1], cycle: cycle({ replacements: [N1], deadline: iso(600) }) });
    const d = decide(state, observe({ instances: groupAfterFirst(), now: at(30), health: { verdict: 'healthy', nodes: 1, pods: 2, report: { ...report, verdict: 'insufficient-data', signals: [] } } }));
    assert.equal(d.state.phase, 'batch-done');
  });

  it('a freeze at the boundary pauses before the next batch, and looks again every few minutes', () => {
    const obs = { ...observe({ instances: groupAfterFirst(), now: at(60) }), boundary: { verdict: 'pause' as const, freeze, reason: 'frozen (incident 42, by alice)' } };
    const d = decide(afterFirst(), obs);
    assert.equal(d.state.phase, 'paused');
    assert.equal(d.state.pause?.kind, 'freeze');
    assert.equal(d.state.batchIndex, 1);
    assert.deepEqual(d.wait, { seconds: SETTINGS.freezePollSeconds, phase: 'paused' });
    assert.deepEqual(events(d), ['canary-passed', 'paused']);
    // still frozen, long past the max pause: it waits, quietly
    const still = decide(d.state, { ...obs, now: at(SETTINGS.maxPauseSeconds + 3600) });
    assert.equal(still.state.phase, 'paused');
    assert.deepEqual(still.actions, []);
    // unfrozen: the next batch begins
    const on = decide(d.state, { ...observe({ instances: groupAfterFirst(), now: at(900) }), boundary: { verdict: 'continue' } });
    assert.equal(on.state.phase, 'launch');
    assert.deepEqual(events(on), ['resumed']);
  });

  it('a hold of the release stops the rollout at the boundary and rolls back what it replaced, recorded stopped', () => {
    const hold = { reason: 'crash loops in ring canary', by: 'promotion', at: iso(0) } as never;
    const obs = { ...observe({ instances: groupAfterFirst(), now: at(60) }), boundary: { verdict: 'stop' as const, hold, reason: 'rel-1 is held: crash loops in ring canary' } };
    const d = decide(afterFirst(), obs);
    assert.equal(d.state.phase, 'rollback');
    assert.equal(d.state.rollback?.cause, 'held');
    assert.match(d.state.rollback!.reason, /^stopped: rel-1 is held/);
    assert.deepEqual(actionsOf(d, 'outcome').map((a) => a.state), ['stopped']);
    // the rollback replaces the new node (N1) with an old-version one
    const back = decide(d.state, observe({ instances: groupAfterFirst(), now: at(61) }));
    assert.equal(back.state.phase, 'launch');
    assert.equal(back.state.cycle?.kind, 'rollback');
    // a hold set while frozen stops it too
    const frozen = decide(afterFirst(), { ...obs, boundary: { verdict: 'pause', freeze, reason: 'frozen' } });
    const stopped = decide(frozen.state, { ...obs, now: at(400) });
    assert.equal(stopped.state.phase, 'rollback');
    assert.equal(stopped.state.rollback?.cause, 'held');
  });

  it('without a fleet word (not at a boundary, no fleet) nothing changes', () => {
    const d = decide(afterFirst(), observe({ instances: groupAfterFirst(), now: at(60) }));
    assert.equal(d.state.phase, 'launch');
  });
});
