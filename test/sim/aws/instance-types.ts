/**
 * Instance types with their real published numbers (vCPUs, memory, ENIs, IPv4 addresses
 * per ENI). The ENI numbers matter: the VPC CNI's max-pods formula is derived from them,
 * and the kubelet's pod capacity in the sandbox comes from here.
 */
import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';

interface Spec {
  type: string;
  vcpus: number;
  cores: number;
  memoryMiB: number;
  arch: 'x86_64' | 'arm64';
  enis: number;
  ipv4PerEni: number;
  network: string;
  ghz: number;
  manufacturer: 'Intel' | 'AMD' | 'AWS';
  burstable?: boolean;
  gpu?: { name: string; manufacturer: string; count: number; memoryMiB: number };
}

const SPECS: readonly Spec[] = [
  { type: 't3.small', vcpus: 2, cores: 1, memoryMiB: 2048, arch: 'x86_64', enis: 3, ipv4PerEni: 4, network: 'Up to 5 Gigabit', ghz: 2.5, manufacturer: 'Intel', burstable: true },
  { type: 't3.medium', vcpus: 2, cores: 1, memoryMiB: 4096, arch: 'x86_64', enis: 3, ipv4PerEni: 6, network: 'Up to 5 Gigabit', ghz: 2.5, manufacturer: 'Intel', burstable: true },
  { type: 't3.large', vcpus: 2, cores: 1, memoryMiB: 8192, arch: 'x86_64', enis: 3, ipv4PerEni: 12, network: 'Up to 5 Gigabit', ghz: 2.5, manufacturer: 'Intel', burstable: true },
  { type: 'm5.large', vcpus: 2, cores: 1, memoryMiB: 8192, arch: 'x86_64', enis: 3, ipv4PerEni: 10, network: 'Up to 10 Gigabit', ghz: 3.1, manufacturer: 'Intel' },
  { type: 'm5.xlarge', vcpus: 4, cores: 2, memoryMiB: 16384, arch: 'x86_64', enis: 4, ipv4PerEni: 15, network: 'Up to 10 Gigabit', ghz: 3.1, manufacturer: 'Intel' },
  { type: 'm5.2xlarge', vcpus: 8, cores: 4, memoryMiB: 32768, arch: 'x86_64', enis: 4, ipv4PerEni: 15, network: 'Up to 10 Gigabit', ghz: 3.1, manufacturer: 'Intel' },
  { type: 'm5.4xlarge', vcpus: 16, cores: 8, memoryMiB: 65536, arch: 'x86_64', enis: 8, ipv4PerEni: 30, network: 'Up to 10 Gigabit', ghz: 3.1, manufacturer: 'Intel' },
  { type: 'm5.24xlarge', vcpus: 96, cores: 48, memoryMiB: 393216, arch: 'x86_64', enis: 15, ipv4PerEni: 50, network: '25 Gigabit', ghz: 3.1, manufacturer: 'Intel' },
  { type: 'm6i.large', vcpus: 2, cores: 1, memoryMiB: 8192, arch: 'x86_64', enis: 3, ipv4PerEni: 10, network: 'Up to 12.5 Gigabit', ghz: 3.5, manufacturer: 'Intel' },
  { type: 'm6g.large', vcpus: 2, cores: 2, memoryMiB: 8192, arch: 'arm64', enis: 3, ipv4PerEni: 10, network: 'Up to 10 Gigabit', ghz: 2.5, manufacturer: 'AWS' },
  { type: 'm6g.xlarge', vcpus: 4, cores: 4, memoryMiB: 16384, arch: 'arm64', enis: 4, ipv4PerEni: 15, network: 'Up to 10 Gigabit', ghz: 2.5, manufacturer: 'AWS' },
  { type: 'c5.large', vcpus: 2, cores: 1, memoryMiB: 4096, arch: 'x86_64', enis: 3, ipv4PerEni: 10, network: 'Up to 10 Gigabit', ghz: 3.4, manufacturer: 'Intel' },
  { type: 'c5.xlarge', vcpus: 4, cores: 2, memoryMiB: 8192, arch: 'x86_64', enis: 4, ipv4PerEni: 15, network: 'Up to 10 Gigabit', ghz: 3.4, manufacturer: 'Intel' },
  { type: 'c6g.large', vcpus: 2, cores: 2, memoryMiB: 4096, arch: 'arm64', enis: 3, ipv4PerEni: 10, network: 'Up to 10 Gigabit', ghz: 2.5, manufacturer: 'AWS' },
  { type: 'g5.xlarge', vcpus: 4, cores: 2, memoryMiB: 16384, arch: 'x86_64', enis: 4, ipv4PerEni: 15, network: 'Up to 10 Gigabit', ghz: 3.3, manufacturer: 'AMD', gpu: { name: 'A10G', manufacturer: 'NVIDIA', count: 1, memoryMiB: 24576 } },
  { type: 'inf2.xlarge', vcpus: 4, cores: 2, memoryMiB: 16384, arch: 'x86_64', enis: 4, ipv4PerEni: 15, network: 'Up to 15 Gigabit', ghz: 2.95, manufacturer: 'AMD' },
];

function toInfo(s: Spec): InstanceTypeInfo {
  const graviton = s.manufacturer === 'AWS';
  return {
    InstanceType: s.type as InstanceTypeInfo['InstanceType'],
    CurrentGeneration: true,
    FreeTierEligible: false,
    SupportedUsageClasses: ['on-demand', 'spot'],
    SupportedRootDeviceTypes: ['ebs'],
    SupportedVirtualizationTypes: ['hvm'],
    BareMetal: false,
    Hypervisor: 'nitro',
    ProcessorInfo: {
      SupportedArchitectures: [s.arch],
      SustainedClockSpeedInGhz: s.ghz,
      Manufacturer: s.manufacturer,
    },
    VCpuInfo: {
      DefaultVCpus: s.vcpus,
      DefaultCores: s.cores,
      DefaultThreadsPerCore: s.vcpus / s.cores,
    },
    MemoryInfo: { SizeInMiB: s.memoryMiB },
    InstanceStorageSupported: false,
    EbsInfo: { EbsOptimizedSupport: 'default', EncryptionSupport: 'supported', NvmeSupport: 'required' },
    NetworkInfo: {
      NetworkPerformance: s.network,
      MaximumNetworkInterfaces: s.enis,
      MaximumNetworkCards: 1,
      DefaultNetworkCardIndex: 0,
      NetworkCards: [{ NetworkCardIndex: 0, NetworkPerformance: s.network, MaximumNetworkInterfaces: s.enis }],
      Ipv4AddressesPerInterface: s.ipv4PerEni,
      Ipv6AddressesPerInterface: s.ipv4PerEni,
      Ipv6Supported: true,
      EnaSupport: 'required',
      EfaSupported: false,
      EncryptionInTransitSupported: !s.burstable,
    },
    ...(s.gpu
      ? {
          GpuInfo: {
            Gpus: [{ Name: s.gpu.name, Manufacturer: s.gpu.manufacturer, Count: s.gpu.count, MemoryInfo: { SizeInMiB: s.gpu.memoryMiB } }],
            TotalGpuMemoryInMiB: s.gpu.count * s.gpu.memoryMiB,
          },
        }
      : {}),
    PlacementGroupInfo: { SupportedStrategies: ['cluster', 'partition', 'spread'] },
    BurstablePerformanceSupported: s.burstable === true,
    DedicatedHostsSupported: !s.burstable,
    AutoRecoverySupported: true,
    HibernationSupported: !graviton,
    SupportedBootModes: graviton ? ['uefi'] : ['legacy-bios', 'uefi'],
    NitroEnclavesSupport: 'unsupported',
  };
}

export const INSTANCE_TYPES: ReadonlyMap<string, InstanceTypeInfo> = new Map(SPECS.map((s) => [s.type, toInfo(s)]));

/** The architecture an instance type runs (`x86_64` | `arm64`). */
export function instanceTypeArchitecture(type: string): 'x86_64' | 'arm64' | undefined {
  return INSTANCE_TYPES.get(type)?.ProcessorInfo?.SupportedArchitectures?.[0] as 'x86_64' | 'arm64' | undefined;
}

/**
 * The VPC CNI max-pods value for an instance type, as eni-max-pods.txt computes it:
 * ENIs × (IPv4 per ENI − 1) + 2 on network card 0. With prefix delegation every secondary
 * slot holds a /28 (16 addresses), capped at 110 (≤ 30 vCPUs) or 250.
 */
export function maxPods(type: string, options: { prefixDelegation?: boolean } = {}): number | undefined {
  const info = INSTANCE_TYPES.get(type);
  const enis = info?.NetworkInfo?.NetworkCards?.[0]?.MaximumNetworkInterfaces ?? info?.NetworkInfo?.MaximumNetworkInterfaces;
  const ips = info?.NetworkInfo?.Ipv4AddressesPerInterface;
  if (enis === undefined || ips === undefined) return undefined;
  if (!options.prefixDelegation) return enis * (ips - 1) + 2;
  const cap = (info?.VCpuInfo?.DefaultVCpus ?? 0) > 30 ? 250 : 110;
  return Math.min(cap, enis * ((ips - 1) * 16) + 2);
}
