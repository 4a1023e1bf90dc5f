import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseInput } from '../../functions/lib/handler.js';
import * as z from 'zod/mini';
import { MAX_INPUT_DEPTH } from '../../shared/schema-issues.js';
import { loadServiceConfig } from '../../shared/config/service-config.js';
import { ConfigurationError, InvalidInputError } from '../../shared/errors.js';
import { DrainTriggerSchema } from '../../shared/events/drain.js';
import { InstanceStateChangeEventSchema } from '../../shared/events/instance-state-change.js';
import { LaunchLifecycleActionEventSchema } from '../../shared/events/lifecycle-action.js';

const sample = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../events/${name}.json`, import.meta.url), 'utf8'));
const stateChange = sample('ec2-instance-state-change-running');
const launchHook = sample('autoscaling-launch-lifecycle-action');

/** The issues parseInput reports, or a failure when the input is accepted. */
function issuesOf(schema: Parameters<typeof parseInput>[0], event: unknown): InvalidInputError['issues'] {
  try {
    parseInput(schema, event);
  } catch (error) {
    assert.ok(error instanceof InvalidInputError, `expected InvalidInputError, got ${String(error)}`);
    return error.issues;
  }
  assert.fail('expected the input to be refused');
}

describe('Envelope: EventBridge', () => {
  it('accepts the sample events as they are, adding and dropping nothing', () => {
    // Prepare / Act
    const state = parseInput(InstanceStateChangeEventSchema, stateChange);
    const launch = parseInput(LaunchLifecycleActionEventSchema, launchHook);
    // Assess
    assert.deepEqual(state, stateChange);
    assert.deepEqual(launch, launchHook);
  });

  it('accepts the replay name EventBridge adds to an archive replay, and only as a string', () => {
    assert.equal(parseInput(InstanceStateChangeEventSchema, { ...stateChange, 'replay-name': 'r1' })['replay-name'], 'r1');
    assert.deepEqual(issuesOf(InstanceStateChangeEventSchema, { ...stateChange, 'replay-name': 7 }), [
      { path: 'replay-name', message: 'Invalid input: expected string, received number' },
    ]);
  });

  const missing: [field: string, message: string][] = [
    ['version', 'Invalid input: expected string, received undefined'],
    ['id', 'Invalid input: expected string, received undefined'],
    ['source', 'Invalid input: expected "aws.ec2"'],
    ['account', 'Invalid input: expected string, received undefined'],
    ['time', 'Invalid input: expected string, received undefined'],
    ['region', 'Invalid input: expected string, received undefined'],
    ['resources', 'Invalid input: expected array, received undefined'],
    ['detail-type', 'Invalid input: expected "EC2 Instance State-change Notification"'],
    ['detail', 'Invalid input: expected object, received undefined'],
  ];
  for (const [field, message] of missing) {
    it(`throws if ${field} is missing, naming it`, () => {
      const { [field]: _, ...event } = stateChange;
      assert.deepEqual(issuesOf(InstanceStateChangeEventSchema, event), [{ path: field, message }]);
    });
  }

  it('throws if time is not an ISO date-time', () => {
    assert.deepEqual(issuesOf(InstanceStateChangeEventSchema, { ...stateChange, time: 'yesterday' }), [{ path: 'time', message: 'Invalid ISO datetime' }]);
  });

  it('throws if a resource is not a string, naming its index', () => {
    assert.deepEqual(issuesOf(InstanceStateChangeEventSchema, { ...stateChange, resources: ['arn:aws:ec2:x', 3] }), [
      { path: 'resources.1', message: 'Invalid input: expected string, received number' },
    ]);
  });

  it('throws if the event is another kind (detail-type and source are fixed)', () => {
    assert.deepEqual(issuesOf(InstanceStateChangeEventSchema, { ...launchHook, detail: stateChange['detail'] }), [
      { path: 'source', message: 'Invalid input: expected "aws.ec2"' },
      { path: 'detail-type', message: 'Invalid input: expected "EC2 Instance State-change Notification"' },
    ]);
  });

  it('reports a malformed detail field by its full path, with the schema’s own words', () => {
    const event = { ...stateChange, detail: { 'instance-id': 'i-XYZ', state: 'exploded' } };
    assert.deepEqual(issuesOf(InstanceStateChangeEventSchema, event), [
      { path: 'detail.instance-id', message: 'must be an EC2 instance id (i-…)' },
      { path: 'detail.state', message: 'Invalid option: expected one of "pending"|"running"|"shutting-down"|"stopping"|"stopped"|"terminated"' },
    ]);
  });

  it('property: a required envelope field of the wrong type is reported at that field, never as a bare "Invalid input"', () => {
    const fields = ['version', 'id', 'account', 'region', 'time', 'resources'] as const;
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.dictionary(fc.string(), fc.string())), (field, value) => {
        const issues = issuesOf(InstanceStateChangeEventSchema, { ...stateChange, [field]: value });
        assert.equal(issues.length, 1);
        assert.equal(issues[0]!.path, field);
        assert.match(issues[0]!.message, /^Invalid input: expected (string|array), received \w+$/);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('Schema issues: what a person reads', () => {
  it('reports at most ten issues of an input that is wrong everywhere', () => {
    const issues = issuesOf(LaunchLifecycleActionEventSchema, { detail: { EC2InstanceId: 1, AutoScalingGroupName: 2, LifecycleHookName: 3, LifecycleActionToken: 4 } });
    assert.equal(issues.length, 10);
    assert.ok(issues.every((i) => i.path !== '' && !/^Invalid input$/.test(i.message)), JSON.stringify(issues));
  });

  it('refuses an input nested deeper than any event with a typed error, where a schema check would overflow the stack', () => {
    // Prepare: what the fuzzer found — an object where a string was expected, whose `length`
    // zod's maxLength check compares (an array is coerced to a primitive, recursively)
    const ChatInvokeSchema = z.strictObject({ command: z.string().check(z.maxLength(1000)) }); // chat-invoke's
    let deep: unknown = [];
    for (let i = 0; i < 5000; i++) deep = [deep];
    assert.throws(() => z.safeParse(ChatInvokeSchema, { command: { length: deep } }), RangeError, 'without the guard the schema itself overflows');
    // Act
    const issues = issuesOf(ChatInvokeSchema, { command: { length: deep } });
    // Assess
    assert.deepEqual(issues, [{ path: 'command.length.0', message: `nests deeper than ${MAX_INPUT_DEPTH} levels` }]);
    // …and at the limit it is the schema that answers
    let shallow: unknown = [];
    for (let i = 0; i < MAX_INPUT_DEPTH - 3; i++) shallow = [shallow]; // the event, command, length: 64 levels
    assert.deepEqual(issuesOf(ChatInvokeSchema, { command: { length: shallow } }), [{ path: 'command', message: 'Invalid input: expected string, received object' }]);
  });

  it('service configuration names each malformed variable with zod’s English message', () => {
    // Prepare
    const env = { AWS_REGION: '', MANAGED_CLUSTERS: ' ', NODE_JOIN_STATE_MACHINE_ARN: 'states:x', DRAIN_TABLE: 'ab', SLACK_API_URL: 'not a url' };
    // Act
    const error = (() => {
      try {
        loadServiceConfig(env);
      } catch (e) {
        return e;
      }
      assert.fail('expected a ConfigurationError');
    })();
    // Assess
    assert.ok(error instanceof ConfigurationError);
    assert.equal(
      error.message,
      'service configuration: AWS_REGION Too small: expected string to have >=1 characters; ' +
        'MANAGED_CLUSTERS must name the clusters this deployment looks after (prod,staging), or be * for every cluster of the account; ' +
        'NODE_JOIN_STATE_MACHINE_ARN Invalid string: must start with "arn:"; ' +
        'DRAIN_TABLE Too small: expected string to have >=3 characters; ' +
        'SLACK_API_URL Invalid URL',
    );
  });

  it('service configuration has no default for the managed clusters: * only when written', () => {
    assert.throws(() => loadServiceConfig({ AWS_REGION: 'eu-west-1' }), (e: Error) => e instanceof ConfigurationError && /MANAGED_CLUSTERS/.test(e.message));
    assert.deepEqual(loadServiceConfig({ AWS_REGION: 'eu-west-1', MANAGED_CLUSTERS: 'prod, staging' }).managedClusters, ['prod', 'staging']);
  });

  it('service configuration fills in the defaults', () => {
    const config = loadServiceConfig({ AWS_REGION: 'eu-west-1', MANAGED_CLUSTERS: '*' });
    assert.deepEqual(config.managedClusters, '*');
    assert.equal(config.chat.slackApiUrl, 'https://slack.com/api/');
    assert.deepEqual(config.chat.responseUrlPrefixes, ['https://hooks.slack.com/']);
    assert.equal(config.chat.defaultChannel, undefined);
  });
});

describe('Drain triggers: the documented samples, and refusals that name the field', () => {
  // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html, as printed (placeholders included)
  const spot = sample('ec2-spot-instance-interruption-warning');

  it('accepts the spot interruption sample of the AWS documentation as it stands', () => {
    const parsed = parseInput(DrainTriggerSchema, spot);
    assert.equal('detail-type' in parsed && parsed['detail-type'], 'EC2 Spot Instance Interruption Warning');
  });

  it('names the field of a spot warning that is wrong, not "Invalid input" at the root', () => {
    assert.deepEqual(issuesOf(DrainTriggerSchema, { ...spot, detail: { 'instance-id': 'node-7', 'instance-action': 'terminate' } }), [{ path: 'detail.instance-id', message: 'must be an EC2 instance id (i-…)' }]);
  });

  it('names the field that tells the triggers apart when it matches none', () => {
    const issues = issuesOf(DrainTriggerSchema, { ...spot, 'detail-type': 'EC2 Spot Instance Interruption Warnings' });
    assert.deepEqual(issues.map((i) => i.path), ['detail-type', 'kind']);
    assert.match(issues[0]!.message, /must be one of .*"EC2 Spot Instance Interruption Warning"/);
    assert.deepEqual(issuesOf(DrainTriggerSchema, { kind: 'manual-drain', cluster: 'prod', instanceId: 'i-0123456789abcdef0' }), [{ path: 'requestedBy', message: 'Invalid input: expected string, received undefined' }]);
  });

  it('never refuses a drain trigger without naming a field', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constant(spot), fc.constant({}), fc.object()), fc.string(), fc.jsonValue(), (base, key, value) => {
        const event = { ...(base as object), [key]: value };
        try {
          parseInput(DrainTriggerSchema, event);
        } catch (error) {
          assert.ok(error instanceof InvalidInputError);
          assert.ok(error.issues.every((i) => i.path !== ''), JSON.stringify(error.issues));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
