/**
 * EC2 instances: launch (RunInstances and the Auto Scaling group's internal launches),
 * the state machine pending → running → shutting-down → terminated on the virtual clock,
 * DescribeInstances and TerminateInstances.
 *
 * Every state change is published as an `EC2 Instance State-change Notification` and
 * handed to in-process listeners (the Auto Scaling groups and the kubelet).
 */
import type {
  DescribeInstanceAttributeCommandInput,
  DescribeInstanceAttributeCommandOutput,
  DescribeInstancesCommandInput,
  DescribeInstancesCommandOutput,
  IamInstanceProfile,
  IamInstanceProfileSpecification,
  Instance,
  InstanceState,
  InstanceStateChange,
  Reservation,
  ResponseLaunchTemplateData,
  RunInstancesCommandInput,
  RunInstancesCommandOutput,
  Tag,
  TagSpecification,
  TerminateInstancesCommandInput,
  TerminateInstancesCommandOutput,
  Volume,
} from '@aws-sdk/client-ec2';
import type { AccountState } from './account-state';
import type { ImageRecord, SubnetRecord } from './ec2-records';
import { ec2Error } from './errors';
import type { InstanceStateChangeDetail } from './events';
import { matchesEc2Filters, paginate, tagFilterValues } from './filters';
import { INSTANCE_TYPES, instanceTypeArchitecture } from './instance-types';
import { clone } from './clone';
import type { LaunchTemplateRef, LaunchTemplateStore } from './launch-templates';

type Out<T> = Omit<T, '$metadata'>;

export type InstanceStateName = 'pending' | 'running' | 'shutting-down' | 'terminated';

const STATE_CODES: Record<InstanceStateName, number> = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48 };

/** The account id Auto Scaling launches on behalf of (RequesterId of its reservations). */
const AUTO_SCALING_REQUESTER = '940372691376';

export interface InstanceRecord {
  /** The DescribeInstances shape, kept current in place. */
  instance: Instance & { InstanceId: string; Tags: Tag[]; State: InstanceState; PrivateDnsName: string };
  reservationId: string;
  requesterId?: string;
  /** base64, as stored by EC2. */
  userData?: string;
  volumeIds: string[];
  subnet: SubnetRecord;
  hostOffset: number;
  shutdownBehavior: 'stop' | 'terminate';
  launchTemplate?: { id: string; name: string; version: number };
  /** Why the sandbox terminated it, for the timeline. */
  terminationReason?: string;
}

export interface LaunchRequest {
  launchTemplate?: LaunchTemplateRef;
  imageId?: string;
  instanceType?: string;
  subnetId?: string;
  userData?: string;
  iamInstanceProfile?: IamInstanceProfileSpecification;
  securityGroupIds?: string[];
  keyName?: string;
  tagSpecifications?: TagSpecification[];
  /** Auto Scaling's PropagateAtLaunch tags: they win over the launch template's. */
  groupTags?: Tag[];
  /** `aws:`-prefixed tags only AWS may set (`aws:autoscaling:groupName`). */
  systemTags?: Tag[];
  count: number;
  clientToken?: string;
  requesterId?: 'autoscaling';
  market?: 'spot' | 'on-demand';
}

/** What launching and terminating instances needs of the rest of EC2 (ec2.ts). */
export interface InstanceHost {
  readonly launchTemplates: LaunchTemplateStore;
  readonly images: ReadonlyMap<string, ImageRecord>;
  readonly subnets: ReadonlyMap<string, SubnetRecord>;
  readonly volumes: Map<string, Volume>;
  resolveImageAlias(imageId: string): string;
  capacityDenied(instanceType: string, availabilityZone: string): boolean;
  defaultSecurityGroup(vpcId: string): string;
  allocateAddress(subnet: SubnetRecord): { ip: string; offset: number };
  releaseAddress(subnet: SubnetRecord, offset: number): void;
  privateDnsName(ip: string): string;
  instanceProfile(spec: IamInstanceProfileSpecification): IamInstanceProfile;
}

export type InstanceStateListener = (record: InstanceRecord, previous: InstanceStateName | undefined) => void;

export class InstanceStore {
  readonly records = new Map<string, InstanceRecord>();
  /** Virtual durations of EC2's own transitions. */
  readonly timings = { pendingToRunningMs: 10_000, shuttingDownToTerminatedMs: 30_000, terminatedVisibleMs: 60 * 60_000 };
  private readonly listeners: InstanceStateListener[] = [];
  private readonly clientTokens = new Map<string, string>();

  constructor(
    private readonly account: AccountState,
    private readonly ec2: InstanceHost,
  ) {}

  onStateChange(listener: InstanceStateListener): void {
    this.listeners.push(listener);
  }

  get(id: string): InstanceRecord | undefined {
    return this.records.get(id);
  }

  /** Looks instances up as DescribeInstances would, with its error for unknown ids. */
  require(ids: readonly string[]): InstanceRecord[] {
    for (const id of ids) {
      if (!/^i-[0-9a-f]{8}([0-9a-f]{9})?$/.test(id)) throw ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
    }
    const missing = ids.filter((id) => !this.records.has(id));
    if (missing.length === 1) throw ec2Error('InvalidInstanceID.NotFound', `The instance ID '${missing[0]}' does not exist`);
    if (missing.length > 1) throw ec2Error('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
    return ids.map((id) => this.records.get(id)!);
  }

  /**
   * Launches `count` instances or none: every check (template, image, architecture,
   * subnet addresses, capacity) runs before the first instance exists.
   */
  launch(request: LaunchRequest): InstanceRecord[] {
    const { clock, ids } = this.account;
    const ec2 = this.ec2;
    let templateRef: InstanceRecord['launchTemplate'];
    let data: Record<string, unknown> = {};
    if (request.launchTemplate) {
      const record = ec2.launchTemplates.find(request.launchTemplate);
      const version = ec2.launchTemplates.resolveVersion(record, request.launchTemplate.Version);
      data = clone(version.LaunchTemplateData ?? {}) as Record<string, unknown>;
      templateRef = { id: record.template.LaunchTemplateId, name: record.template.LaunchTemplateName, version: version.VersionNumber! };
    }
    const lt = data as ResponseLaunchTemplateData;
    const firstEni = lt.NetworkInterfaces?.[0];

    const rawImageId = request.imageId ?? lt.ImageId;
    if (!rawImageId) throw ec2Error('MissingParameter', 'The request must contain the parameter ImageId');
    const imageId = ec2.resolveImageAlias(rawImageId);
    const image = ec2.images.get(imageId);
    if (!image) throw ec2Error('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
    if (image.image.State !== 'available') {
      throw ec2Error('InvalidAMIID.Unavailable', `The image ${imageId} is not available: its state is ${image.image.State}`);
    }

    const instanceType = request.instanceType ?? lt.InstanceType ?? 'm1.small';
    const typeInfo = INSTANCE_TYPES.get(instanceType);
    if (!typeInfo) throw ec2Error('InvalidParameterValue', `Invalid value '${instanceType}' for InstanceType (not in the sandbox catalogue).`);
    const arch = instanceTypeArchitecture(instanceType);
    if (arch !== image.image.Architecture) {
      throw ec2Error(
        'InvalidParameterValue',
        `The architecture '${arch}' of the specified instance type does not match the architecture '${image.image.Architecture}' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again.`,
      );
    }

    const subnetId = request.subnetId ?? firstEni?.SubnetId;
    if (!subnetId) throw ec2Error('VPCIdNotSpecified', 'No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.');
    const subnet = ec2.subnets.get(subnetId);
    if (!subnet) throw ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
    const az = subnet.subnet.AvailabilityZone!;
    if (ec2.capacityDenied(instanceType, az)) {
      const others = [...new Set([...ec2.subnets.values()].map((s) => s.subnet.AvailabilityZone!))].filter((z) => z !== az && !ec2.capacityDenied(instanceType, z));
      throw ec2Error(
        'InsufficientInstanceCapacity',
        `We currently do not have sufficient ${instanceType} capacity in the Availability Zone you requested (${az}). Our system will be working on provisioning additional capacity. You can currently get ${instanceType} capacity by not specifying an Availability Zone in your request${others.length ? ` or choosing ${others.join(', ')}` : ''}.`,
        500,
      );
    }
    if (subnet.subnet.AvailableIpAddressCount! < request.count) {
      throw ec2Error('InsufficientFreeAddressesInSubnet', `There are not enough free addresses in subnet '${subnetId}' to satisfy the requested number of instances.`);
    }

    if (request.clientToken && this.clientTokens.has(request.clientToken)) {
      const reservationId = this.clientTokens.get(request.clientToken)!;
      return [...this.records.values()].filter((r) => r.reservationId === reservationId);
    }

    const userData = request.userData ?? lt.UserData;
    const profile = request.iamInstanceProfile ?? lt.IamInstanceProfile;
    const securityGroupIds = request.securityGroupIds ?? lt.SecurityGroupIds ?? firstEni?.Groups ?? [ec2.defaultSecurityGroup(subnet.subnet.VpcId!)];
    const spot = request.market === 'spot' || lt.InstanceMarketOptions?.MarketType === 'spot';

    const instanceTags = mergeTags(
      tagsFor(lt.TagSpecifications, 'instance'),
      tagsFor(request.tagSpecifications, 'instance'),
      request.groupTags ?? [],
      templateRef
        ? [
            { Key: 'aws:ec2launchtemplate:id', Value: templateRef.id },
            { Key: 'aws:ec2launchtemplate:version', Value: String(templateRef.version) },
          ]
        : [],
      request.systemTags ?? [],
    );
    const volumeTags = mergeTags(tagsFor(lt.TagSpecifications, 'volume'), tagsFor(request.tagSpecifications, 'volume'));

    const reservationId = ids.ec2('r');
    if (request.clientToken) this.clientTokens.set(request.clientToken, reservationId);
    const now = clock.date();
    const windows = image.image.PlatformDetails === 'Windows';
    const rootDevice = image.image.RootDeviceName ?? '/dev/xvda';
    const rootSize = lt.BlockDeviceMappings?.find((b) => b.DeviceName === rootDevice)?.Ebs?.VolumeSize
      ?? image.image.BlockDeviceMappings?.[0]?.Ebs?.VolumeSize ?? 20;

    const launched: InstanceRecord[] = [];
    for (let i = 0; i < request.count; i++) {
      const instanceId = ids.ec2('i');
      const { ip, offset } = ec2.allocateAddress(subnet);
      const dns = ec2.privateDnsName(ip);
      const volume: Volume = {
        VolumeId: ids.ec2('vol'),
        Size: rootSize,
        VolumeType: 'gp3',
        Iops: 3000,
        Throughput: 125,
        Encrypted: false,
        State: 'in-use',
        AvailabilityZone: az,
        CreateTime: now,
        SnapshotId: image.image.BlockDeviceMappings?.[0]?.Ebs?.SnapshotId,
        Attachments: [{ InstanceId: instanceId, Device: rootDevice, State: 'attached', VolumeId: undefined, AttachTime: now, DeleteOnTermination: true }],
        Tags: clone(volumeTags),
      };
      volume.Attachments![0]!.VolumeId = volume.VolumeId;
      ec2.volumes.set(volume.VolumeId!, volume);

      const eniId = ids.ec2('eni');
      const record: InstanceRecord = {
        instance: {
          InstanceId: instanceId,
          ImageId: imageId,
          InstanceType: instanceType as Instance['InstanceType'],
          State: { Code: STATE_CODES.pending, Name: 'pending' },
          PrivateDnsName: dns,
          PrivateIpAddress: ip,
          PublicDnsName: '',
          StateTransitionReason: '',
          AmiLaunchIndex: i,
          ProductCodes: [],
          LaunchTime: now,
          Placement: { AvailabilityZone: az, GroupName: '', Tenancy: 'default' },
          Monitoring: { State: 'disabled' },
          SubnetId: subnetId,
          VpcId: subnet.subnet.VpcId,
          Architecture: image.image.Architecture,
          BlockDeviceMappings: [{ DeviceName: rootDevice, Ebs: { AttachTime: now, DeleteOnTermination: true, Status: 'attached', VolumeId: volume.VolumeId } }],
          ClientToken: request.clientToken ?? '',
          EbsOptimized: lt.EbsOptimized ?? true,
          EnaSupport: true,
          Hypervisor: 'xen',
          ...(profile ? { IamInstanceProfile: ec2.instanceProfile(profile) } : {}),
          ...(spot ? { InstanceLifecycle: 'spot' as const, SpotInstanceRequestId: ids.ec2('sir') } : {}),
          NetworkInterfaces: [{
            NetworkInterfaceId: eniId,
            SubnetId: subnetId,
            VpcId: subnet.subnet.VpcId,
            PrivateIpAddress: ip,
            PrivateDnsName: dns,
            Status: 'in-use',
            InterfaceType: 'interface',
            Attachment: { AttachmentId: ids.ec2('eni-attach'), DeviceIndex: 0, NetworkCardIndex: 0, Status: 'attached', AttachTime: now, DeleteOnTermination: true },
            Groups: securityGroupIds.map((g) => ({ GroupId: g, GroupName: g })),
            PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: ip, PrivateDnsName: dns }],
          }],
          RootDeviceName: rootDevice,
          RootDeviceType: 'ebs',
          SecurityGroups: securityGroupIds.map((g) => ({ GroupId: g, GroupName: g })),
          SourceDestCheck: true,
          Tags: clone(instanceTags),
          VirtualizationType: 'hvm',
          CpuOptions: { CoreCount: typeInfo.VCpuInfo?.DefaultCores, ThreadsPerCore: typeInfo.VCpuInfo?.DefaultThreadsPerCore },
          CapacityReservationSpecification: { CapacityReservationPreference: 'open' },
          HibernationOptions: { Configured: false },
          MetadataOptions: {
            State: 'applied',
            HttpTokens: lt.MetadataOptions?.HttpTokens ?? 'required',
            HttpPutResponseHopLimit: lt.MetadataOptions?.HttpPutResponseHopLimit ?? 2,
            HttpEndpoint: lt.MetadataOptions?.HttpEndpoint ?? 'enabled',
            HttpProtocolIpv6: 'disabled',
            InstanceMetadataTags: 'disabled',
          },
          EnclaveOptions: { Enabled: false },
          PlatformDetails: image.image.PlatformDetails,
          UsageOperation: image.image.UsageOperation,
          UsageOperationUpdateTime: now,
          // lowercase on the wire, whatever the SDK's enum says
          ...(windows ? { Platform: 'windows' as Instance['Platform'] } : {}),
          PrivateDnsNameOptions: { HostnameType: 'ip-name', EnableResourceNameDnsARecord: false, EnableResourceNameDnsAAAARecord: false },
          MaintenanceOptions: { AutoRecovery: 'default' },
          CurrentInstanceBootMode: 'uefi',
        },
        reservationId,
        ...(request.requesterId ? { requesterId: AUTO_SCALING_REQUESTER } : {}),
        ...(userData !== undefined ? { userData } : {}),
        volumeIds: [volume.VolumeId!],
        subnet,
        hostOffset: offset,
        shutdownBehavior: lt.InstanceInitiatedShutdownBehavior === 'terminate' ? 'terminate' : 'stop',
        ...(templateRef ? { launchTemplate: templateRef } : {}),
      };
      this.records.set(instanceId, record);
      launched.push(record);
      this.account.note('ec2', `launched ${instanceId} (${instanceType}, ${imageId}) in ${az} as ${dns}`, instanceId);
      this.transition(record, 'pending', undefined);
      clock.after(this.timings.pendingToRunningMs, () => {
        if (record.instance.State.Name === 'pending') this.transition(record, 'running', 'pending');
      });
    }
    return launched;
  }

  /** TerminateInstances; also used by Auto Scaling once a termination may proceed. */
  terminate(ids: readonly string[], reason = 'User initiated'): InstanceStateChange[] {
    const records = this.require(ids);
    return records.map((record) => {
      const previous = record.instance.State.Name as InstanceStateName;
      if (previous === 'pending' || previous === 'running') {
        const stamp = this.account.clock.iso().replace('T', ' ').replace(/\.\d{3}Z$/, ' GMT');
        record.instance.StateTransitionReason = `${reason} (${stamp})`;
        record.instance.StateReason = reason.startsWith('Server.')
          ? { Code: reason, Message: `${reason}: ${reason === 'Server.SpotInstanceTermination' ? 'Spot instance termination' : 'Service initiated'}` }
          : { Code: 'Client.UserInitiatedShutdown', Message: 'Client.UserInitiatedShutdown: User initiated shutdown' };
        record.terminationReason = reason;
        this.transition(record, 'shutting-down', previous);
        this.account.clock.after(this.timings.shuttingDownToTerminatedMs, () => this.finishTermination(record));
      }
      return {
        InstanceId: record.instance.InstanceId,
        PreviousState: { Code: STATE_CODES[previous], Name: previous },
        CurrentState: clone(record.instance.State),
      };
    });
  }

  private finishTermination(record: InstanceRecord): void {
    const { clock } = this.account;
    const ec2 = this.ec2;
    this.transition(record, 'terminated', 'shutting-down');
    ec2.releaseAddress(record.subnet, record.hostOffset);
    // a terminated instance keeps its id but loses its network identity: code that needs
    // the node name must have read it before (aws-node-termination-handler #331)
    record.instance.PrivateDnsName = '';
    delete record.instance.PrivateIpAddress;
    record.instance.NetworkInterfaces = [];
    record.instance.SecurityGroups = [];
    for (const volumeId of record.volumeIds) ec2.volumes.delete(volumeId);
    record.instance.BlockDeviceMappings = [];
    // terminated instances stay visible for about an hour, then vanish
    clock.after(this.timings.terminatedVisibleMs, () => this.records.delete(record.instance.InstanceId), { background: true });
  }

  private transition(record: InstanceRecord, state: InstanceStateName, previous: InstanceStateName | undefined): void {
    record.instance.State = { Code: STATE_CODES[state], Name: state };
    const detail: InstanceStateChangeDetail = { 'instance-id': record.instance.InstanceId, state };
    this.account.publish('EC2 Instance State-change Notification', 'aws.ec2', [this.arn(record.instance.InstanceId)], detail);
    for (const listener of this.listeners) listener(record, previous);
  }

  arn(instanceId: string): string {
    return `arn:aws:ec2:${this.account.region}:${this.account.accountId}:instance/${instanceId}`;
  }

  // ---- commands ----

  runInstances(input: RunInstancesCommandInput): Out<RunInstancesCommandOutput> {
    const count = input.MaxCount ?? input.MinCount ?? 1;
    if ((input.MinCount ?? 1) > count) throw ec2Error('InvalidParameterValue', 'MinCount must be less than or equal to MaxCount');
    const records = this.launch({
      ...(input.LaunchTemplate ? { launchTemplate: input.LaunchTemplate } : {}),
      ...(input.ImageId ? { imageId: input.ImageId } : {}),
      ...(input.InstanceType ? { instanceType: input.InstanceType } : {}),
      ...(input.SubnetId ?? input.NetworkInterfaces?.[0]?.SubnetId ? { subnetId: input.SubnetId ?? input.NetworkInterfaces?.[0]?.SubnetId } : {}),
      ...(input.UserData !== undefined ? { userData: input.UserData } : {}),
      ...(input.IamInstanceProfile ? { iamInstanceProfile: input.IamInstanceProfile } : {}),
      ...(input.SecurityGroupIds ? { securityGroupIds: input.SecurityGroupIds } : {}),
      ...(input.TagSpecifications ? { tagSpecifications: input.TagSpecifications } : {}),
      ...(input.ClientToken ? { clientToken: input.ClientToken } : {}),
      ...(input.InstanceMarketOptions?.MarketType === 'spot' ? { market: 'spot' as const } : {}),
      count,
    });
    return {
      ReservationId: records[0]!.reservationId,
      OwnerId: this.account.accountId,
      Groups: [],
      Instances: records.map((r) => clone(r.instance)),
    };
  }

  describeInstances(input: DescribeInstancesCommandInput): Out<DescribeInstancesCommandOutput> {
    if (input.InstanceIds?.length && input.MaxResults !== undefined) {
      throw ec2Error('InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
    }
    if (input.MaxResults !== undefined && (input.MaxResults < 5 || input.MaxResults > 1000)) {
      throw ec2Error('InvalidParameterValue', `Value ( ${input.MaxResults} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`);
    }
    const candidates = input.InstanceIds?.length ? this.require(input.InstanceIds) : [...this.records.values()];
    const matching = candidates.filter((r) => matchesEc2Filters(r, input.Filters, instanceFilter));
    const { page, nextToken } = paginate(matching, input.MaxResults, input.NextToken, () =>
      ec2Error('InvalidParameterValue', 'The specified NextToken is not valid.'),
    );
    const reservations = new Map<string, Reservation>();
    for (const r of page) {
      let reservation = reservations.get(r.reservationId);
      if (!reservation) {
        reservation = {
          ReservationId: r.reservationId,
          OwnerId: this.account.accountId,
          ...(r.requesterId ? { RequesterId: r.requesterId } : {}),
          Groups: [],
          Instances: [],
        };
        reservations.set(r.reservationId, reservation);
      }
      reservation.Instances!.push(clone(r.instance));
    }
    return { Reservations: [...reservations.values()], NextToken: nextToken };
  }

  describeInstanceAttribute(input: DescribeInstanceAttributeCommandInput): Out<DescribeInstanceAttributeCommandOutput> {
    const [record] = this.require([input.InstanceId ?? '']);
    const id = record!.instance.InstanceId;
    switch (input.Attribute) {
      case 'userData':
        return { InstanceId: id, UserData: record!.userData !== undefined ? { Value: record!.userData } : {} };
      case 'instanceType':
        return { InstanceId: id, InstanceType: { Value: record!.instance.InstanceType } };
      case 'disableApiTermination':
        return { InstanceId: id, DisableApiTermination: { Value: false } };
      case 'instanceInitiatedShutdownBehavior':
        return { InstanceId: id, InstanceInitiatedShutdownBehavior: { Value: record!.shutdownBehavior } };
      case 'groupSet':
        return { InstanceId: id, Groups: clone(record!.instance.SecurityGroups ?? []) };
      case 'rootDeviceName':
        return { InstanceId: id, RootDeviceName: { Value: record!.instance.RootDeviceName } };
      default:
        throw ec2Error('InvalidParameterValue', `Value (${input.Attribute}) for parameter attribute is invalid (or not modelled by the sandbox).`);
    }
  }

  terminateInstances(input: TerminateInstancesCommandInput): Out<TerminateInstancesCommandOutput> {
    const ids = input.InstanceIds ?? [];
    if (ids.length === 0) throw ec2Error('MissingParameter', 'The request must contain the parameter InstanceId');
    return { TerminatingInstances: this.terminate(ids) };
  }
}

function instanceFilter(r: InstanceRecord, name: string): readonly (string | undefined)[] | undefined {
  const i = r.instance;
  switch (name) {
    case 'instance-id': return [i.InstanceId];
    case 'instance-state-name': return [i.State.Name];
    case 'instance-state-code': return [String(i.State.Code)];
    case 'instance-type': return [i.InstanceType];
    case 'image-id': return [i.ImageId];
    case 'availability-zone': return [i.Placement?.AvailabilityZone];
    case 'subnet-id': return [i.SubnetId];
    case 'vpc-id': return [i.VpcId];
    case 'private-dns-name': return [i.PrivateDnsName];
    case 'private-ip-address': return [i.PrivateIpAddress];
    case 'network-interface.private-dns-name': return (i.NetworkInterfaces ?? []).map((n) => n.PrivateDnsName);
    case 'reservation-id': return [r.reservationId];
    case 'instance-lifecycle': return [i.InstanceLifecycle];
    case 'platform': return [i.Platform];
    case 'architecture': return [i.Architecture];
    case 'iam-instance-profile.arn': return [i.IamInstanceProfile?.Arn];
    case 'launch-time': return [i.LaunchTime?.toISOString()];
    default: return tagFilterValues(i.Tags, name);
  }
}

function tagsFor(specs: readonly { ResourceType?: string | undefined; Tags?: Tag[] | undefined }[] | undefined, type: string): Tag[] {
  return (specs ?? []).filter((s) => s.ResourceType === type).flatMap((s) => s.Tags ?? []);
}

/** Later lists win on the same key, as EC2 and Auto Scaling merge them. */
function mergeTags(...lists: readonly Tag[][]): Tag[] {
  const merged = new Map<string, string>();
  for (const list of lists) for (const t of list) if (t.Key !== undefined) merged.set(t.Key, t.Value ?? '');
  return [...merged].map(([Key, Value]) => ({ Key, Value }));
}
