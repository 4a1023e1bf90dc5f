import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { before, describe, it } from 'node:test';
import { METRIC_NAMES } from '../../shared/metrics/metrics.js';
import { loadServerlessModel } from '@eks-node-lifecycle/sandbox';
import { type CloudFormationTemplate, PACKAGE_STAGE, packageService, packageWithParams } from './packaged-service.js';

const { SERVICE_ALARMS } = createRequire(import.meta.url)('../../scripts/deploy/monitoring.cjs') as { SERVICE_ALARMS: { id: string; metric: string; dimension: [string, string] }[] };

type Resources = CloudFormationTemplate['Resources'];
const ofType = (resources: Resources, type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const model = loadServerlessModel({ stage: PACKAGE_STAGE, region: 'eu-west-1', params: { managedClusters: '*' } });
const logicalIdOf = (key: string) => `${key[0]!.toUpperCase()}${key.slice(1)}LambdaFunction`;

/** The metrics an alarm reads: `[namespace, name, dimensions]` of its metric or of each metric-math input. */
function metricsOf(alarm: Resources[string]): [string, string, Record<string, unknown>][] {
  const p = alarm.Properties;
  const dims = (d: { Name: string; Value: unknown }[] = []) => Object.fromEntries(d.map((x) => [x.Name, x.Value]));
  if (p.MetricName) return [[p.Namespace, p.MetricName, dims(p.Dimensions)]];
  return (p.Metrics as any[]).filter((m) => m.MetricStat).map((m) => [m.MetricStat.Metric.Namespace, m.MetricStat.Metric.MetricName, dims(m.MetricStat.Metric.Dimensions)]);
}

describe('Deployable package: monitoring (alarms, alarm topic, dashboard, logs, tracing) and data kept', () => {
  let resources: Resources;
  let outputs: Record<string, any>;
  before(async () => {
    const { template } = await packageService();
    resources = template.Resources;
    outputs = template['Outputs'] as Record<string, any>;
  });

  it('creates the alarm topic when none is given, and every alarm notifies it (alarm and recovery)', () => {
    assert.equal(resources['AlarmTopic']?.Type, 'AWS::SNS::Topic');
    assert.deepEqual(outputs['AlarmTopicArn'].Value, { Ref: 'AlarmTopic' });
    const alarms = ofType(resources, 'AWS::CloudWatch::Alarm');
    assert.ok(alarms.length > 0);
    for (const [id, alarm] of alarms) {
      assert.deepEqual(alarm.Properties.AlarmActions, [{ Ref: 'AlarmTopic' }], id);
      assert.deepEqual(alarm.Properties.OKActions, [{ Ref: 'AlarmTopic' }], id);
      assert.match(alarm.Properties.AlarmName, /^eks-node-lifecycle-ci-/, id);
      assert.ok(alarm.Properties.AlarmDescription.length > 20, `${id} says what to do`);
    }
  });

  it('pages on the failed-events queue, on any failed or timed-out execution of each state machine, and on each function erroring or throttled', () => {
    const read = ofType(resources, 'AWS::CloudWatch::Alarm').map(([id, a]) => ({ id, metrics: metricsOf(a) }));
    const reading = (namespace: string, name: string, dimension: string, value: unknown) => read.filter((a) => a.metrics.some(([ns, n, d]) => ns === namespace && n === name && JSON.stringify(d[dimension]) === JSON.stringify(value)));
    assert.equal(reading('AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', { 'Fn::GetAtt': ['FailedEventsQueue', 'QueueName'] }).length, 1);
    assert.ok(model.stateMachines.length >= 3);
    for (const machine of model.stateMachines) {
      for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) assert.equal(reading('AWS/States', metric, 'StateMachineArn', { Ref: machine.id }).length, 1, `${machine.id} ${metric}`);
    }
    assert.ok(model.functions.length >= 22);
    for (const fn of model.functions) {
      for (const metric of ['Errors', 'Throttles']) assert.equal(reading('AWS/Lambda', metric, 'FunctionName', { Ref: logicalIdOf(fn.key) }).length, 1, `${fn.key} ${metric}`);
    }
  });

  it('pages on the service\'s own failures: a drain failed, a rollout rolled back or could not, a node abandoned', () => {
    for (const a of SERVICE_ALARMS) {
      const alarm = resources[`${a.id}Alarm`]!;
      assert.ok((METRIC_NAMES as readonly string[]).includes(a.metric), `${a.metric} is a metric the service records`);
      assert.deepEqual(metricsOf(alarm), [[`EksNodeLifecycle/${PACKAGE_STAGE}`, a.metric, { service: 'eks-node-lifecycle', [a.dimension[0]]: a.dimension[1] }]]);
    }
    assert.deepEqual(SERVICE_ALARMS.map((a) => a.dimension[1]), ['failed', 'rolled-back', 'rollback-failed', 'ABANDON']);
  });

  it('writes the metrics to the namespace the alarms read', () => {
    for (const fn of model.functions) assert.equal(resources[logicalIdOf(fn.key)]!.Properties.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE, `EksNodeLifecycle/${PACKAGE_STAGE}`, fn.key);
  });

  it('has a dashboard with every metric the service records, and valid JSON once CloudFormation substitutes it', () => {
    const body = resources['Dashboard']!.Properties.DashboardBody['Fn::Sub'][0] as string;
    const substituted = body.replace(/\$\{[A-Za-z0-9:.]+\}/g, 'x');
    const dashboard = JSON.parse(substituted) as { widgets: { properties: { metrics: unknown[] } }[] };
    const text = JSON.stringify(dashboard);
    for (const name of METRIC_NAMES) assert.ok(text.includes(`"${name}"`) || text.includes(`\\"${name}\\"`), `the dashboard shows ${name}`);
    for (const referenced of body.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}/g)) {
      if (referenced[1] !== 'AWS') assert.ok(resources[referenced[1]!], `the dashboard refers to ${referenced[1]}, a resource of the template`);
    }
  });

  it('logs the state machines at ERROR, without execution data, to a log group with the stack\'s retention; no tracing unless asked', () => {
    const group = resources['StateMachinesLogGroup']!;
    assert.equal(group.Properties.LogGroupName, `/aws/vendedlogs/states/eks-node-lifecycle-${PACKAGE_STAGE}`);
    assert.equal(group.Properties.RetentionInDays, 30);
    for (const machine of model.stateMachines) {
      const p = resources[machine.id]!.Properties;
      assert.deepEqual(p.LoggingConfiguration, { Level: 'ERROR', IncludeExecutionData: false, Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': ['StateMachinesLogGroup', 'Arn'] } } }] });
      assert.equal(p.TracingConfiguration, undefined);
    }
    for (const fn of model.functions) assert.equal(resources[logicalIdOf(fn.key)]!.Properties.TracingConfig, undefined);
    assert.ok(!JSON.stringify(resources).includes('xray:'), 'no role holds X-Ray permissions it does not use');
  });

  it('keeps the tables (the audit trail, locks, drain records, promotions and freezes) when the stack is removed or a table replaced', () => {
    const tables = ofType(resources, 'AWS::DynamoDB::Table');
    assert.deepEqual(tables.map(([id]) => id).sort(), ['ChatopsTable', 'DrainsTable', 'FleetTable', 'RolloutsTable']);
    for (const [id, t] of tables) {
      assert.equal((t as any).DeletionPolicy, 'Retain', id);
      assert.equal((t as any).UpdateReplacePolicy, 'Retain', id);
      assert.equal(t.Properties.DeletionProtectionEnabled, true, id);
      assert.equal(t.Properties.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled, true, id);
    }
  });

  it('caps the concurrency of the public chat entries and of what a flood of images could fan out', () => {
    for (const key of ['chatSlack', 'chatWorker', 'chatInvoke', 'chatApi', 'screenImageEvent', 'detectStaleGroups']) assert.ok(Number(resources[logicalIdOf(key)]!.Properties.ReservedConcurrentExecutions) > 0, key);
  });
});

describe('Deployable package: monitoring params', () => {
  it('notifies an existing topic when given one (and creates none), and traces everything with X-Ray when asked', async () => {
    const topic = 'arn:aws:sns:eu-west-1:123456789012:platform-pager';
    const out = await packageWithParams({ alarmTopicArn: topic, tracing: 'true' });
    assert.ok(out.ok, out.ok ? '' : out.output);
    const resources = out.template.Resources;
    assert.equal(resources['AlarmTopic'], undefined);
    for (const [id, alarm] of ofType(resources, 'AWS::CloudWatch::Alarm')) assert.deepEqual(alarm.Properties.AlarmActions, [topic], id);
    for (const fn of model.functions) {
      const lambda = resources[logicalIdOf(fn.key)]!;
      assert.deepEqual(lambda.Properties.TracingConfig, { Mode: 'Active' }, fn.key);
      const role = resources[lambda.Properties.Role['Fn::GetAtt'][0]]!;
      assert.deepEqual(role.Properties.ManagedPolicyArns, [{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess' }], fn.key);
    }
    for (const machine of model.stateMachines) {
      assert.deepEqual(resources[machine.id]!.Properties.TracingConfiguration, { Enabled: true });
      assert.ok(JSON.stringify(resources[`${machine.id}Role`]!.Properties.Policies).includes('xray:PutTraceSegments'), machine.id);
    }
  });

  it('refuses an alarm topic that is not an SNS topic ARN, and a tracing value that is not true or false', async () => {
    const topic = await packageWithParams({ alarmTopicArn: 'platform-pager' });
    assert.equal(topic.ok, false);
    assert.match(topic.ok ? '' : topic.output, /alarmTopicArn must be an SNS topic ARN/);
    const tracing = await packageWithParams({ tracing: 'yes' });
    assert.equal(tracing.ok, false);
    assert.match(tracing.ok ? '' : tracing.output, /tracing must be 'true' or 'false'/);
  });
});
