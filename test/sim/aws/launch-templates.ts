/**
 * EC2 launch templates and their versions.
 *
 * Semantics kept from EC2 because code under test depends on them:
 * - versions are numbered from 1 and never reused; `$Latest` is the highest existing
 *   version, `$Default` the one marked default (1 until ModifyLaunchTemplate moves it);
 * - CreateLaunchTemplateVersion with `SourceVersion` inherits every top-level launch
 *   parameter the new data does not set; without it the version holds only what was given;
 * - a repeated `ClientToken` returns the original result, a reused token with different
 *   parameters is `IdempotentParameterMismatch`;
 * - the per-template version quota (10,000) is enforced, and the default version cannot be
 *   deleted.
 */
import type {
  CreateLaunchTemplateCommandInput,
  CreateLaunchTemplateCommandOutput,
  CreateLaunchTemplateVersionCommandInput,
  CreateLaunchTemplateVersionCommandOutput,
  DeleteLaunchTemplateCommandInput,
  DeleteLaunchTemplateCommandOutput,
  DeleteLaunchTemplateVersionsCommandInput,
  DeleteLaunchTemplateVersionsCommandOutput,
  DescribeLaunchTemplatesCommandInput,
  DescribeLaunchTemplatesCommandOutput,
  DescribeLaunchTemplateVersionsCommandInput,
  DescribeLaunchTemplateVersionsCommandOutput,
  LaunchTemplate,
  LaunchTemplateVersion,
  ModifyLaunchTemplateCommandInput,
  ModifyLaunchTemplateCommandOutput,
  RequestLaunchTemplateData,
  ResponseLaunchTemplateData,
  Tag,
  ValidationError,
} from '@aws-sdk/client-ec2';
import type { AccountState } from './account-state';
import type { ImageRecord } from './ec2-records';
import { ec2Error } from './errors';
import { matchesEc2Filters, paginate, tagFilterValues } from './filters';
import { clone } from './clone';
import { INSTANCE_TYPES } from './instance-types';

type Out<T> = Omit<T, '$metadata'>;

export interface LaunchTemplateRecord {
  template: LaunchTemplate & { LaunchTemplateId: string; LaunchTemplateName: string; Tags: Tag[] };
  versions: Map<number, LaunchTemplateVersion>;
  nextVersion: number;
  /** ClientToken → fingerprint of the request and the version it created. */
  versionTokens: Map<string, { fingerprint: string; version: number }>;
}

export interface LaunchTemplateRef {
  LaunchTemplateId?: string | undefined;
  LaunchTemplateName?: string | undefined;
  Version?: string | undefined;
}

/** What templates need of EC2's images (ec2.ts holds them). */
export interface TemplateImages {
  readonly images: ReadonlyMap<string, ImageRecord>;
  resolveImageAlias(imageId: string): string;
}

const NAME_PATTERN = /^[a-zA-Z0-9().\-/_]{3,128}$/;
const ID_PATTERN = /^lt-[0-9a-f]{17}$/;
const MAX_USER_DATA_BYTES = 16384;

export class LaunchTemplateStore {
  readonly templates = new Map<string, LaunchTemplateRecord>();
  /** EC2's quota of versions per template; lower it in a test to reach the limit. */
  versionLimit = 10_000;
  private readonly createTokens = new Map<string, { fingerprint: string; id: string }>();

  constructor(
    private readonly account: AccountState,
    private readonly ec2: TemplateImages,
  ) {}

  // ---- lookups used by RunInstances, Auto Scaling and EKS ----

  find(ref: LaunchTemplateRef): LaunchTemplateRecord {
    if (ref.LaunchTemplateId !== undefined) {
      if (!ID_PATTERN.test(ref.LaunchTemplateId)) {
        throw ec2Error('InvalidLaunchTemplateId.Malformed', `The specified launch template ID ${ref.LaunchTemplateId} is malformed.`);
      }
      const record = this.templates.get(ref.LaunchTemplateId);
      if (!record) {
        throw ec2Error('InvalidLaunchTemplateId.NotFound', `The specified launch template, with template ID ${ref.LaunchTemplateId}, does not exist.`);
      }
      return record;
    }
    if (ref.LaunchTemplateName !== undefined) {
      const record = [...this.templates.values()].find((r) => r.template.LaunchTemplateName === ref.LaunchTemplateName);
      if (!record) {
        throw ec2Error('InvalidLaunchTemplateName.NotFoundException', `The specified launch template, with template name ${ref.LaunchTemplateName}, does not exist.`);
      }
      return record;
    }
    throw ec2Error('MissingParameter', 'The request must include either the launch template ID or the launch template name.');
  }

  /** `$Latest`, `$Default`, a number, or unspecified (= `$Default`, as RunInstances does). */
  resolveVersion(record: LaunchTemplateRecord, version: string | undefined): LaunchTemplateVersion {
    const number = this.versionNumber(record, version);
    const found = record.versions.get(number);
    if (!found) {
      throw ec2Error(
        'InvalidLaunchTemplateId.VersionNotFound',
        `Could not find launch template version ${version} for launch template ${record.template.LaunchTemplateId}.`,
      );
    }
    return found;
  }

  private versionNumber(record: LaunchTemplateRecord, version: string | undefined): number {
    if (version === undefined || version === '$Default') return record.template.DefaultVersionNumber!;
    if (version === '$Latest') return record.template.LatestVersionNumber!;
    if (!/^\d+$/.test(version)) {
      throw ec2Error('InvalidLaunchTemplateId.VersionNotFound', `The specified launch template version ${version} is not valid.`);
    }
    return Number(version);
  }

  // ---- commands ----

  create(input: CreateLaunchTemplateCommandInput, options: { createdBy?: string } = {}): Out<CreateLaunchTemplateCommandOutput> {
    const name = input.LaunchTemplateName ?? '';
    const fingerprint = JSON.stringify({ ...input, ClientToken: undefined });
    if (input.ClientToken) {
      const seen = this.createTokens.get(input.ClientToken);
      if (seen) {
        if (seen.fingerprint !== fingerprint) throw idempotencyMismatch();
        return { LaunchTemplate: clone(this.templates.get(seen.id)!.template) };
      }
    }
    if (!NAME_PATTERN.test(name)) {
      throw ec2Error('InvalidLaunchTemplateName.MalformedException', `The launch template name ${name} is malformed. Names can contain 3 to 128 characters: letters, numbers, ( ) . - / _`);
    }
    if ([...this.templates.values()].some((r) => r.template.LaunchTemplateName === name)) {
      throw ec2Error('InvalidLaunchTemplateName.AlreadyExistsException', `Launch template name already in use.`);
    }
    if (!input.LaunchTemplateData) throw ec2Error('MissingParameter', 'The request must contain the parameter LaunchTemplateData.');
    validateData(input.LaunchTemplateData);

    const id = this.account.ids.ec2('lt');
    const now = this.account.clock.date();
    const tags = (input.TagSpecifications ?? [])
      .filter((s) => s.ResourceType === 'launch-template')
      .flatMap((s) => s.Tags ?? []);
    const record: LaunchTemplateRecord = {
      template: {
        LaunchTemplateId: id,
        LaunchTemplateName: name,
        CreateTime: now,
        CreatedBy: options.createdBy ?? this.account.callerArn,
        DefaultVersionNumber: 1,
        LatestVersionNumber: 1,
        Tags: tags.map((t) => ({ Key: t.Key, Value: t.Value ?? '' })),
      },
      versions: new Map(),
      nextVersion: 2,
      versionTokens: new Map(),
    };
    record.versions.set(1, {
      LaunchTemplateId: id,
      LaunchTemplateName: name,
      VersionNumber: 1,
      VersionDescription: input.VersionDescription,
      CreateTime: now,
      CreatedBy: record.template.CreatedBy,
      DefaultVersion: true,
      LaunchTemplateData: toResponseData(input.LaunchTemplateData),
    });
    this.templates.set(id, record);
    if (input.ClientToken) this.createTokens.set(input.ClientToken, { fingerprint, id });
    this.account.note('ec2', `created launch template ${name} (${id})`);
    const warnings = this.warnings(input.LaunchTemplateData);
    return { LaunchTemplate: clone(record.template), ...(warnings.length ? { Warning: { Errors: warnings } } : {}) };
  }

  createVersion(input: CreateLaunchTemplateVersionCommandInput, options: { createdBy?: string } = {}): Out<CreateLaunchTemplateVersionCommandOutput> {
    const record = this.find(input);
    const fingerprint = JSON.stringify({ ...input, ClientToken: undefined, LaunchTemplateName: undefined, LaunchTemplateId: record.template.LaunchTemplateId });
    if (input.ClientToken) {
      const seen = record.versionTokens.get(input.ClientToken);
      if (seen) {
        if (seen.fingerprint !== fingerprint) throw idempotencyMismatch();
        const existing = record.versions.get(seen.version);
        if (existing) return { LaunchTemplateVersion: clone(existing) };
      }
    }
    if (!input.LaunchTemplateData) throw ec2Error('MissingParameter', 'The request must contain the parameter LaunchTemplateData.');
    validateData(input.LaunchTemplateData);
    if (record.versions.size >= this.versionLimit) {
      throw ec2Error(
        'VersionLimitExceeded',
        `You've reached the limit of ${this.versionLimit} versions for launch template ${record.template.LaunchTemplateId}. Delete unused versions and try again.`,
      );
    }
    let data = toResponseData(input.LaunchTemplateData);
    if (input.SourceVersion !== undefined) {
      const source = this.resolveVersion(record, input.SourceVersion);
      // top-level parameters given in the request replace the source's; the rest is inherited
      data = { ...clone(source.LaunchTemplateData ?? {}), ...stripUndefined(data) };
    }
    const number = record.nextVersion++;
    const version: LaunchTemplateVersion = {
      LaunchTemplateId: record.template.LaunchTemplateId,
      LaunchTemplateName: record.template.LaunchTemplateName,
      VersionNumber: number,
      VersionDescription: input.VersionDescription,
      CreateTime: this.account.clock.date(),
      CreatedBy: options.createdBy ?? this.account.callerArn,
      DefaultVersion: false,
      LaunchTemplateData: data,
    };
    record.versions.set(number, version);
    record.template.LatestVersionNumber = number;
    if (input.ClientToken) record.versionTokens.set(input.ClientToken, { fingerprint, version: number });
    this.account.note('ec2', `launch template ${record.template.LaunchTemplateName} version ${number} created${data.ImageId ? ` (image ${data.ImageId})` : ''}`);
    const warnings = this.warnings(input.LaunchTemplateData);
    return { LaunchTemplateVersion: clone(version), ...(warnings.length ? { Warning: { Errors: warnings } } : {}) };
  }

  describe(input: DescribeLaunchTemplatesCommandInput): Out<DescribeLaunchTemplatesCommandOutput> {
    let records: LaunchTemplateRecord[];
    if (input.LaunchTemplateIds?.length) {
      records = input.LaunchTemplateIds.map((id) => this.find({ LaunchTemplateId: id }));
    } else if (input.LaunchTemplateNames?.length) {
      records = input.LaunchTemplateNames.map((name) => {
        try {
          return this.find({ LaunchTemplateName: name });
        } catch {
          throw ec2Error('InvalidLaunchTemplateName.NotFoundException', 'At least one of the launch templates specified in the request does not exist.');
        }
      });
    } else {
      records = [...this.templates.values()];
    }
    const matching = records.filter((r) =>
      matchesEc2Filters(r.template, input.Filters, (t, name) => {
        if (name === 'launch-template-name') return [t.LaunchTemplateName];
        if (name === 'create-time') return [t.CreateTime?.toISOString()];
        return tagFilterValues(t.Tags, name);
      }),
    );
    const { page, nextToken } = paginate(matching, input.MaxResults, input.NextToken, invalidToken);
    return { LaunchTemplates: page.map((r) => clone(r.template)), NextToken: nextToken };
  }

  describeVersions(input: DescribeLaunchTemplateVersionsCommandInput): Out<DescribeLaunchTemplateVersionsCommandOutput> {
    const wanted = input.Versions ?? [];
    let versions: LaunchTemplateVersion[];
    if (input.LaunchTemplateId === undefined && input.LaunchTemplateName === undefined) {
      // without a template EC2 only answers $Latest / $Default across all templates
      if (wanted.length === 0 || wanted.some((v) => v !== '$Latest' && v !== '$Default')) {
        throw ec2Error('MissingParameter', 'The request must include either the launch template ID or the launch template name, unless Versions is $Latest or $Default.');
      }
      versions = [...this.templates.values()].flatMap((r) => uniqueVersions(wanted.map((v) => this.resolveVersion(r, v))));
    } else {
      const record = this.find(input);
      if (wanted.length > 0) {
        versions = uniqueVersions(wanted.map((v) => this.resolveVersion(record, v)));
      } else {
        // newest first, as EC2 lists them
        versions = [...record.versions.values()].sort((a, b) => b.VersionNumber! - a.VersionNumber!);
      }
      const min = input.MinVersion !== undefined ? this.versionNumber(record, input.MinVersion) : undefined;
      const max = input.MaxVersion !== undefined ? this.versionNumber(record, input.MaxVersion) : undefined;
      versions = versions.filter((v) => (min === undefined || v.VersionNumber! >= min) && (max === undefined || v.VersionNumber! <= max));
    }
    versions = versions.filter((v) =>
      matchesEc2Filters(v, input.Filters, (version, name) => {
        const data = version.LaunchTemplateData ?? {};
        switch (name) {
          case 'is-default-version': return [String(version.DefaultVersion === true)];
          case 'image-id': return [data.ImageId];
          case 'instance-type': return [data.InstanceType];
          case 'create-time': return [version.CreateTime?.toISOString()];
          default: return undefined;
        }
      }),
    );
    const { page, nextToken } = paginate(versions, input.MaxResults, input.NextToken, invalidToken);
    return {
      LaunchTemplateVersions: page.map((v) => {
        const out = clone(v);
        if (input.ResolveAlias && out.LaunchTemplateData?.ImageId?.startsWith('resolve:ssm:')) {
          out.LaunchTemplateData.ImageId = this.ec2.resolveImageAlias(out.LaunchTemplateData.ImageId);
        }
        return out;
      }),
      NextToken: nextToken,
    };
  }

  modify(input: ModifyLaunchTemplateCommandInput): Out<ModifyLaunchTemplateCommandOutput> {
    const record = this.find(input);
    if (input.DefaultVersion !== undefined) {
      const version = this.resolveVersion(record, input.DefaultVersion);
      for (const v of record.versions.values()) v.DefaultVersion = v === version;
      record.template.DefaultVersionNumber = version.VersionNumber;
      this.account.note('ec2', `launch template ${record.template.LaunchTemplateName} default version is now ${version.VersionNumber}`);
    }
    return { LaunchTemplate: clone(record.template) };
  }

  deleteVersions(input: DeleteLaunchTemplateVersionsCommandInput): Out<DeleteLaunchTemplateVersionsCommandOutput> {
    const record = this.find(input);
    const requested = input.Versions ?? [];
    if (requested.length > 200) {
      throw ec2Error('InvalidParameterValue', 'You can specify a maximum of 200 launch template version numbers in a single request.');
    }
    const ok: { LaunchTemplateId: string; LaunchTemplateName: string; VersionNumber: number }[] = [];
    const failed: NonNullable<Out<DeleteLaunchTemplateVersionsCommandOutput>['UnsuccessfullyDeletedLaunchTemplateVersions']> = [];
    for (const raw of requested) {
      const number = Number(raw);
      const ids = { LaunchTemplateId: record.template.LaunchTemplateId, LaunchTemplateName: record.template.LaunchTemplateName };
      if (!record.versions.has(number)) {
        failed.push({ ...ids, VersionNumber: Number.isFinite(number) ? number : undefined, ResponseError: { Code: 'launchTemplateVersionDoesNotExist', Message: `The specified launch template version does not exist.` } });
      } else if (number === record.template.DefaultVersionNumber) {
        failed.push({ ...ids, VersionNumber: number, ResponseError: { Code: 'unexpectedError', Message: 'Cannot delete the default version of a launch template. To delete all versions, delete the launch template.' } });
      } else {
        record.versions.delete(number);
        ok.push({ ...ids, VersionNumber: number });
      }
    }
    record.template.LatestVersionNumber = Math.max(...record.versions.keys());
    return { SuccessfullyDeletedLaunchTemplateVersions: ok, UnsuccessfullyDeletedLaunchTemplateVersions: failed };
  }

  deleteTemplate(input: DeleteLaunchTemplateCommandInput): Out<DeleteLaunchTemplateCommandOutput> {
    const record = this.find(input);
    this.templates.delete(record.template.LaunchTemplateId);
    return { LaunchTemplate: clone(record.template) };
  }

  /** CreateLaunchTemplate(Version) accept unknown AMIs and types but say so in `Warning`. */
  private warnings(data: RequestLaunchTemplateData): ValidationError[] {
    const out: ValidationError[] = [];
    if (data.ImageId && !data.ImageId.startsWith('resolve:ssm:') && !this.ec2.images.has(data.ImageId)) {
      out.push({ Code: 'InvalidAMIID.NotFound', Message: `The image id '[${data.ImageId}]' does not exist` });
    }
    if (data.InstanceType && !INSTANCE_TYPES.has(data.InstanceType)) {
      out.push({ Code: 'InvalidInstanceType', Message: `The instance type '${data.InstanceType}' does not exist` });
    }
    return out;
  }
}

function validateData(data: RequestLaunchTemplateData): void {
  if (data.UserData !== undefined) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data.UserData) || data.UserData.length % 4 !== 0) {
      throw ec2Error('InvalidUserData.Malformed', 'Invalid BASE64 encoding of user data.');
    }
    if (Buffer.from(data.UserData, 'base64').length > MAX_USER_DATA_BYTES) {
      throw ec2Error('InvalidParameterValue', `User data is limited to ${MAX_USER_DATA_BYTES} bytes.`);
    }
  }
}

function idempotencyMismatch(): Error {
  return ec2Error('IdempotentParameterMismatch', 'The client token you have provided is associated with a resource that is already deleted or has different parameters. Please use a different client token.');
}

function invalidToken(): Error {
  return ec2Error('InvalidParameterValue', 'The specified NextToken is not valid.');
}

function uniqueVersions(list: LaunchTemplateVersion[]): LaunchTemplateVersion[] {
  return [...new Set(list)];
}

/** The request and response shapes of launch template data are field-for-field the same. */
function toResponseData(data: RequestLaunchTemplateData): ResponseLaunchTemplateData {
  return clone(data) as unknown as ResponseLaunchTemplateData;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
