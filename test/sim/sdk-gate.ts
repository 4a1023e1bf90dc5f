import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * One door in front of every AWS SDK client the product uses — the simulated account's, the
 * sandbox's own (Step Functions, Lambda, EventBridge) and DynamoDB's (dynalite): a gate sees
 * each call before it is sent and may let it through, fail it with an error, or never answer
 * it. What fault injection needs for the services the account does not simulate itself, and
 * what a crashed Lambda needs to stop everything its handler still had in flight.
 *
 * It wraps the `send` each client class uses (its own, a mock's, or the shared smithy base),
 * after the sandbox's mocks are bound: install gates after `World.start()`, remove them
 * before `world.stop()`. Several gates may be installed; each call asks them in order. A
 * gate acts on the whole call, before the SDK's middleware: its error is not retried. For the
 * simulated account's services, fail attempts through `account.faults` instead (retried by
 * the SDK as the real error would be).
 */
export type SdkService = 'ec2' | 'autoscaling' | 'eks' | 'ssm' | 'sts' | 'iam' | 'cloudwatch' | 'events' | 'states' | 'lambda' | 'dynamodb';

export interface SdkCall {
  service: SdkService;
  /** `PutEvents`, `StartExecution`, `Update` (lib-dynamodb), `UpdateItem` … (without `Command`) */
  command: string;
  input: unknown;
}

/** Through, failed with this error, or never answered (`hang`). */
export type SdkGateAction = 'pass' | 'hang' | Error;
export type SdkGate = (call: SdkCall) => SdkGateAction;

/** Every SDK client class the product uses, with the service it calls. */
export const SDK_CLIENTS: readonly (readonly [{ prototype: object }, SdkService])[] = [
  [EC2Client, 'ec2'],
  [AutoScalingClient, 'autoscaling'],
  [EKSClient, 'eks'],
  [SSMClient, 'ssm'],
  [STSClient, 'sts'],
  [IAMClient, 'iam'],
  [CloudWatchClient, 'cloudwatch'],
  [EventBridgeClient, 'events'],
  [SFNClient, 'states'],
  [LambdaClient, 'lambda'],
  [DynamoDBClient, 'dynamodb'],
  [DynamoDBDocumentClient, 'dynamodb'],
];

/** Commands that only read, on every service the product calls. */
export const READ_COMMAND = /^(Describe|List|Get|Query|Scan|BatchGet)/;

const gates: SdkGate[] = [];
let unwrap: (() => void) | undefined;

/** Adds a gate; returns what removes it (the wrappers go with the last gate). */
export function installSdkGate(gate: SdkGate): () => void {
  gates.push(gate);
  unwrap ??= wrapClients();
  return () => {
    const i = gates.indexOf(gate);
    if (i >= 0) gates.splice(i, 1);
    if (gates.length === 0) {
      unwrap?.();
      unwrap = undefined;
    }
  };
}

function decide(call: SdkCall): SdkGateAction {
  for (const gate of [...gates]) {
    const action = gate(call);
    if (action !== 'pass') return action;
  }
  return 'pass';
}

function wrapClients(): () => void {
  const restores: (() => void)[] = [];
  const wrapped = new Set<object>();
  for (const [client] of SDK_CLIENTS) {
    let owner: object | null = client.prototype;
    while (owner && !Object.prototype.hasOwnProperty.call(owner, 'send')) owner = Object.getPrototypeOf(owner);
    if (!owner || wrapped.has(owner)) continue;
    wrapped.add(owner);
    const holder = owner as { send: (...args: unknown[]) => unknown };
    const original = holder.send;
    const gated = function gatedSend(this: object, ...args: unknown[]) {
      const command = args[0] as { constructor: { name: string }; input?: unknown } | undefined;
      const action = decide({ service: serviceOf(this), command: command?.constructor?.name?.replace(/Command$/, '') ?? '', input: command?.input });
      if (action === 'hang') return new Promise<never>(() => undefined);
      if (action instanceof Error) return Promise.reject(action);
      return original.apply(this, args);
    };
    holder.send = gated;
    restores.push(() => {
      if (holder.send === gated) holder.send = original;
    });
  }
  return () => {
    for (const restore of restores.reverse()) restore();
  };
}

/** The shared base `send` serves several clients: name the service by the instance. */
function serviceOf(instance: object): SdkService {
  return SDK_CLIENTS.find(([client]) => instance instanceof (client as unknown as new () => object))?.[1] ?? ('unknown' as SdkService);
}
