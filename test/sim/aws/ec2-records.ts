/**
 * EC2's records of images and subnets: what EC2's stores (ec2.ts, instances.ts,
 * launch-templates.ts) and the node boot code share.
 */
import type { Image, Subnet, Tag } from '@aws-sdk/client-ec2';

export type AmiFamily = 'al2' | 'al2023' | 'bottlerocket' | 'windows';

export interface ImageRecord {
  image: Image & { ImageId: string; Name: string; Tags: Tag[] };
  /** How the sandbox's kubelet boots it; undefined = not an EKS node image. */
  family?: AmiFamily;
  /** Kubernetes minor the image's kubelet was built for (`1.31`). */
  kubernetesVersion?: string;
  /** Full kubelet version for Node.status.nodeInfo (`v1.31.13-eks-…`). */
  kubeletVersion?: string;
  /** EKS AMI variant (`standard`, `nvidia`, `neuron`) and release (`1.31.13-20261105`). */
  variant?: string;
  releaseVersion?: string;
  /** Accounts the owner shared the image with (launch permissions): they see it too. */
  sharedWith?: string[];
}

export interface SubnetRecord {
  subnet: Subnet & { SubnetId: string; AvailabilityZone: string; Tags: Tag[] };
  base: number;
  size: number;
  used: Set<number>;
}
