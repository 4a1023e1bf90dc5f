'use strict';

/**
 * The stack's alarms, alarm topic and dashboard, added to the compiled template at package
 * time — written here rather than in serverless.yml because they follow the functions and
 * state machines the file declares (a new function gets its alarm without anyone
 * remembering to write one).
 *
 * What pages (every alarm → the SNS topic of `alarmTopicArn`, or one the stack creates):
 * - the failed-events queue is not empty: an event a function could not handle after Lambda's
 *   retries is waiting to be inspected and redriven (AWS/SQS ApproximateNumberOfMessagesVisible);
 * - any execution of a state machine failed or timed out (AWS/States ExecutionsFailed +
 *   ExecutionsTimedOut, per StateMachineArn);
 * - a function errors or is throttled in three 5-minute periods running (AWS/Lambda Errors +
 *   Throttles): Step Functions retries a task's transient errors, so one failed attempt is no
 *   page; errors that last are (and an execution that fails pages through its own alarm);
 * - a drain failed, a rollout rolled back, a new node was abandoned (the service's metrics,
 *   namespace `EksNodeLifecycle/<stage>`, see shared/metrics/metrics.ts).
 *
 * Metric names, statistics and dimensions:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/aws-services-cloudwatch-metrics.html,
 * https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html,
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html,
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html.
 */

const PERIOD = 300;

/** The service's metrics that page, with the dimension value that means trouble (see shared/metrics/metrics.ts). */
const SERVICE_ALARMS = [
  { id: 'DrainsFailed', metric: 'DrainsFinished', dimension: ['outcome', 'failed'], what: 'a node drain failed: the node is cordoned and its lifecycle actions are left to their default result (see the Node Drain Finished event)' },
  { id: 'RolloutsRolledBack', metric: 'RolloutsEnded', dimension: ['outcome', 'rolled-back'], what: 'a rollout rolled back: a batch was unhealthy on the new image (see the Rollout Rolled Back event)' },
  { id: 'RolloutRollbacksFailed', metric: 'RolloutsEnded', dimension: ['outcome', 'rollback-failed'], what: 'a rollout could not roll back: the group needs a person (see the Rollout Rollback Failed event)' },
  { id: 'NodeJoinsAbandoned', metric: 'NodeJoins', dimension: ['result', 'ABANDON'], what: 'a new instance did not become a Ready node in time and its launch was abandoned' },
];

class Monitoring {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.addMonitoring() };
  }

  addMonitoring() {
    const service = this.serverless.service;
    const template = service.provider.compiledCloudFormationTemplate;
    const naming = this.serverless.getProvider('aws').naming;
    const stage = this.serverless.getProvider('aws').getStage();
    const settings = service.custom?.monitoring ?? {};
    const topicArn = String(settings.alarmTopicArn ?? '').trim();
    const namespace = `EksNodeLifecycle/${stage}`;
    const prefix = `${service.service}-${stage}`;
    const resources = template.Resources;
    const outputs = (template.Outputs ??= {});

    let alarmActions;
    if (topicArn === '') {
      resources.AlarmTopic = {
        Type: 'AWS::SNS::Topic',
        Properties: { TopicName: `${prefix}-alarms`, DisplayName: `${prefix} alarms` },
      };
      alarmActions = [{ Ref: 'AlarmTopic' }];
      outputs.AlarmTopicArn = { Description: 'SNS topic the alarms notify: subscribe your pager or email to it', Value: { Ref: 'AlarmTopic' } };
    } else {
      if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/.test(topicArn)) {
        throw new this.serverless.classes.Error(`alarmTopicArn must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), not "${topicArn}"`, 'INVALID_ALARM_TOPIC');
      }
      alarmActions = [topicArn];
      outputs.AlarmTopicArn = { Description: 'SNS topic the alarms notify (given by alarmTopicArn)', Value: topicArn };
    }
    const alarm = (id, properties) => {
      resources[id] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: { AlarmName: `${prefix}-${id}`, ActionsEnabled: true, AlarmActions: alarmActions, OKActions: alarmActions, TreatMissingData: 'notBreaching', ...properties },
      };
    };
    const sum = (metricNamespace, metricName, dimensions, id) => ({
      Id: id,
      ReturnData: false,
      MetricStat: { Metric: { Namespace: metricNamespace, MetricName: metricName, Dimensions: dimensions }, Period: PERIOD, Stat: 'Sum' },
    });

    alarm('FailedEventsQueueNotEmptyAlarm', {
      AlarmDescription: 'Events a function could not handle after Lambda retries are waiting in the failed-events queue: inspect and redrive them (README "Operations").',
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['FailedEventsQueue', 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: PERIOD,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });

    /** An alarm on the sum of two metrics of one resource, over `periods` 5-minute periods running. */
    const sumOfTwo = (id, description, namespace, dimensions, [a, b], label, periods) =>
      alarm(id, {
        AlarmDescription: description,
        Metrics: [sum(namespace, a, dimensions, 'a'), sum(namespace, b, dimensions, 'b'), { Id: 'total', Expression: 'a + b', Label: label, ReturnData: true }],
        EvaluationPeriods: periods,
        DatapointsToAlarm: periods,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });

    const machines = Object.values(service.stepFunctions?.stateMachines ?? {});
    for (const machine of machines) {
      const description = `An execution of ${machine.name} failed or timed out: open it in the Step Functions console (its history says which step and why).`;
      sumOfTwo(`${machine.id}ExecutionsFailedAlarm`, description, 'AWS/States', [{ Name: 'StateMachineArn', Value: { Ref: machine.id } }], ['ExecutionsFailed', 'ExecutionsTimedOut'], 'failed or timed out', 1);
    }

    const functions = service.getAllFunctions();
    for (const name of functions) {
      const logicalId = naming.getLambdaLogicalId(name);
      const description = `${name} has errored or been throttled in three 5-minute periods running: see its logs (errors) or its reserved concurrency (throttles).`;
      sumOfTwo(`${logicalId}ErrorsAlarm`, description, 'AWS/Lambda', [{ Name: 'FunctionName', Value: { Ref: logicalId } }], ['Errors', 'Throttles'], 'errors and throttles', 3);
    }

    for (const a of SERVICE_ALARMS) {
      alarm(`${a.id}Alarm`, {
        AlarmDescription: `${a.what}.`,
        Namespace: namespace,
        MetricName: a.metric,
        Dimensions: [{ Name: 'service', Value: 'eks-node-lifecycle' }, { Name: a.dimension[0], Value: a.dimension[1] }],
        Statistic: 'Sum',
        Period: PERIOD,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }

    // the roles of serverless.yml's resources join the template after this hook (package:finalize merges them)
    const declared = { ...(service.resources?.Resources ?? {}), ...resources };
    if (String(settings.tracing ?? 'false').trim() === 'true') addTracing(declared, functions.map((f) => naming.getLambdaLogicalId(f)), machines.map((m) => m.id));
    else if (String(settings.tracing ?? 'false').trim() !== 'false') throw new this.serverless.classes.Error(`tracing must be 'true' or 'false', not "${settings.tracing}"`, 'INVALID_TRACING');

    resources.Dashboard = {
      Type: 'AWS::CloudWatch::Dashboard',
      Properties: {
        DashboardName: prefix,
        DashboardBody: { 'Fn::Sub': [JSON.stringify(dashboard({ namespace, machines, functions: functions.map((f) => service.getFunction(f).name) })), {}] },
      },
    };
    outputs.DashboardName = { Description: 'CloudWatch dashboard of the service', Value: prefix };
  }
}

/**
 * X-Ray active tracing (the `tracing` param): each function traced, with the AWS managed
 * policy for writing segments on its role; each state machine traced, with the X-Ray
 * actions on its role (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-xray-tracing.html,
 * https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html). Off, nothing is added:
 * no role holds X-Ray permissions it does not use.
 */
function addTracing(resources, functionIds, machineIds) {
  const xrayWrite = { 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess' };
  for (const id of functionIds) {
    const fn = resources[id];
    fn.Properties.TracingConfig = { Mode: 'Active' };
    const roleId = fn.Properties.Role?.['Fn::GetAtt']?.[0];
    const role = roleId && resources[roleId];
    if (role) role.Properties.ManagedPolicyArns = [...(role.Properties.ManagedPolicyArns ?? []), xrayWrite];
  }
  for (const id of machineIds) {
    resources[id].Properties.TracingConfiguration = { Enabled: true };
    const role = resources[`${id}Role`];
    role?.Properties.Policies.push({
      PolicyName: 'xray-tracing',
      PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'], Resource: '*' }] },
    });
  }
}

/** The dashboard body: the service's metrics first (what operators ask), then the platform's. */
function dashboard({ namespace, machines, functions }) {
  const search = (metric, dimension, stat) => ({ expression: `SEARCH('{${namespace},service,${dimension}} MetricName="${metric}"', '${stat}', ${PERIOD})`, label: '' });
  const widget = (title, metrics, extra = {}) => ({ type: 'metric', width: 12, height: 6, properties: { title, region: '${AWS::Region}', view: 'timeSeries', stacked: false, period: PERIOD, metrics, ...extra } });
  const expression = (e) => [e];
  const widgets = [
    widget('Drains by outcome', [expression(search('DrainsFinished', 'outcome', 'Sum'))]),
    widget('Drain duration (s), p50 and p90', [expression(search('DrainDuration', 'outcome', 'p50')), expression(search('DrainDuration', 'outcome', 'p90'))]),
    widget('Evictions refused by a PodDisruptionBudget, pods forced', [[namespace, 'EvictionsRefusedByBudget', 'service', 'eks-node-lifecycle', { stat: 'Sum' }], [namespace, 'PodsForced', 'service', 'eks-node-lifecycle', { stat: 'Sum' }]]),
    widget('Rollouts by outcome', [expression(search('RolloutsEnded', 'outcome', 'Sum'))]),
    widget('Rollout duration (s) by outcome, p50 and max', [expression(search('RolloutDuration', 'outcome', 'p50')), expression(search('RolloutDuration', 'outcome', 'Maximum'))]),
    widget('Nodes replaced by rollouts', [[namespace, 'NodesReplaced', 'service', 'eks-node-lifecycle', { stat: 'Sum' }]]),
    widget('Time rollouts waited (s): window, approval', [expression(search('RolloutWait', 'reason', 'Maximum'))]),
    widget('Stale node groups found by detection, by reason', [expression(search('StaleGroups', 'reason', 'Maximum'))]),
    widget('Node joins by result', [expression(search('NodeJoins', 'result', 'Sum'))]),
    widget('Time to Ready of new nodes (s), p50 and p90', [[namespace, 'TimeToReady', 'service', 'eks-node-lifecycle', { stat: 'p50' }], ['...', { stat: 'p90' }]]),
    widget('Chat and CLI commands by outcome', [expression(search('ChatCommands', 'outcome', 'Sum'))]),
    widget('Step Functions: failed, timed out, aborted executions', machines.flatMap((m) => ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'].map((metric) => ['AWS/States', metric, 'StateMachineArn', `\${${m.id}}`, { stat: 'Sum', label: `${m.name} ${metric}` }]))),
    widget('Lambda errors and throttles', functions.flatMap((f) => [['AWS/Lambda', 'Errors', 'FunctionName', f, { stat: 'Sum' }], ['AWS/Lambda', 'Throttles', 'FunctionName', f, { stat: 'Sum' }]])),
    widget('Failed-events queue depth', [['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', '${FailedEventsQueue.QueueName}', { stat: 'Maximum' }]]),
  ];
  widgets.forEach((w, i) => Object.assign(w, { x: (i % 2) * 12, y: Math.floor(i / 2) * 6 }));
  return { widgets };
}

module.exports = Monitoring;
module.exports.SERVICE_ALARMS = SERVICE_ALARMS;
