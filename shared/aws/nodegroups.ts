import { DescribeNodegroupCommand, type EKSClient } from '@aws-sdk/client-eks';
import { callAws } from './call.js';

/** A managed node group's own tags (EKS does not copy them to its Auto Scaling group). */
export async function describeNodegroupTags(eks: EKSClient, cluster: string, nodegroup: string): Promise<Record<string, string>> {
  const out = await callAws('eks:DescribeNodegroup', () => eks.send(new DescribeNodegroupCommand({ clusterName: cluster, nodegroupName: nodegroup })), {
    ResourceNotFoundException: () => null,
  }).catch((error: Error) => {
    if (error.name === 'ResourceNotFoundException') return undefined;
    throw error;
  });
  return out?.nodegroup?.tags ?? {};
}
