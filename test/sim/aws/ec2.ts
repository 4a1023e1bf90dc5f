/**
 * The EC2 side of the simulated account: VPC and subnets, images, instance types, tags,
 * volumes, and the command routes. Launch templates live in launch-templates.ts and
 * instances in instances.ts; this class ties them together and owns what they share
 * (address allocation, image lookup, capacity faults).
 */
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateTagsCommand,
  DeleteLaunchTemplateCommand,
  DeleteLaunchTemplateVersionsCommand,
  DeleteTagsCommand,
  DescribeAvailabilityZonesCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  DescribeVolumesCommand,
  DescribeVpcsCommand,
  ModifyLaunchTemplateCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type CreateTagsCommandInput,
  type CreateTagsCommandOutput,
  type DeleteTagsCommandOutput,
  type DescribeAvailabilityZonesCommandOutput,
  type DeleteTagsCommandInput,
  type DescribeImagesCommandInput,
  type DescribeImagesCommandOutput,
  type DescribeInstanceTypesCommandInput,
  type DescribeInstanceTypesCommandOutput,
  type DescribeSubnetsCommandInput,
  type DescribeSubnetsCommandOutput,
  type DescribeTagsCommandInput,
  type DescribeTagsCommandOutput,
  type DescribeVolumesCommandInput,
  type DescribeVolumesCommandOutput,
  type DescribeVpcsCommandInput,
  type DescribeVpcsCommandOutput,
  type IamInstanceProfile,
  type IamInstanceProfileSpecification,
  type Image,
  type Tag,
  type TagDescription,
  type Volume,
  type Vpc,
} from '@aws-sdk/client-ec2';
import type { AccountState } from './account-state';
import type { AmiFamily, ImageRecord, SubnetRecord } from './ec2-records';
import { ec2Error } from './errors';
import { matchesEc2Filters, paginate, tagFilterValues } from './filters';
import { INSTANCE_TYPES } from './instance-types';
import { InstanceStore } from './instances';
import { clone } from './clone';
import type { IamService } from './iam';
import { LaunchTemplateStore } from './launch-templates';
import { route, type Route } from './routes';
import type { SsmService } from './ssm';

type Out<T> = Omit<T, '$metadata'>;

export interface RegisterImageSpec {
  name: string;
  imageId?: string;
  family?: AmiFamily;
  kubernetesVersion?: string;
  kubeletVersion?: string;
  variant?: string;
  releaseVersion?: string;
  architecture?: 'x86_64' | 'arm64';
  windows?: boolean;
  ownerId?: string;
  ownerAlias?: string;
  /** Anyone may launch it; default: only Amazon's (`ownerAlias: 'amazon'`) images are public. */
  public?: boolean;
  /** Account ids the owner granted launch permission (ModifyImageAttribute), who then see it. */
  sharedWith?: string[];
  description?: string;
  /** ISO string; defaults to now on the virtual clock. */
  creationDate?: string;
  /** ISO string; EC2 deprecates public AMIs two years after creation by default. */
  deprecationTime?: string;
  state?: 'available' | 'pending' | 'disabled' | 'failed' | 'deregistered';
  tags?: Tag[];
  rootVolumeSize?: number;
  publicSsmParameterName?: string;
}

export class Ec2Service {
  readonly vpcs = new Map<string, Vpc & { Tags: Tag[] }>();
  readonly subnets = new Map<string, SubnetRecord>();
  readonly images = new Map<string, ImageRecord>();
  readonly volumes = new Map<string, Volume>();
  /** Instance profile name → IAM role ARN: IAM's own map (iam.ts), so both always agree. */
  get instanceProfiles(): Map<string, string> {
    return this.iam.instanceProfiles;
  }
  readonly launchTemplates: LaunchTemplateStore;
  readonly instances: InstanceStore;
  private readonly defaultSecurityGroups = new Map<string, string>();
  private readonly instanceProfileIds = new Map<string, string>();
  private readonly deniedCapacity = new Set<string>();

  constructor(
    private readonly account: AccountState,
    private readonly iam: IamService,
    private readonly ssm: SsmService,
  ) {
    this.launchTemplates = new LaunchTemplateStore(account, this);
    this.instances = new InstanceStore(account, this);
  }

  // ---- sandbox setup ----

  addVpc(cidr = '10.0.0.0/16', tags: Tag[] = []): Vpc {
    const vpc = {
      VpcId: this.account.ids.ec2('vpc'),
      CidrBlock: cidr,
      State: 'available' as const,
      OwnerId: this.account.accountId,
      InstanceTenancy: 'default' as const,
      IsDefault: false,
      DhcpOptionsId: this.account.ids.ec2('dopt'),
      Tags: clone(tags),
    };
    this.vpcs.set(vpc.VpcId, vpc);
    this.defaultSecurityGroups.set(vpc.VpcId, this.account.ids.ec2('sg'));
    return vpc;
  }

  addSubnet(spec: { vpcId: string; cidr: string; availabilityZone: string; tags?: Tag[] }): SubnetRecord {
    if (!this.vpcs.has(spec.vpcId)) throw ec2Error('InvalidVpcID.NotFound', `The vpc ID '${spec.vpcId}' does not exist`);
    const [address, bitsText] = spec.cidr.split('/');
    const size = 2 ** (32 - Number(bitsText));
    const id = this.account.ids.ec2('subnet');
    const record: SubnetRecord = {
      subnet: {
        SubnetId: id,
        SubnetArn: `arn:aws:ec2:${this.account.region}:${this.account.accountId}:subnet/${id}`,
        VpcId: spec.vpcId,
        CidrBlock: spec.cidr,
        AvailabilityZone: spec.availabilityZone,
        AvailabilityZoneId: this.zoneId(spec.availabilityZone),
        // AWS reserves the first four and the last address of every subnet
        AvailableIpAddressCount: size - 5,
        State: 'available',
        DefaultForAz: false,
        MapPublicIpOnLaunch: false,
        OwnerId: this.account.accountId,
        Tags: clone(spec.tags ?? []),
      },
      base: ipToInt(address!),
      size,
      used: new Set(),
    };
    this.subnets.set(id, record);
    return record;
  }

  registerImage(spec: RegisterImageSpec): ImageRecord {
    const windows = spec.windows ?? spec.family === 'windows';
    const created = spec.creationDate ?? this.account.clock.iso();
    const imageId = spec.imageId ?? this.account.ids.ec2('ami');
    const record: ImageRecord = {
      image: {
        ImageId: imageId,
        Name: spec.name,
        Description: spec.description ?? spec.name,
        ImageLocation: `${spec.ownerAlias ?? spec.ownerId ?? this.account.accountId}/${spec.name}`,
        State: spec.state ?? 'available',
        OwnerId: spec.ownerId ?? this.account.accountId,
        ...(spec.ownerAlias ? { ImageOwnerAlias: spec.ownerAlias } : {}),
        CreationDate: created,
        DeprecationTime: spec.deprecationTime ?? addYears(created, 2),
        Public: spec.public ?? spec.ownerAlias === 'amazon',
        Architecture: spec.architecture ?? 'x86_64',
        ImageType: 'machine',
        PlatformDetails: windows ? 'Windows' : 'Linux/UNIX',
        UsageOperation: windows ? 'RunInstances:0002' : 'RunInstances',
        // EC2 sends lowercase `windows` on the wire although the SDK's enum spells `Windows`
        ...(windows ? { Platform: 'windows' as Image['Platform'] } : {}),
        RootDeviceName: windows ? '/dev/sda1' : '/dev/xvda',
        RootDeviceType: 'ebs',
        VirtualizationType: 'hvm',
        Hypervisor: 'xen',
        EnaSupport: true,
        SriovNetSupport: 'simple',
        BootMode: spec.architecture === 'arm64' ? 'uefi' : 'uefi-preferred',
        ImdsSupport: 'v2.0',
        BlockDeviceMappings: [{
          DeviceName: windows ? '/dev/sda1' : '/dev/xvda',
          Ebs: {
            SnapshotId: this.account.ids.ec2('snap'),
            VolumeSize: spec.rootVolumeSize ?? (windows ? 50 : 20),
            VolumeType: 'gp3',
            DeleteOnTermination: true,
            Encrypted: false,
            Iops: 3000,
            Throughput: 125,
          },
        }],
        ...(spec.publicSsmParameterName ? { PublicSsmParameterName: spec.publicSsmParameterName } : {}),
        Tags: clone(spec.tags ?? []),
      },
      ...(spec.family ? { family: spec.family } : {}),
      ...(spec.kubernetesVersion ? { kubernetesVersion: spec.kubernetesVersion } : {}),
      ...(spec.kubeletVersion ? { kubeletVersion: spec.kubeletVersion } : {}),
      ...(spec.variant ? { variant: spec.variant } : {}),
      ...(spec.releaseVersion ? { releaseVersion: spec.releaseVersion } : {}),
      ...(spec.sharedWith?.length ? { sharedWith: [...spec.sharedWith] } : {}),
    };
    this.images.set(imageId, record);
    return record;
  }

  /**
   * Moves an image through its states; `available` publishes the `EC2 AMI State Change`
   * event that custom-AMI pipelines (Packer, Image Builder) trigger on.
   */
  setImageState(imageId: string, state: NonNullable<Image['State']>): void {
    const record = this.requireImage(imageId);
    record.image.State = state;
    if (state === 'available' || state === 'failed' || state === 'deregistered') {
      this.account.publish('EC2 AMI State Change', 'aws.ec2', [`arn:aws:ec2:${this.account.region}::image/${imageId}`], {
        RequestId: this.account.ids.uuid(),
        ImageId: imageId,
        State: state,
        ErrorMessage: '',
      });
    }
  }

  /** Deprecates an image at `when` (default now): DescribeImages hides it from then on. */
  deprecateImage(imageId: string, when = this.account.clock.iso()): void {
    this.requireImage(imageId).image.DeprecationTime = when;
  }

  /** Makes launches of `instanceType` in `availabilityZone` fail with InsufficientInstanceCapacity. */
  setCapacity(instanceType: string, availabilityZone: string, available: boolean): void {
    const key = `${instanceType}@${availabilityZone}`;
    if (available) this.deniedCapacity.delete(key);
    else this.deniedCapacity.add(key);
  }

  capacityDenied(instanceType: string, availabilityZone: string): boolean {
    return this.deniedCapacity.has(`${instanceType}@${availabilityZone}`);
  }

  /** A Spot interruption: the two-minute warning now, the termination two minutes later. */
  interruptSpot(instanceId: string): void {
    const [record] = this.instances.require([instanceId]);
    this.account.publish('EC2 Spot Instance Interruption Warning', 'aws.ec2', [this.instances.arn(instanceId)], {
      'instance-id': instanceId,
      'instance-action': 'terminate',
    });
    this.account.note('ec2', `spot interruption warning for ${instanceId}`, instanceId);
    this.account.clock.after(120_000, () => {
      if (record!.instance.State.Name === 'running' || record!.instance.State.Name === 'pending') {
        this.instances.terminate([instanceId], 'Server.SpotInstanceTermination');
      }
    });
  }

  recommendRebalance(instanceId: string): void {
    this.instances.require([instanceId]);
    this.account.publish('EC2 Instance Rebalance Recommendation', 'aws.ec2', [this.instances.arn(instanceId)], { 'instance-id': instanceId });
  }

  // ---- shared helpers ----

  requireImage(imageId: string): ImageRecord {
    const record = this.images.get(imageId);
    if (!record) throw ec2Error('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
    return record;
  }

  /** `resolve:ssm:/aws/service/…` image ids, resolved at launch as EC2 does. */
  resolveImageAlias(imageId: string): string {
    if (!imageId.startsWith('resolve:ssm:')) return imageId;
    const name = imageId.slice('resolve:ssm:'.length).replace(/:\d+$/, '');
    const value = this.ssm.value(name);
    if (value === undefined) throw ec2Error('InvalidParameterValue', `Unable to resolve the SSM parameter ${name} for ImageId.`);
    return value;
  }

  allocateAddress(subnet: SubnetRecord): { ip: string; offset: number } {
    if (subnet.subnet.AvailableIpAddressCount! <= 0) {
      throw ec2Error('InsufficientFreeAddressesInSubnet', `There are not enough free addresses in subnet '${subnet.subnet.SubnetId}' to satisfy the requested number of instances.`);
    }
    let offset: number;
    do offset = this.account.ids.int(4, subnet.size - 2);
    while (subnet.used.has(offset));
    subnet.used.add(offset);
    subnet.subnet.AvailableIpAddressCount! -= 1;
    return { ip: intToIp(subnet.base + offset), offset };
  }

  releaseAddress(subnet: SubnetRecord, offset: number): void {
    if (subnet.used.delete(offset)) subnet.subnet.AvailableIpAddressCount! += 1;
  }

  privateDnsName(ip: string): string {
    const domain = this.account.region === 'us-east-1' ? 'ec2.internal' : `${this.account.region}.compute.internal`;
    return `ip-${ip.replaceAll('.', '-')}.${domain}`;
  }

  defaultSecurityGroup(vpcId: string): string {
    return this.defaultSecurityGroups.get(vpcId) ?? 'sg-00000000000000000';
  }

  instanceProfile(spec: IamInstanceProfileSpecification): IamInstanceProfile {
    const name = spec.Name ?? spec.Arn?.split('/').pop() ?? 'unknown';
    let id = this.instanceProfileIds.get(name);
    if (!id) this.instanceProfileIds.set(name, (id = `AIPA${this.account.ids.upper(17)}`));
    return { Arn: spec.Arn ?? `arn:aws:iam::${this.account.accountId}:instance-profile/${name}`, Id: id };
  }

  /** The role behind an instance profile (what the node authenticates to EKS as). */
  roleForInstanceProfile(arn: string | undefined): string | undefined {
    if (!arn) return undefined;
    const name = arn.split('/').pop()!;
    return this.instanceProfiles.get(name) ?? `arn:aws:iam::${this.account.accountId}:role/${name}`;
  }

  private zoneId(az: string): string {
    const [area, direction, number] = this.account.region.split('-');
    const letter = az.slice(-1);
    return `${area}${direction?.[0] ?? ''}${number}-az${letter.charCodeAt(0) - 96}`;
  }

  // ---- commands ----

  describeImages(input: DescribeImagesCommandInput): Out<DescribeImagesCommandOutput> {
    const ids = input.ImageIds ?? [];
    for (const id of ids) {
      if (!/^ami-[0-9a-f]{8}([0-9a-f]{9})?$/.test(id)) throw ec2Error('InvalidAMIID.Malformed', `Invalid id: "${id}" (expecting "ami-...")`);
    }
    const missing = ids.filter((id) => !this.images.has(id));
    if (missing.length) throw ec2Error('InvalidAMIID.NotFound', `The image id '[${missing.join(', ')}]' does not exist`);
    const now = this.account.clock.now();
    const owners = input.Owners ?? [];
    const candidates = ids.length ? ids.map((id) => this.images.get(id)!) : [...this.images.values()];
    const visible = candidates.filter(({ image, sharedWith }) => {
      const mine = image.OwnerId === this.account.accountId;
      // an account sees its own images, public ones, and those shared with it
      if (!mine && !image.Public && !sharedWith?.includes(this.account.accountId)) return false;
      if (owners.length && !owners.some((o) => (o === 'self' ? mine : o === image.OwnerId || o === image.ImageOwnerAlias))) return false;
      // deprecated images are listed only when asked for by id, with IncludeDeprecated, or to their owner
      const deprecated = image.DeprecationTime !== undefined && Date.parse(image.DeprecationTime) <= now;
      if (deprecated && !ids.length && !input.IncludeDeprecated && !mine) return false;
      if (image.State === 'disabled' && !input.IncludeDisabled) return false;
      if (image.State === 'deregistered') return false;
      return matchesEc2Filters(image, input.Filters, imageFilter);
    });
    const { page, nextToken } = paginate(visible, input.MaxResults, input.NextToken, () =>
      ec2Error('InvalidParameterValue', 'The specified NextToken is not valid.'),
    );
    return { Images: page.map((r) => clone(r.image)), NextToken: nextToken };
  }

  describeInstanceTypes(input: DescribeInstanceTypesCommandInput): Out<DescribeInstanceTypesCommandOutput> {
    const names = input.InstanceTypes ?? [];
    const unknown = names.filter((n) => !INSTANCE_TYPES.has(n));
    if (unknown.length) {
      throw ec2Error('InvalidInstanceType', `The following supplied instance types do not exist: [${unknown.join(', ')}]`);
    }
    const list = (names.length ? names.map((n) => INSTANCE_TYPES.get(n)!) : [...INSTANCE_TYPES.values()]).filter((info) =>
      matchesEc2Filters(info, input.Filters, (t, name) => {
        switch (name) {
          case 'instance-type': return [t.InstanceType];
          case 'processor-info.supported-architecture': return t.ProcessorInfo?.SupportedArchitectures ?? [];
          case 'current-generation': return [String(t.CurrentGeneration)];
          case 'vcpu-info.default-vcpus': return [String(t.VCpuInfo?.DefaultVCpus)];
          case 'memory-info.size-in-mib': return [String(t.MemoryInfo?.SizeInMiB)];
          default: return undefined;
        }
      }),
    );
    const { page, nextToken } = paginate(list, input.MaxResults, input.NextToken, () =>
      ec2Error('InvalidParameterValue', 'The specified NextToken is not valid.'),
    );
    return { InstanceTypes: clone(page), NextToken: nextToken };
  }

  describeSubnets(input: DescribeSubnetsCommandInput): Out<DescribeSubnetsCommandOutput> {
    const ids = input.SubnetIds ?? [];
    const missing = ids.filter((id) => !this.subnets.has(id));
    if (missing.length) throw ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${missing.join(', ')}' does not exist`);
    const list = (ids.length ? ids.map((id) => this.subnets.get(id)!) : [...this.subnets.values()]).filter((r) =>
      matchesEc2Filters(r.subnet, input.Filters, (s, name) => {
        switch (name) {
          case 'subnet-id': return [s.SubnetId];
          case 'vpc-id': return [s.VpcId];
          case 'availability-zone': return [s.AvailabilityZone];
          case 'availability-zone-id': return [s.AvailabilityZoneId];
          case 'cidr-block': return [s.CidrBlock];
          case 'state': return [s.State];
          default: return tagFilterValues(s.Tags, name);
        }
      }),
    );
    return { Subnets: list.map((r) => clone(r.subnet)) };
  }

  describeVpcs(input: DescribeVpcsCommandInput): Out<DescribeVpcsCommandOutput> {
    const ids = input.VpcIds ?? [];
    const missing = ids.filter((id) => !this.vpcs.has(id));
    if (missing.length) throw ec2Error('InvalidVpcID.NotFound', `The vpc ID '${missing.join(', ')}' does not exist`);
    const list = (ids.length ? ids.map((id) => this.vpcs.get(id)!) : [...this.vpcs.values()]).filter((v) =>
      matchesEc2Filters(v, input.Filters, (vpc, name) => {
        if (name === 'vpc-id') return [vpc.VpcId];
        if (name === 'cidr') return [vpc.CidrBlock];
        if (name === 'state') return [vpc.State];
        return tagFilterValues(vpc.Tags, name);
      }),
    );
    return { Vpcs: clone(list) };
  }

  describeVolumes(input: DescribeVolumesCommandInput): Out<DescribeVolumesCommandOutput> {
    const ids = input.VolumeIds ?? [];
    const missing = ids.filter((id) => !this.volumes.has(id));
    if (missing.length) throw ec2Error('InvalidVolume.NotFound', `The volume '${missing.join(', ')}' does not exist.`);
    const list = (ids.length ? ids.map((id) => this.volumes.get(id)!) : [...this.volumes.values()]).filter((v) =>
      matchesEc2Filters(v, input.Filters, (vol, name) => {
        switch (name) {
          case 'volume-id': return [vol.VolumeId];
          case 'attachment.instance-id': return (vol.Attachments ?? []).map((a) => a.InstanceId);
          case 'availability-zone': return [vol.AvailabilityZone];
          case 'status': return [vol.State];
          default: return tagFilterValues(vol.Tags, name);
        }
      }),
    );
    return { Volumes: clone(list) };
  }

  describeAvailabilityZones(): Out<DescribeAvailabilityZonesCommandOutput> {
    const zones = [...new Set([...this.subnets.values()].map((s) => s.subnet.AvailabilityZone))].sort();
    const names = zones.length ? zones : ['a', 'b', 'c'].map((l) => `${this.account.region}${l}`);
    return {
      AvailabilityZones: names.map((ZoneName) => ({
        ZoneName,
        ZoneId: this.zoneId(ZoneName),
        State: 'available',
        RegionName: this.account.region,
        ZoneType: 'availability-zone',
        OptInStatus: 'opt-in-not-required',
        GroupName: this.account.region,
        NetworkBorderGroup: this.account.region,
        Messages: [],
      })),
    };
  }

  // ---- tags ----

  /** The live tag list of a taggable resource, with its DescribeTags resource type. */
  private taggable(id: string): { type: string; tags: Tag[] } | undefined {
    const instance = this.instances.get(id);
    if (instance) return { type: 'instance', tags: instance.instance.Tags };
    const image = this.images.get(id);
    if (image) return { type: 'image', tags: image.image.Tags };
    const template = this.launchTemplates.templates.get(id);
    if (template) return { type: 'launch-template', tags: template.template.Tags };
    const volume = this.volumes.get(id);
    if (volume) return { type: 'volume', tags: (volume.Tags ??= []) };
    const subnet = this.subnets.get(id);
    if (subnet) return { type: 'subnet', tags: subnet.subnet.Tags };
    const vpc = this.vpcs.get(id);
    if (vpc) return { type: 'vpc', tags: vpc.Tags };
    return undefined;
  }

  private requireTaggable(id: string): { type: string; tags: Tag[] } {
    const found = this.taggable(id);
    if (found) return found;
    const prefix = id.split('-')[0];
    const notFound: Record<string, [string, string]> = {
      i: ['InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`],
      ami: ['InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`],
      lt: ['InvalidLaunchTemplateId.NotFound', `The specified launch template, with template ID ${id}, does not exist.`],
      vol: ['InvalidVolume.NotFound', `The volume '${id}' does not exist.`],
      subnet: ['InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`],
      vpc: ['InvalidVpcID.NotFound', `The vpc ID '${id}' does not exist`],
    };
    const [code, message] = notFound[prefix ?? ''] ?? ['InvalidID', `The ID '${id}' is not valid`];
    throw ec2Error(code, message);
  }

  createTags(input: CreateTagsCommandInput): Out<CreateTagsCommandOutput> {
    const resources = (input.Resources ?? []).map((id) => this.requireTaggable(id));
    for (const tag of input.Tags ?? []) {
      if (!tag.Key) throw ec2Error('InvalidParameterValue', 'Tag key must not be empty');
      if (tag.Key.toLowerCase().startsWith('aws:')) {
        throw ec2Error('InvalidParameterValue', `Value ( ${tag.Key} ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use`);
      }
      if (tag.Key.length > 128 || (tag.Value ?? '').length > 256) throw ec2Error('InvalidParameterValue', `Tag ${tag.Key} is too long`);
    }
    for (const { tags } of resources) {
      for (const tag of input.Tags ?? []) {
        const existing = tags.find((t) => t.Key === tag.Key);
        if (existing) existing.Value = tag.Value ?? '';
        else tags.push({ Key: tag.Key, Value: tag.Value ?? '' });
      }
      if (tags.filter((t) => !t.Key?.startsWith('aws:')).length > 50) {
        throw ec2Error('TagLimitExceeded', 'The maximum number of tags per resource (50) has been exceeded.');
      }
    }
    return {};
  }

  deleteTags(input: DeleteTagsCommandInput): Out<DeleteTagsCommandOutput> {
    const resources = (input.Resources ?? []).map((id) => this.requireTaggable(id));
    for (const tag of input.Tags ?? []) {
      if (tag.Key?.toLowerCase().startsWith('aws:')) {
        throw ec2Error('InvalidParameterValue', `Value ( ${tag.Key} ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use`);
      }
    }
    for (const { tags } of resources) {
      const remove = (t: Tag) =>
        input.Tags === undefined
          ? !t.Key?.startsWith('aws:')
          // with a Value (even ''), only a tag holding exactly that value is deleted
          : input.Tags.some((d) => d.Key === t.Key && (d.Value === undefined || d.Value === t.Value));
      const keep = tags.filter((t) => !remove(t));
      tags.splice(0, tags.length, ...keep);
    }
    return {};
  }

  describeTags(input: DescribeTagsCommandInput): Out<DescribeTagsCommandOutput> {
    const all: TagDescription[] = [];
    const add = (id: string) => {
      const found = this.taggable(id);
      for (const t of found?.tags ?? []) all.push({ ResourceId: id, ResourceType: found!.type as TagDescription['ResourceType'], Key: t.Key, Value: t.Value });
    };
    for (const id of this.instances.records.keys()) add(id);
    for (const id of this.images.keys()) if (this.images.get(id)!.image.OwnerId === this.account.accountId) add(id);
    for (const id of this.launchTemplates.templates.keys()) add(id);
    for (const id of this.volumes.keys()) add(id);
    for (const id of this.subnets.keys()) add(id);
    for (const id of this.vpcs.keys()) add(id);
    const list = all.filter((d) =>
      matchesEc2Filters(d, input.Filters, (t, name) => {
        switch (name) {
          case 'key': return [t.Key];
          case 'value': return [t.Value];
          case 'resource-id': return [t.ResourceId];
          case 'resource-type': return [t.ResourceType];
          default:
            if (name.startsWith('tag:')) return t.Key === name.slice(4) ? [t.Value] : [];
            return undefined;
        }
      }),
    );
    const { page, nextToken } = paginate(list, input.MaxResults, input.NextToken, () =>
      ec2Error('InvalidParameterValue', 'The specified NextToken is not valid.'),
    );
    return { Tags: page, NextToken: nextToken };
  }

  routes(): Route[] {
    const lt = this.launchTemplates;
    const inst = this.instances;
    return [
      route('ec2', DescribeImagesCommand, (i) => this.describeImages(i)),
      route('ec2', DescribeInstanceTypesCommand, (i) => this.describeInstanceTypes(i)),
      route('ec2', DescribeSubnetsCommand, (i) => this.describeSubnets(i)),
      route('ec2', DescribeVpcsCommand, (i) => this.describeVpcs(i)),
      route('ec2', DescribeVolumesCommand, (i) => this.describeVolumes(i)),
      route('ec2', DescribeAvailabilityZonesCommand, () => this.describeAvailabilityZones()),
      route('ec2', CreateTagsCommand, (i) => this.createTags(i)),
      route('ec2', DeleteTagsCommand, (i) => this.deleteTags(i)),
      route('ec2', DescribeTagsCommand, (i) => this.describeTags(i)),
      route('ec2', CreateLaunchTemplateCommand, (i) => lt.create(i)),
      route('ec2', CreateLaunchTemplateVersionCommand, (i) => lt.createVersion(i)),
      route('ec2', DescribeLaunchTemplatesCommand, (i) => lt.describe(i)),
      route('ec2', DescribeLaunchTemplateVersionsCommand, (i) => lt.describeVersions(i)),
      route('ec2', ModifyLaunchTemplateCommand, (i) => lt.modify(i)),
      route('ec2', DeleteLaunchTemplateVersionsCommand, (i) => lt.deleteVersions(i)),
      route('ec2', DeleteLaunchTemplateCommand, (i) => lt.deleteTemplate(i)),
      route('ec2', RunInstancesCommand, (i) => inst.runInstances(i)),
      route('ec2', DescribeInstancesCommand, (i) => inst.describeInstances(i)),
      route('ec2', DescribeInstanceAttributeCommand, (i) => inst.describeInstanceAttribute(i)),
      route('ec2', TerminateInstancesCommand, (i) => inst.terminateInstances(i)),
    ];
  }
}

function imageFilter(image: Image, name: string): readonly (string | undefined)[] | undefined {
  switch (name) {
    case 'name': return [image.Name];
    case 'image-id': return [image.ImageId];
    case 'state': return [image.State];
    case 'architecture': return [image.Architecture];
    case 'owner-id': return [image.OwnerId];
    case 'owner-alias': return [image.ImageOwnerAlias];
    case 'platform': return [image.Platform];
    case 'platform-details': return [image.PlatformDetails];
    case 'is-public': return [String(image.Public === true)];
    case 'image-type': return [image.ImageType];
    case 'root-device-type': return [image.RootDeviceType];
    case 'virtualization-type': return [image.VirtualizationType];
    case 'description': return [image.Description];
    case 'creation-date': return [image.CreationDate];
    case 'hypervisor': return [image.Hypervisor];
    default: return tagFilterValues(image.Tags, name);
  }
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

function addYears(iso: string, years: number): string {
  const d = new Date(iso);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d.toISOString();
}
