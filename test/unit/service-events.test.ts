import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod/mini';
import { parseInput } from '../../functions/lib/handler.js';
import { awsScope } from '../../shared/aws/clients.js';
import type { DrainRecords } from '../../shared/aws/drain-records.js';
import { CHAT_EVENT_TYPES, ChatEventSchema } from '../../shared/chatops/event-replies.js';
import { PROMOTION_PROGRESS } from '../../shared/events/promotion-events.js';
import { readNodeGroupConfig } from '../../shared/config/node-group-config.js';
import { announceProblems } from '../../shared/detect/announce-problems.js';
import { finishDrain } from '../../shared/drain/finish-drain.js';
import { reportDrainBlocked } from '../../shared/drain/report-blocked.js';
import { InvalidInputError } from '../../shared/errors.js';
import { CONFIGURATION_PROBLEM } from '../../shared/events/configuration.js';
import { DRAIN_BLOCKED, DRAIN_FINISHED } from '../../shared/events/drain-events.js';
import { FinishDrainInputSchema, ReportDrainBlockedInputSchema } from '../../shared/events/drain.js';
import { SERVICE_EVENT_SOURCE } from '../../shared/events/eventbridge.js';
import { MEMBER_UNREACHABLE } from '../../shared/events/member-unreachable.js';
import { OBSERVED_EVENTS } from '../../shared/events/observed.js';
import { FinishRolloutInputSchema, RequestApprovalInputSchema, RolloutOutcomeSchema } from '../../shared/events/rollout.js';
import { ROLLOUT_EVENTS, type RolloutEventName, type RolloutPhaseDetail } from '../../shared/events/rollout-events.js';
import { SERVICE_EVENT_SCHEMAS, isServiceDetailType } from '../../shared/events/service-events.js';
import { finishRollout } from '../../shared/rollout/finish-rollout.js';
import { requestApproval } from '../../shared/rollout/rollout-control.js';
import { rolloutNotifier } from '../../shared/rollout/rollout-events.js';

/**
 * The service's own events (events/service-events.ts): one schema per detail-type, the one its
 * publishers build their details with and the one chat parses them with. The publishers are
 * driven for real (their EventBridge client mocked) and what they put on the bus must parse;
 * a malformed detail is refused naming its field; chatNotify's rule delivers exactly the
 * detail-types chat reads.
 */

const NOW = new Date('2026-12-07T10:00:00.000Z');
const EXEC = 'arn:aws:states:eu-west-1:123456789012:execution:eks-node-lifecycle-dev-ami-rollout:prod-workers-ami-0fedcba9876543210';
const DRAIN_EXEC = 'arn:aws:states:eu-west-1:123456789012:execution:eks-node-lifecycle-dev-node-drain:i-0a1b2c3d4e5f60718-1';
const cluster = 'prod';
const group = { kind: 'self-managed' as const, name: 'workers', autoScalingGroup: 'workers' };
const target = { imageId: 'ami-0fedcba9876543210', imageName: 'amazon-eks-node-al2023-x86_64-standard-1.31-v20261201', release: '1.31.3-20261201', ownerId: '602401143452', ownerAlias: 'amazon' };
const log = () => undefined;

const eventbridge = mockClient(EventBridgeClient);
beforeEach(() => {
  eventbridge.reset();
  eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
});
afterEach(() => eventbridge.reset());

/** What the publishers put on the bus: detail-type and detail, as EventBridge has them. */
function published(): { detailType: string; detail: unknown; source: string }[] {
  return eventbridge.commandCalls(PutEventsCommand).flatMap((c) => (c.args[0].input.Entries ?? []).map((e) => ({ detailType: e.DetailType!, detail: JSON.parse(e.Detail!) as unknown, source: e.Source! })));
}

/** Each published event parses with the schema of its detail-type, and with chat's when chat reads it. */
function assertEachParses(events: ReturnType<typeof published>): void {
  assert.ok(events.length > 0, 'something was published');
  for (const { detailType, detail, source } of events) {
    assert.equal(source, SERVICE_EVENT_SOURCE);
    assert.ok(isServiceDetailType(detailType), `${detailType} has a schema`);
    const read = z.safeParse(SERVICE_EVENT_SCHEMAS[detailType], detail);
    assert.ok(read.success, `${detailType}: ${JSON.stringify(read.error?.issues)}\n${JSON.stringify(detail)}`);
    if ((CHAT_EVENT_TYPES as readonly string[]).includes(detailType)) parseInput(ChatEventSchema, envelope(detailType, detail));
  }
}

function envelope(detailType: string, detail: unknown) {
  return { version: '0', id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718', 'detail-type': detailType, source: SERVICE_EVENT_SOURCE, account: '123456789012', time: '2026-12-07T10:00:00Z', region: 'eu-west-1', resources: [], detail };
}

/** The issues parseInput reports for an input it must refuse. */
function refusal(input: unknown): InvalidInputError['issues'] {
  try {
    parseInput(ChatEventSchema, input);
  } catch (error) {
    assert.ok(error instanceof InvalidInputError, `expected InvalidInputError, got ${String(error)}`);
    return error.issues;
  }
  assert.fail('expected the event to be refused');
}

const notifier = (kind = 'self-managed') => rolloutNotifier(awsScope({ region: 'eu-west-1' }), { cluster, group: { kind, name: group.name }, target, executionArn: EXEC }, () => NOW);

describe('Service events: the catalog', () => {
  it('has one schema per rollout phase, whose phase is that one', () => {
    for (const [phase, detailType] of Object.entries(ROLLOUT_EVENTS)) {
      assert.ok(isServiceDetailType(detailType), detailType);
      assert.deepEqual((SERVICE_EVENT_SCHEMAS[detailType].shape.phase as z.ZodMiniLiteral<string>).def.values, [phase]);
    }
  });

  it('names every other detail-type the service publishes', () => {
    for (const detailType of [DRAIN_FINISHED, DRAIN_BLOCKED, CONFIGURATION_PROBLEM, MEMBER_UNREACHABLE, PROMOTION_PROGRESS, ...Object.values(OBSERVED_EVENTS)]) assert.ok(isServiceDetailType(detailType), detailType);
    assert.equal(Object.keys(SERVICE_EVENT_SCHEMAS).length, Object.keys(ROLLOUT_EVENTS).length + 5 + Object.keys(OBSERVED_EVENTS).length);
  });

  it("chatNotify's rule delivers exactly the service's detail-types chat reads (serverless.yml)", () => {
    const functions = (parseYaml(readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8')) as { functions: Record<string, { events: { eventBridge?: { pattern: Record<string, unknown[]> } }[] }> }).functions;
    const pattern = functions['chatNotify']!.events.map((e) => e.eventBridge?.pattern).find((p) => p?.['source']?.includes(SERVICE_EVENT_SOURCE))!;
    const delivered = (detailType: string) => pattern['detail-type']!.some((p) => (typeof p === 'string' ? p === detailType : detailType.startsWith((p as { prefix: string }).prefix)));
    const read = new Set<string>(CHAT_EVENT_TYPES);
    for (const detailType of Object.keys(SERVICE_EVENT_SCHEMAS)) assert.equal(delivered(detailType), read.has(detailType), detailType);
  });
});

describe('Service events: what each publisher emits, its schema accepts', () => {
  it('Rollout Failed, Declined and Rollback Failed from FinishRollout, whatever the step before found', async () => {
    const details = [undefined, null, 'rolled back: the health gate failed', { Error: 'LockLostError', Cause: JSON.stringify({ errorMessage: 'lost' }) }, { ok: false, summary: '1 of 5 checks failed', checks: [{ name: 'image-available', ok: false, detail: 'gone', fix: 'pick another' }] }];
    for (const outcome of RolloutOutcomeSchema.options) {
      for (const detail of details) {
        const input = FinishRolloutInputSchema.parse({ cluster, group, target, executionArn: EXEC, outcome, ...(detail === undefined ? {} : { detail }) });
        await finishRollout(input, { locks: { release: async () => ({ released: true, heldSince: '2026-12-07T09:00:00.000Z' }) } as never, notify: notifier(), now: () => NOW, log });
      }
    }
    const events = published();
    assert.deepEqual([...new Set(events.map((e) => e.detailType))].sort(), ['Rollout Declined', 'Rollout Failed', 'Rollout Rollback Failed']);
    assertEachParses(events);
  });

  it('Rollout Approval Requested from the approval gate, Rollout Approved from an approval\'s notifier', async () => {
    const input = RequestApprovalInputSchema.parse({ taskToken: 'AQCEAAAAKgAAAAMAAAAAAAAAA', cluster, group, target, from: { imageId: 'ami-0123456789abcdef0', release: '1.31.2-20261101' }, executionArn: EXEC, plan: { summary: 'prod/workers: 4 nodes, 1 at a time', batches: 4 }, startedBy: { kind: 'person', who: 'slack:T1:U1' } });
    await requestApproval(input, {
      locks: { setApprovalId: async () => undefined } as never,
      approvals: { createApproval: async () => ({ id: 'apr-0123456789ab', expiresAtIso: '2026-12-08T10:00:00.000Z' }) } as never,
      notify: notifier(),
      now: () => NOW,
      log,
    });
    // an approval knows its group and the label of its image, not the whole rollout (functions/lib/rollout-ports.ts)
    const approval = rolloutNotifier(awsScope({ region: 'eu-west-1' }), { cluster, group: { kind: 'node group', name: 'workers' }, target: { imageId: '1.31.3-20261201' }, executionArn: EXEC }, () => NOW);
    await approval('approved', { approvalId: 'apr-0123456789ab', approvedBy: 'slack:T1:U2', requestedAt: '2026-12-07T09:00:00.000Z', summary: 'prod/workers: approved by slack:T1:U2' });
    const events = published();
    assert.deepEqual(events.map((e) => e.detailType), ['Rollout Approval Requested', 'Rollout Approved']);
    assertEachParses(events);
    assert.ok(!JSON.stringify(events).includes('AQCEAAAA'), 'no task token on the bus');
  });

  it('every phase a roll announces, through the rollout notifier', async () => {
    // the details the roll step and the self-managed decisions hand to notify (roll-step.ts, decide-self-managed.ts)
    const forced = ['shop/web-1 (PodDisruptionBudget shop/web)'];
    const notices: { [P in RolloutEventName]?: RolloutPhaseDetail<P>[] } = {
      planned: [
        { batches: [{ canary: true, nodes: 1 }, { canary: false, nodes: 3 }], maxUnavailable: 3, strategy: 'surge', nodes: 4, problems: ['max-unavailable: "3x" is not a number'] },
        { strategy: 'eks-managed-update', summary: 'prod/workers: EKS managed node group update onto 1.31.3-20261201' },
        { strategy: 'instance-refresh', summary: 'prod/workers: instance refresh onto 1.31.3-20261201' },
      ],
      'canary-passed': [{ batch: 1, of: 4, replaced: 1, forced }],
      'batch-finished': [{ batch: 2, of: 4, replaced: 4 }],
      paused: [
        { afterBatch: 2 },
        { reason: 'interference', changes: ['desired capacity moved from 5 to 7'], message: 'desired moved; resume to go on from there (the change is kept), or abort' },
        { reason: 'window', opensAt: '2026-12-12T08:00:00.000Z', message: 'the window is closed' },
      ],
      resumed: [{ batch: 3, adopted: ['desired capacity moved from 5 to 7'] }],
      'rolling-back': [{ reason: 'health gate after batch 2 of 4: 1 node NotReady after 10 min' }],
      'rolled-back': [{ replaced: 2, remainingOld: 2, reason: 'health gate', forced }],
      aborted: [{ replaced: 2, remainingOld: 2, reason: 'stopped: the maintenance window is closed', adopted: ['min moved from 2 to 1'] }],
      finished: [{ replaced: 4, remainingOld: 0 }, { updateId: 'a1b2c3d4-0000-1111-2222-333344445555' }, {}],
      'rollback-failed': [{ reason: 'rollback could not drain the new nodes', left: ['desired capacity left at 5 (4 before the rollout): aws autoscaling …'], replaced: 2, forced }],
      failed: [
        { reason: 'LockLostError: lost' },
        { report: { updateId: 'u-1', status: 'Failed', errors: [{ code: 'PodEvictionFailure', message: 'Reached max retries', resourceIds: ['ip-10-0-1-23'] }], reasons: ['pods covered by shop/web allow no disruption'], blockers: [{ pod: 'shop/web-1', pdb: 'shop/web', disruptionsAllowed: 0 }], summary: 'The update of workers failed' }, summary: 'prod/workers: The update of workers failed' },
      ],
      declined: [{ reason: 'already-rolling', heldBy: EXEC, summary: 'prod/workers is already being rolled' }, { reason: 'outside its maintenance window', summary: 'prod/workers: rollout not started' }],
    };
    const notify = notifier();
    for (const [event, details] of Object.entries(notices) as [RolloutEventName, RolloutPhaseDetail<RolloutEventName>[]][]) for (const detail of details) await notify(event, detail);
    const events = published();
    assertEachParses(events);
    assert.ok(events.every((e) => typeof (e.detail as { summary?: unknown }).summary === 'string'), 'every rollout event has a summary');
  });

  it('Node Drain Finished from the drain\'s finish step, for every outcome', async () => {
    const records = { get: async () => undefined } as unknown as DrainRecords;
    for (const outcome of ['drained', 'forced', 'failed', 'node-gone'] as const) {
      const input = FinishDrainInputSchema.parse({
        cluster,
        instanceId: 'i-0a1b2c3d4e5f60718',
        nodeName: outcome === 'node-gone' ? null : 'ip-10-0-1-23.eu-west-1.compute.internal',
        trigger: 'rollout',
        startedAt: '2026-12-07T09:50:00.000Z',
        outcome,
        remaining: outcome === 'failed' ? 1 : 0,
        blockers: outcome === 'failed' ? [{ pod: 'shop/web-1', pdb: { namespace: 'shop', name: 'web', disruptionsAllowed: 0 }, message: 'Cannot evict pod' }] : [],
        forced: outcome === 'forced' ? [{ pod: 'shop/web-1', pdb: 'shop/web' }] : [],
        ...(outcome === 'failed' ? { error: { Error: 'DrainTimeoutError', Cause: 'deadline passed' } } : {}),
        executionInput: { rolloutExecutionArn: EXEC },
      });
      await finishDrain(input, { aws: awsScope({ region: 'eu-west-1' }), hub: awsScope({ region: 'eu-west-1' }), records, now: () => NOW, log });
    }
    const events = published();
    assert.deepEqual(events.map((e) => e.detailType), Array(4).fill(DRAIN_FINISHED));
    assertEachParses(events);
  });

  it('Node Drain Blocked from the step that reports a drain held past its deadline', async () => {
    const input = ReportDrainBlockedInputSchema.parse({
      cluster,
      instanceId: 'i-0a1b2c3d4e5f60718',
      nodeName: 'ip-10-0-1-23.eu-west-1.compute.internal',
      trigger: 'terminate-hook',
      startedAt: '2026-12-07T09:00:00.000Z',
      deadline: '2026-12-07T09:15:00.000Z',
      remaining: 1,
      blockers: [{ pod: 'bank/ledger-0', pdb: { namespace: 'bank', name: 'ledger', disruptionsAllowed: 0 }, message: 'Cannot evict pod' }],
      executionArn: DRAIN_EXEC,
    });
    await reportDrainBlocked(input, { hub: awsScope({ region: 'eu-west-1' }), now: () => NOW, log });
    assertEachParses(published());
  });

  it('Node Group Configuration Problem from detection\'s announcement', async () => {
    const events: { detailType: string; detail: unknown; source: string }[] = [];
    const { problems } = readNodeGroupConfig({ 'eks-node-lifecycle/max-unavialable': '2', 'eks-node-lifecycle/window': 'someday' });
    await announceProblems([{ group: { cluster, name: 'workers', kind: 'self-managed' }, problems }], {
      claim: async () => true,
      release: async () => undefined,
      publish: async (detailType, detail) => void events.push({ detailType, detail, source: SERVICE_EVENT_SOURCE }),
      log,
    });
    assert.equal(events.length, 2);
    assertEachParses(events);
  });
});

describe('Service events: a detail its schema refuses is an InvalidInputError naming the field', () => {
  const planned = { cluster, group: 'workers', groupKind: 'self-managed', target, executionArn: EXEC, phase: 'planned', at: NOW.toISOString(), strategy: 'surge', nodes: 4 };

  it('accepts a well-formed one', () => {
    assert.equal(parseInput(ChatEventSchema, envelope('Rollout Planned', planned))['detail-type'], 'Rollout Planned');
  });

  const cases: [what: string, event: unknown, path: string][] = [
    ['a rollout event without its cluster', envelope('Rollout Planned', { ...planned, cluster: undefined }), 'detail.cluster'],
    ['a rollout event whose phase is another one', envelope('Rollout Finished', planned), 'detail.phase'],
    ['a count that is not a whole number', envelope('Rollout Planned', { ...planned, nodes: 2.5 }), 'detail.nodes'],
    ['an unknown outcome', envelope('Rollout Failed', { ...planned, phase: 'failed', outcome: 'exploded' }), 'detail.outcome'],
    ['a drain without its instance', envelope(DRAIN_FINISHED, { cluster, nodeName: null, trigger: 'manual', outcome: 'drained' }), 'detail.instanceId'],
    ['a blocker whose budget is a string', envelope(DRAIN_BLOCKED, { cluster, instanceId: 'i-0a1b2c3d4e5f60718', nodeName: null, blockers: [{ pod: 'a/b', pdb: 'a/b', message: '' }] }), 'detail.blockers.0.pdb'],
    ['an observe mode report that is not one', envelope(OBSERVED_EVENTS.hooks, { mode: 'act', observedBy: 'service', wouldDo: [], summary: '', at: NOW.toISOString(), groups: [] }), 'detail.mode'],
    ['a detail-type chat does not read', envelope(CONFIGURATION_PROBLEM, {}), 'detail-type'],
    ['another source', { ...envelope('Rollout Planned', planned), source: 'acme.rollouts' }, 'source'],
  ];
  for (const [what, event, path] of cases) {
    it(`refuses ${what}, naming ${path}`, () => {
      assert.deepEqual(refusal(event).map((i) => i.path), [path]);
    });
  }
});
