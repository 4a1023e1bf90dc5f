import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { DrainRecord } from '../../shared/aws/drain-records.js';
import { parseDurationSeconds } from '../../shared/config/duration.js';
import { DEFAULT_POLICY, readNodeGroupPolicy } from '../../shared/config/node-group-policy.js';
import { decidePass, HOLD_MAX_WAIT_SECONDS, heartbeatEverySeconds, LONG_BLOCKED_PASSES, type PassFacts, type PassNext } from '../../shared/drain/decide-pass.js';
import { decideDrainRequest, type DrainRequest, type DrainRequestFacts, drainDeadline, lookupsFor, planDrainRequest, type RequestFacts, type RequestScope } from '../../shared/drain/decide-request.js';
import type { DrainProgress } from '../../shared/kube/drain/types.js';
import { planTerminateHooks } from '../../shared/drain/ensure-terminate-hooks.js';

const NOW = new Date('2026-11-21T09:00:00Z');
const record = (status: DrainRecord['status'], generation = 0, extra: Partial<DrainRecord> = {}): DrainRecord => ({
  instanceId: 'i-0123456789abcdef0',
  cluster: 'prod',
  status,
  generation,
  triggers: [],
  lifecycleActions: [],
  executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:eks-node-lifecycle-test-node-drain:drain-i-0123456789abcdef0-0',
  revision: 1,
  updatedAt: '2026-11-21T09:00:00Z',
  expiresAt: 0,
  ...extra,
});
const leased = (status: DrainRecord['status'], secondsLeft: number, generation = 0) => record(status, generation, { leaseUntil: new Date(NOW.getTime() + secondsLeft * 1000).toISOString() });
const hook = { trigger: 'terminate-hook' as const, bringsLifecycleAction: true, onRebalance: 'drain' as const, now: NOW };
const spot = { trigger: 'spot-interruption' as const, bringsLifecycleAction: false, onRebalance: 'drain' as const, now: NOW };
const manual = { trigger: 'manual' as const, bringsLifecycleAction: false, onRebalance: 'drain' as const, now: NOW };
const stillDrained = { drained: true } as const;
const refilled = { drained: false, reason: 'node ip-10-0-1-5 is no longer cordoned by this service' } as const;

describe('decideDrainRequest', () => {
  it('starts the first drain of an instance at generation 0', () => {
    assert.equal(decideDrainRequest({ ...hook, record: undefined }).action, 'start');
    assert.equal((decideDrainRequest({ ...hook, record: undefined }) as { generation: number }).generation, 0);
  });

  // [what the record says, what was checked, trigger] → decision
  const table: [string, DrainRecord, Partial<RequestFacts>, typeof hook | typeof spot | typeof manual, string, number?][] = [
    ['running, its lease holding', leased('running', 300), {}, spot, 'join'],
    ['running, its lease holding, its execution seen alive', leased('running', 300), { ownerRunning: true }, hook, 'join'],
    ['running, its lease holding, but its execution stopped', leased('running', 300, 1), { ownerRunning: false }, hook, 'start', 2],
    ['running, its lease lapsed, its execution RUNNING', leased('running', -60), { ownerRunning: true }, hook, 'join'],
    ['running, its lease lapsed, its execution ended', leased('running', -60, 2), { ownerRunning: false }, hook, 'start', 3],
    ['running, of the old shape (no lease), its execution stopped', record('running', 1), { ownerRunning: false }, spot, 'start', 2],
    ['failed', record('failed', 2), {}, hook, 'start', 3],
    ['drained, the node still cordoned by us and empty', record('drained'), { node: stillDrained }, hook, 'complete-now'],
    ['forced, the node still cordoned by us and empty', record('forced'), { node: stillDrained }, hook, 'complete-now'],
    ['node-gone', record('node-gone'), { node: stillDrained }, hook, 'complete-now'],
    ['drained, still drained, no action brought', record('drained'), { node: stillDrained }, spot, 'ignore'],
    ['drained, still drained, a person asking', record('drained'), { node: stillDrained }, manual, 'ignore'],
    ['drained 14 days ago, uncordoned by a person and refilled (B3)', record('drained', 4), { node: refilled }, hook, 'start', 5],
    ['drained long ago, refilled, a person asking again', record('drained', 4), { node: refilled }, manual, 'start', 5],
    ['drained, the node never checked', record('drained', 1), {}, hook, 'start', 2],
  ];
  for (const [given, seen, checked, trigger, action, generation] of table) {
    it(`${given}: ${trigger.trigger} → ${action}${generation !== undefined ? ` (generation ${generation})` : ''}`, () => {
      const decision = decideDrainRequest({ ...trigger, record: seen, ...checked });
      assert.equal(decision.action, action, decision.reason);
      if (generation !== undefined) assert.equal((decision as { generation: number }).generation, generation);
    });
  }

  it('leaves a spot or rebalance warning to the Node Termination Handler seen on the node when it drains on that warning, saying which mode; never a terminate hook or a person', () => {
    const handler = { mode: 'imds' as const, evidence: 'its DaemonSet pod kube-system/nth-x on ip-10-0-1-5', drains: { spotInterruption: true, rebalance: true } };
    for (const trigger of ['spot-interruption', 'rebalance'] as const) {
      const decision = decideDrainRequest({ record: undefined, trigger, bringsLifecycleAction: false, onRebalance: 'drain', now: NOW, terminationHandler: handler });
      assert.deepEqual(decision, { action: 'ignore', reason: 'left to the AWS Node Termination Handler (IMDS mode: its DaemonSet pod kube-system/nth-x on ip-10-0-1-5), which drains this node on the same warning' });
    }
    // its defaults: it drains on spot interruptions, and only watches rebalance recommendations
    const defaults = { ...handler, drains: { spotInterruption: true, rebalance: false } };
    assert.equal(decideDrainRequest({ record: undefined, trigger: 'rebalance', bringsLifecycleAction: false, onRebalance: 'drain', now: NOW, terminationHandler: defaults }).action, 'start', 'a rebalance=drain group is drained when the handler does not');
    assert.equal(decideDrainRequest({ ...spot, record: undefined, terminationHandler: { ...handler, drains: { spotInterruption: false, rebalance: false } } }).action, 'start');
    assert.equal(decideDrainRequest({ ...hook, record: undefined, terminationHandler: handler }).action, 'start', 'our own terminate hook is still ours to drain');
    assert.equal(decideDrainRequest({ ...manual, record: undefined, terminationHandler: handler }).action, 'start');
    assert.equal(decideDrainRequest({ ...spot, record: undefined }).action, 'start', 'not seen: the service drains');
  });

  it('ignores rebalance recommendations when the policy says so', () => {
    assert.equal(decideDrainRequest({ record: undefined, trigger: 'rebalance', bringsLifecycleAction: false, onRebalance: 'ignore', now: NOW }).action, 'ignore');
  });

  it('asks Step Functions about a running record past its lease (or joined by a hook), and about the node only of a finished one', () => {
    assert.deepEqual(lookupsFor(undefined, NOW, true), { owner: false, node: false });
    assert.deepEqual(lookupsFor(leased('running', 60), NOW, false), { owner: false, node: false });
    assert.deepEqual(lookupsFor(leased('running', 60), NOW, true), { owner: true, node: false }, 'a hook is not trusted to a stopped owner, even within its lease');
    assert.deepEqual(lookupsFor(leased('running', -1), NOW, false), { owner: true, node: false });
    assert.deepEqual(lookupsFor(record('running'), NOW, false), { owner: true, node: false });
    for (const status of ['drained', 'forced', 'node-gone'] as const) assert.deepEqual(lookupsFor(record(status), NOW, false), { owner: false, node: true });
    assert.deepEqual(lookupsFor(record('failed'), NOW, true), { owner: false, node: false });
  });

  it('never completes a hook at once unless the node was seen still drained, and never starts a drain over a live owner (property)', () => {
    const statuses = ['running', 'drained', 'forced', 'failed', 'node-gone'] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...statuses),
        fc.integer({ min: -3600, max: 3600 }),
        fc.option(fc.boolean(), { nil: undefined }),
        fc.option(fc.boolean(), { nil: undefined }),
        fc.constantFrom('terminate-hook', 'spot-interruption', 'rebalance', 'manual', 'rollout'),
        fc.integer({ min: 0, max: 100 }),
        (status, leaseSeconds, ownerRunning, nodeDrained, trigger, generation) => {
          const seen = leased(status, leaseSeconds, generation);
          const facts: RequestFacts = {
            record: seen,
            trigger: trigger as RequestFacts['trigger'],
            bringsLifecycleAction: trigger === 'terminate-hook',
            onRebalance: 'drain',
            now: NOW,
            ...(ownerRunning !== undefined ? { ownerRunning } : {}),
            ...(nodeDrained !== undefined ? { node: nodeDrained ? stillDrained : refilled } : {}),
          };
          const decision = decideDrainRequest(facts);
          if (decision.action === 'complete-now') assert.ok(nodeDrained === true && status !== 'running' && status !== 'failed', JSON.stringify(facts));
          if (status === 'running' && ownerRunning !== false && (leaseSeconds > 0 || ownerRunning === true)) assert.equal(decision.action, 'join');
          if (status === 'running' && ownerRunning === false) assert.equal(decision.action, 'start', 'a dead owner\'s drain is taken over');
          if (decision.action === 'start') assert.equal(decision.generation, generation + 1, 'a new drain of a known instance is a new generation');
        },
      ),
      { numRuns: 10_000 },
    );
  });
});

describe('planDrainRequest', () => {
  const ACTION = { autoScalingGroupName: 'workers', lifecycleHookName: 'eks-node-lifecycle-drain', lifecycleActionToken: 'token-2', instanceId: 'i-0123456789abcdef0' };
  const terminate: DrainRequest = { kind: 'terminate-hook', instanceId: 'i-0123456789abcdef0', groupName: 'workers', lifecycleAction: ACTION, eventTime: new Date('2026-11-21T08:59:00Z') };
  const ours: RequestScope = { scope: 'ours', instanceId: 'i-0123456789abcdef0', cluster: 'prod', instance: { instanceId: 'i-0123456789abcdef0', state: 'running', tags: {} }, policy: { drain: DEFAULT_POLICY.drain, onRebalance: 'drain' } };
  const facts = (over: Partial<DrainRequestFacts> = {}): DrainRequestFacts => ({ request: terminate, scope: ours, observeOnly: false, now: NOW, drain: { record: undefined }, ...over });
  const noted = (token: string) => ({ ...ACTION, lifecycleActionToken: token, openedAt: '2026-11-21T08:00:00Z', state: 'open' as const });

  it('ignores, before any record, an instance that is not ours, and rejects one asked of the wrong cluster', () => {
    assert.deepEqual(planDrainRequest(facts({ scope: { scope: 'not-ours', instanceId: 'i-0123456789abcdef0', reason: 'instance not found' }, drain: undefined })), { action: 'ignore', reason: 'instance not found' });
    assert.deepEqual(planDrainRequest(facts({ scope: { scope: 'wrong-cluster', instanceId: 'i-0123456789abcdef0', cluster: 'prod', asked: 'stage' }, drain: undefined })), {
      action: 'reject', path: 'cluster', message: 'instance i-0123456789abcdef0 belongs to cluster prod, not stage',
    });
  });

  // [given, facts] → the plan, whole: what the step then writes and starts
  const table: [string, Partial<DrainRequestFacts>, unknown][] = [
    ['the first drain: a new record, generation 0, the hook noted as it opened', {}, {
      action: 'start', reason: 'the first drain of this instance', afresh: false,
      start: { cluster: 'prod', instanceId: 'i-0123456789abcdef0', trigger: 'terminate-hook', generation: 0, policy: DEFAULT_POLICY.drain, eventTime: terminate.eventTime, lifecycleActions: [{ ...ACTION, openedAt: '2026-11-21T08:59:00.000Z', state: 'open' }] },
    }],
    ['a person forcing: the policy says force at the deadline', { request: { kind: 'manual', instanceId: 'i-0123456789abcdef0', cluster: 'prod', force: true } }, {
      action: 'start', reason: 'the first drain of this instance', afresh: false,
      start: { cluster: 'prod', instanceId: 'i-0123456789abcdef0', trigger: 'manual', generation: 0, policy: { ...DEFAULT_POLICY.drain, onDrainTimeout: 'force' } },
    }],
    ['a rollout after a drained record: the next generation, owned by the rollout', { request: { kind: 'rollout', instanceId: 'i-0123456789abcdef0', cluster: 'prod', rolloutExecutionArn: 'arn:rollout' }, drain: { record: record('drained', 3), node: stillDrained } }, {
      action: 'start', reason: 'a rollout drains afresh before it terminates', afresh: true,
      start: { cluster: 'prod', instanceId: 'i-0123456789abcdef0', trigger: 'rollout', generation: 4, policy: DEFAULT_POLICY.drain, rolloutExecutionArn: 'arn:rollout' },
    }],
    ['a running drain: the hook is noted beside the one already there (another hook)', { drain: { record: { ...leased('running', 300, 1), lifecycleActions: [{ ...noted('t'), lifecycleHookName: 'other' }] }, ownerRunning: true } }, {
      action: 'join', reason: 'a drain of this instance is already running; it will keep the lifecycle actions alive and complete them',
      note: { cluster: 'prod', trigger: 'terminate-hook', lifecycleActions: [{ ...noted('t'), lifecycleHookName: 'other' }, { ...ACTION, openedAt: '2026-11-21T08:59:00.000Z', state: 'open' }] },
    }],
    ['a running drain, the same hook redelivered: only the trigger is noted', { drain: { record: { ...leased('running', 300, 1), lifecycleActions: [noted('token-2')] }, ownerRunning: true } }, {
      action: 'join', reason: 'a drain of this instance is already running; it will keep the lifecycle actions alive and complete them',
      note: { cluster: 'prod', trigger: 'terminate-hook' },
    }],
    ['still drained: the hook noted, to be completed at once', { drain: { record: record('drained', 1), node: stillDrained } }, {
      action: 'complete-now', reason: 'the node is still drained (drained)',
      note: { cluster: 'prod', trigger: 'terminate-hook', lifecycleActions: [{ ...ACTION, openedAt: '2026-11-21T08:59:00.000Z', state: 'open' }] },
    }],
    ['observe mode: reported, nothing read or written', { observeOnly: true, drain: undefined }, { action: 'observe', policy: DEFAULT_POLICY.drain }],
    ['observe mode, a rebalance the group ignores: ignored', { observeOnly: true, drain: undefined, request: { kind: 'rebalance', instanceId: 'i-0123456789abcdef0' }, scope: { ...ours, policy: { drain: DEFAULT_POLICY.drain, onRebalance: 'ignore' } } as RequestScope }, {
      action: 'ignore', reason: 'the group\'s policy ignores rebalance recommendations',
    }],
  ];
  for (const [given, over, plan] of table) it(given, () => assert.deepEqual(planDrainRequest(facts(over)), plan));

  it('makes one decision, and writes what it decided: the trigger and cluster on every write, the generation decided, the hook noted unless already noted (property)', () => {
    fc.assert(
      fc.property(
        fc.option(fc.constantFrom('running', 'drained', 'forced', 'failed', 'node-gone'), { nil: undefined }),
        fc.integer({ min: -3600, max: 3600 }),
        fc.option(fc.boolean(), { nil: undefined }),
        fc.option(fc.boolean(), { nil: undefined }),
        fc.constantFrom('terminate-hook', 'spot-interruption', 'rebalance', 'manual', 'rollout'),
        fc.constantFrom(undefined, 'token-1', 'token-2'),
        fc.boolean(),
        (status, leaseSeconds, ownerRunning, nodeDrained, kind, notedToken, force) => {
          const seen = status ? leased(status as DrainRecord['status'], leaseSeconds, 2) : undefined;
          if (seen && notedToken) seen.lifecycleActions = [noted(notedToken)];
          const request: DrainRequest = { kind: kind as DrainRequest['kind'], instanceId: 'i-0123456789abcdef0', force, ...(kind === 'terminate-hook' ? { lifecycleAction: ACTION, eventTime: terminate.eventTime } : {}) };
          const drain = { record: seen, ...(ownerRunning !== undefined ? { ownerRunning } : {}), ...(nodeDrained !== undefined ? { node: nodeDrained ? stillDrained : refilled } : {}) };
          const plan = planDrainRequest(facts({ request, drain }));
          const decision = decideDrainRequest({ trigger: request.kind, bringsLifecycleAction: kind === 'terminate-hook', onRebalance: 'drain', now: NOW, ...drain });
          assert.equal(plan.action, decision.action);
          const writes = plan.action === 'start' ? plan.start : plan.action === 'join' || plan.action === 'complete-now' ? plan.note : undefined;
          if (!writes) return;
          assert.equal(writes.cluster, 'prod');
          assert.equal(writes.trigger, request.kind);
          const hookNoted = writes.lifecycleActions?.some((a) => a.lifecycleActionToken === 'token-2') ?? false;
          if (kind === 'terminate-hook') assert.equal(hookNoted, notedToken !== 'token-2' || !seen, 'the hook is noted once');
          else assert.equal(writes.lifecycleActions, undefined, 'no action brought, none written');
          if (plan.action === 'start') {
            assert.equal(plan.start.generation, (decision as { generation: number }).generation);
            assert.equal(plan.afresh, seen !== undefined);
            assert.equal(plan.start.policy.onDrainTimeout, force ? 'force' : DEFAULT_POLICY.drain.onDrainTimeout);
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('drainDeadline', () => {
  const now = new Date('2026-11-21T09:00:30Z');
  it('is the drain timeout from now', () => {
    assert.equal(drainDeadline({ trigger: 'terminate-hook', now, drainTimeoutSeconds: 900 }).toISOString(), '2026-11-21T09:15:30.000Z');
  });
  it('is within the two-minute spot notice, counted from the warning', () => {
    assert.equal(drainDeadline({ trigger: 'spot-interruption', now, eventTime: new Date('2026-11-21T09:00:00Z'), drainTimeoutSeconds: 900 }).toISOString(), '2026-11-21T09:01:45.000Z');
  });
});

describe('decidePass', () => {
  const now = new Date('2026-11-21T10:00:00Z');
  const deadline = new Date('2026-11-21T11:00:00Z');
  const progress = (over: Partial<DrainProgress> = {}): DrainProgress => ({
    node: 'ip-10-0-1-5', phase: 'draining', remaining: [], evicted: [], terminating: [], blocked: [], skipped: [], requests: 3, checkedAt: now.toISOString(), nextTerminationAt: null, ...over,
  });
  const pod = { namespace: 'shop', name: 'web-1', uid: 'u1' };
  const blocked = progress({ remaining: [pod], blocked: [{ pod, pdb: { namespace: 'shop', name: 'web', disruptionsAllowed: 0 }, message: 'budget' }] });
  const base: PassFacts = { phase: 'draining', mode: 'evict', progress: blocked, consecutiveBlocked: 5, now, deadline, onDrainTimeout: 'fail', actionOpen: false, actionClosed: false, maxGracePeriodSeconds: 600 };
  const past = { now: deadline };

  // [facts] → next
  const table: [string, Partial<PassFacts>, PassNext][] = [
    ['drained', { phase: 'drained', progress: progress({ phase: 'drained' }) }, 'drained'],
    ['a force pass found the node empty', { phase: 'drained', mode: 'force', progress: progress({ phase: 'drained' }) }, 'forced'],
    ['the node is gone', { phase: 'node-gone', progress: undefined }, 'node-gone'],
    ['blocked before the deadline', {}, 'wait'],
    ['at the deadline, force policy', { ...past, onDrainTimeout: 'force' }, 'force'],
    ['at the deadline, fail policy, a terminate action open', { ...past, actionOpen: true }, 'hold'],
    ['at the deadline, fail policy, no action (manual, rebalance)', past, 'fail'],
    ['every action closed under the drain', { actionClosed: true }, 'closed'],
    ['one action closed, another still open, at the deadline', { ...past, actionClosed: true, actionOpen: true }, 'hold'],
    ['forcing, within the grace period', { ...past, mode: 'force', progress: progress({ terminating: [pod], remaining: [pod] }) }, 'wait'],
    ['forcing, past the grace period and a minute', { mode: 'force', now: new Date(deadline.getTime() + (600 + 60) * 1000) }, 'forced'],
    ['the API away, an action open', { mode: 'keep-alive', progress: undefined, actionOpen: true }, 'hold'],
    ['the API away, no action', { mode: 'keep-alive', progress: undefined }, 'fail'],
  ];
  for (const [given, facts, next] of table) {
    it(`${given} → ${next}`, () => assert.equal(decidePass({ ...base, ...facts }).next, next));
  }

  it('waits what the engine asks when no hook needs keeping alive', () => {
    assert.equal(decidePass({ ...base, consecutiveBlocked: 3 }).waitSeconds, 20);
  });
  it('never waits past the next heartbeat or the deadline', () => {
    assert.equal(decidePass({ ...base, nextHeartbeatAt: new Date(now.getTime() + 30_000) }).waitSeconds, 30);
    assert.equal(decidePass({ ...base, deadline: new Date(now.getTime() + 20_000) }).waitSeconds, 20);
  });
  it('backs off to five minutes while holding (never past a heartbeat), and to one before the deadline', () => {
    assert.equal(decidePass({ ...base, ...past, actionOpen: true, consecutiveBlocked: 12 }).waitSeconds, HOLD_MAX_WAIT_SECONDS);
    assert.equal(decidePass({ ...base, ...past, actionOpen: true, consecutiveBlocked: 12, nextHeartbeatAt: new Date(deadline.getTime() + 150_000) }).waitSeconds, 150);
    assert.equal(decidePass({ ...base, consecutiveBlocked: 12 }).waitSeconds, 60);
    assert.equal(decidePass({ ...base, consecutiveBlocked: LONG_BLOCKED_PASSES + 1, deadline: new Date(now.getTime() + 86_400_000) }).waitSeconds, HOLD_MAX_WAIT_SECONDS, 'blocked for half an hour: every five minutes');
    assert.equal(decidePass({ ...base, mode: 'keep-alive', progress: undefined, actionOpen: true }).waitSeconds, HOLD_MAX_WAIT_SECONDS);
  });
  it('keeps every wait within the next heartbeat, and a hold of 48 h under 600 passes (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 30, max: 7200 }),
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 7200 }),
        fc.constantFrom<PassFacts['mode']>('evict', 'force', 'keep-alive'),
        fc.boolean(),
        fc.boolean(),
        (timeout, blockedPasses, sinceLast, mode, pastDeadline, open) => {
          const every = heartbeatEverySeconds(timeout);
          const nextHeartbeatAt = new Date(now.getTime() + Math.max(0, every - sinceLast) * 1000);
          const d = decidePass({ ...base, mode, consecutiveBlocked: blockedPasses, actionOpen: open, nextHeartbeatAt, ...(mode === 'keep-alive' ? { progress: undefined } : {}), ...(pastDeadline ? past : {}) });
          assert.ok(d.waitSeconds >= 1);
          assert.ok(d.waitSeconds <= Math.max(1, Math.ceil((nextHeartbeatAt.getTime() - now.getTime()) / 1000)), `wait ${d.waitSeconds} s, heartbeat due in ${every - sinceLast} s`);
          assert.ok(d.waitSeconds <= HOLD_MAX_WAIT_SECONDS);
        },
      ),
      { numRuns: 10_000 },
    );
    // the longest hold: the global timeout (48 h) at the longest wait a hold can reach
    const holdPasses = (48 * 3600) / decidePass({ ...base, ...past, actionOpen: true, consecutiveBlocked: 40 }).waitSeconds;
    assert.ok(holdPasses <= 600, `${holdPasses} passes`);
  });
});

describe('readNodeGroupPolicy', () => {
  it('defaults like EKS managed node groups: 15 minutes, then fail', () => {
    assert.deepEqual(readNodeGroupPolicy({}), { policy: DEFAULT_POLICY, problems: [], rejected: [] });
  });
  it('reads the tags', () => {
    const { policy, problems } = readNodeGroupPolicy({
      'eks-node-lifecycle/drain-timeout': '3h',
      'eks-node-lifecycle/on-drain-timeout': 'force',
      'eks-node-lifecycle/max-grace-period': '2m',
      'eks-node-lifecycle/rebalance': 'drain',
      'eks-node-lifecycle/drain': 'on',
      'eks-node-lifecycle/rollout': 'approve',
      'eks-node-lifecycle/terminate-hook': 'drain log/flush',
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(policy, {
      drain: { drainTimeoutSeconds: 10_800, onDrainTimeout: 'force', maxGracePeriodSeconds: 120 },
      installTerminateHook: true,
      onRebalance: 'drain',
      rollout: 'approve',
      kubernetesVersion: 'pinned',
      hooks: { launch: [], terminate: ['drain', 'log/flush'] },
    });
  });
  it('ignores rebalance recommendations unless the group asks (a recommendation is not an interruption)', () => {
    assert.equal(readNodeGroupPolicy({}).policy.onRebalance, 'ignore');
  });
  it('keeps the default and reports a malformed value instead of failing the drain', () => {
    const { policy, problems, rejected } = readNodeGroupPolicy({ 'eks-node-lifecycle/drain-timeout': 'soon', 'eks-node-lifecycle/on-drain-timeout': 'panic' });
    assert.deepEqual(rejected, ['drain-timeout', 'on-drain-timeout'], 'the keys whose tag was not used');
    assert.equal(policy.drain.drainTimeoutSeconds, 900);
    assert.equal(policy.drain.onDrainTimeout, 'fail');
    assert.equal(problems.length, 2);
  });
  it('parses durations', () => {
    assert.equal(parseDurationSeconds('1h30m'), 5400);
    assert.equal(parseDurationSeconds('90s'), 90);
    assert.equal(parseDurationSeconds('7d'), 604_800);
    assert.equal(parseDurationSeconds('15'), undefined);
    assert.equal(parseDurationSeconds('m15'), undefined);
  });
});

describe('planTerminateHooks', () => {
  const owned = { 'kubernetes.io/cluster/prod': 'owned', 'eks-node-lifecycle/drain': 'on' };
  it('installs the hook only on opted-in self-managed groups of managed clusters that have none the service may answer', () => {
    const plan = planTerminateHooks(
      [
        { name: 'a', tags: owned, terminateHooks: [] },
        { name: 'b', tags: owned, terminateHooks: ['eks-node-lifecycle-drain'] },
        { name: 'c', tags: { ...owned, 'eks:nodegroup-name': 'web' }, terminateHooks: [] },
        { name: 'd', tags: { 'kubernetes.io/cluster/dev': 'owned', 'eks-node-lifecycle/drain': 'on' }, terminateHooks: [] },
        { name: 'e', tags: { 'kubernetes.io/cluster/prod': 'owned' }, terminateHooks: [] },
        // another tool's hook is not a drain hook; one the group names as the service's is
        { name: 'f', tags: owned, terminateHooks: ['log-shipper-flush'] },
        { name: 'g', tags: { ...owned, 'eks-node-lifecycle/terminate-hook': 'drain' }, terminateHooks: ['drain', 'log-shipper-flush'] },
        { name: 'h', tags: { ...owned, 'eks-node-lifecycle/drain': 'On' }, terminateHooks: [] },
      ],
      ['prod'],
    );
    assert.deepEqual(plan.map((p) => `${p.group}:${p.action}`), ['a:install', 'b:skip', 'c:skip', 'd:skip', 'e:skip', 'f:install', 'g:skip', 'h:install']);
  });
});
