/**
 * Max pods for an instance type, as AWS's max-pods-calculator.sh (amazon-eks-ami) computes it
 * and EKS managed node groups set it: every ENI on network card 0 holds (IPv4 addresses − 1)
 * pod IPs, plus 2 for host-network pods; with custom networking (ENIConfig) the primary ENI
 * holds none, so one ENI fewer; with prefix delegation each secondary slot holds a /28 (16
 * addresses). The result is capped at 110 for up to 30 vCPUs and 250 above (the calculator's
 * ceilings, which the kubelet's own reservations are sized for).
 */
import type { InstanceTypeView } from '../aws/instance-types.js';
import { LaunchTemplateValidationError } from '../errors.js';

export interface InstanceTypeFacts {
  maximumNetworkInterfaces: number;
  ipv4AddressesPerInterface: number;
  vcpus: number;
}

/** How the cluster's VPC CNI hands out pod addresses (the aws-node DaemonSet's environment). */
export interface CniSettings {
  prefixDelegation: boolean;
  customNetworking: boolean;
}

export const MAX_PODS_CEILING = { upTo30Vcpus: 110, above30Vcpus: 250 } as const;

export function maxPods(facts: InstanceTypeFacts, options: Partial<CniSettings> & { uncapped?: boolean } = {}): number {
  const { ipv4AddressesPerInterface: ips, vcpus } = facts;
  const enis = facts.maximumNetworkInterfaces - (options.customNetworking ? 1 : 0);
  const computed = options.prefixDelegation ? enis * ((ips - 1) * 16) + 2 : enis * (ips - 1) + 2;
  if (options.uncapped) return computed;
  return Math.min(vcpus > 30 ? MAX_PODS_CEILING.above30Vcpus : MAX_PODS_CEILING.upTo30Vcpus, computed);
}

/**
 * Max pods for a node of the family: Windows pods take the primary ENI's secondary addresses
 * only (the VPC CNI's Windows IPAM), so no ENI count, prefix or ceiling applies.
 */
export function maxPodsFor(family: 'al2' | 'al2023' | 'bottlerocket' | 'windows', facts: InstanceTypeFacts, cni: Partial<CniSettings>): number {
  return family === 'windows' ? facts.ipv4AddressesPerInterface - 1 : maxPods(facts, cni);
}

/** The numbers maxPods needs, from one DescribeInstanceTypes `InstanceTypes` item. */
export function instanceTypeFacts(item: InstanceTypeView): InstanceTypeFacts {
  const network = item.NetworkInfo;
  // instances with several network cards (p4d, trn1…) put pods on card 0's interfaces only
  const card0 = network?.NetworkCards?.find((c) => c.NetworkCardIndex === 0);
  const enis = card0?.MaximumNetworkInterfaces ?? network?.MaximumNetworkInterfaces;
  const ips = network?.Ipv4AddressesPerInterface;
  const vcpus = item.VCpuInfo?.DefaultVCpus;
  if (enis === undefined || ips === undefined || vcpus === undefined) {
    throw new LaunchTemplateValidationError([
      { rule: 'instance-type-facts', message: `DescribeInstanceTypes gave no ENI, IPv4-per-ENI or vCPU count for ${item.InstanceType ?? 'the instance type'}` },
    ]);
  }
  return { maximumNetworkInterfaces: enis, ipv4AddressesPerInterface: ips, vcpus };
}
