/**
 * The VPC CNI's max pods for an instance type (eni-max-pods.txt): every ENI on network
 * card 0 holds (IPv4 addresses − 1) pod IPs, plus 2 for host-network pods. With prefix
 * delegation each secondary slot holds a /28 (16 addresses), and the CNI caps the result
 * at 110 for up to 30 vCPUs and 250 above.
 */
import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import { LaunchTemplateValidationError } from '../errors.js';

export interface InstanceTypeFacts {
  maximumNetworkInterfaces: number;
  ipv4AddressesPerInterface: number;
  vcpus: number;
}

export function maxPods(facts: InstanceTypeFacts, options: { prefixDelegation?: boolean } = {}): number {
  const { maximumNetworkInterfaces: enis, ipv4AddressesPerInterface: ips, vcpus } = facts;
  if (!options.prefixDelegation) return enis * (ips - 1) + 2;
  return Math.min(vcpus > 30 ? 250 : 110, enis * ((ips - 1) * 16) + 2);
}

/** The numbers maxPods needs, from one DescribeInstanceTypes `InstanceTypes` item. */
export function instanceTypeFacts(item: InstanceTypeInfo): InstanceTypeFacts {
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
