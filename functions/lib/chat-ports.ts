import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { callAws } from '../../shared/aws/call.js';
import { awsScope } from '../../shared/aws/clients.js';
import { AuditLog } from '../../shared/chatops/audit-log.js';
import { RequestGuards } from '../../shared/chatops/request-guards.js';
import type { CommandPorts } from '../../shared/chatops/run-command.js';
import { now, sleep } from '../../shared/clock.js';
import { requireSetting, type ServiceConfig } from '../../shared/config/service-config.js';
import type { RequestDrainOutcome } from '../../shared/drain/request-drain.js';
import type { UncordonOutcome } from '../../shared/drain/uncordon-node.js';
import type { ManualDrainRequest, ManualUncordonRequest } from '../../shared/events/drain.js';
import type { ClusterProbe } from '../../shared/doctor/probe-cluster.js';
import { accessPolicySource } from './access-policy-source.js';
import { logInfo } from './handler.js';
import { rolloutPorts } from './rollout-ports.js';

/** Invokes a function and returns its result; a function error is rethrown with its errorType as name. */
export async function invokeFunction<T>(lambda: LambdaClient, functionName: string, payload: unknown): Promise<T> {
  const out = await callAws('lambda:Invoke', () => lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: new TextEncoder().encode(JSON.stringify(payload)) })));
  const body = out.Payload ? JSON.parse(new TextDecoder().decode(out.Payload)) : null;
  if (out.FunctionError) {
    const e = body as { errorType?: string; errorMessage?: string } | null;
    throw Object.assign(new Error(e?.errorMessage ?? 'function error'), { name: e?.errorType ?? 'Lambda.FunctionError' });
  }
  return body as T;
}

/** What the chat commands need (chatWorker, chatInvoke), built once per cold start. */
export function chatPorts(config: ServiceConfig): CommandPorts {
  const region = config.region;
  const rollouts = rolloutPorts(config);
  const ssm = new SSMClient({ region });
  const lambda = new LambdaClient({ region });
  const eks = new EKSClient({ region });
  const ec2 = new EC2Client({ region });
  const aws = awsScope({ region });
  const chatopsTable = requireSetting(config.chatopsTable, 'CHATOPS_TABLE');
  const requestDrainFunction = requireSetting(config.chat.requestDrainFunction, 'REQUEST_DRAIN_FUNCTION');
  const doctorProbeFunction = requireSetting(config.chat.doctorProbeFunction, 'DOCTOR_PROBE_FUNCTION');
  return {
    policy: accessPolicySource(ssm, requireSetting(config.chat.accessPolicyParameter, 'ACCESS_POLICY_PARAMETER')),
    auditLog: new AuditLog(aws, chatopsTable),
    guards: new RequestGuards(aws, chatopsTable),
    approvals: rollouts.approvals(),
    locks: rollouts.locks,
    sfn: new SFNClient({ region }),
    ec2,
    amiRolloutStateMachineArn: requireSetting(config.amiRolloutStateMachineArn, 'AMI_ROLLOUT_STATE_MACHINE_ARN'),
    inventory: { eks, ec2, autoscaling: new AutoScalingClient({ region }), ssm, managedClusters: config.managedClusters, mode: config.mode, now, log: logInfo },
    requestDrain: (request: ManualDrainRequest) => invokeFunction<RequestDrainOutcome>(lambda, requestDrainFunction, request),
    uncordon: (request: ManualUncordonRequest) => invokeFunction<UncordonOutcome>(lambda, requestDrainFunction, request),
    doctorProbe: (cluster: string) => invokeFunction<ClusterProbe>(lambda, doctorProbeFunction, { cluster }),
    notifier: rollouts.approvalNotifier,
    now,
    sleep,
    log: logInfo,
  };
}
