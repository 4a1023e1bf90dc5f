import { DescribeAccessEntryCommand, EKSClient } from '@aws-sdk/client-eks';
import { callAws } from './call.js';
import { type AwsScope, clientOf } from './clients.js';

/** An EKS access entry, as far as this service reads one: its type and the Kubernetes groups it maps to. */
export interface AccessEntryView {
  type: string;
  kubernetesGroups: string[];
}

/** A principal's access entry on a cluster (eks:DescribeAccessEntry); null when it has none. */
export async function describeAccessEntry(scope: AwsScope, cluster: string, principalArn: string): Promise<AccessEntryView | null> {
  const out = await callAws('eks:DescribeAccessEntry', () => clientOf(scope, EKSClient).send(new DescribeAccessEntryCommand({ clusterName: cluster, principalArn }))).catch((error: Error) => {
    if (error.name === 'ResourceNotFoundException') return undefined;
    throw error;
  });
  const entry = out?.accessEntry;
  return entry ? { type: entry.type ?? 'STANDARD', kubernetesGroups: entry.kubernetesGroups ?? [] } : null;
}

/** `arn:aws:sts::1:assumed-role/Ops/alice` is the role `arn:aws:iam::1:role/Ops`: what access entries and policies name. */
export function iamPrincipalArn(callerArn: string): string {
  const assumed = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(callerArn);
  return assumed ? `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}` : callerArn;
}
