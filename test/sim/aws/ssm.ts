/**
 * SSM Parameter Store, as far as this project reads it: the public parameters under
 * /aws/service/ through which AWS announces the latest EKS-optimized, Bottlerocket and
 * Windows AMIs, and the account's own private parameters (the service's secrets). Tests
 * release a new AMI with `publish` (or `releaseAmi` in ami-catalogue.ts, which also
 * registers the image), store a secret with `putSecureString` (or `putParameter`), and a
 * Secrets Manager secret readable through `/aws/reference/secretsmanager/` with `putSecret`.
 *
 * A SecureString is read as AWS answers it: its plaintext only with `WithDecryption`, a
 * KMS-ciphertext-like base64 blob otherwise (GetParameter, GetParameters and
 * GetParametersByPath alike). A Secrets Manager reference without `WithDecryption` is a
 * ValidationException, as in AWS.
 */
import { createHash } from 'node:crypto';
import {
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  type GetParameterCommandInput,
  type GetParameterCommandOutput,
  type GetParametersByPathCommandInput,
  type GetParametersByPathCommandOutput,
  type GetParametersCommandInput,
  type GetParametersCommandOutput,
  type Parameter,
} from '@aws-sdk/client-ssm';
import type { AccountState } from './account-state';
import { SandboxNotImplementedError, ssmInvalidNextToken, ssmParameterNotFound, ssmValidation } from './errors';
import { paginate } from './filters';
import { clone } from './clone';
import { route, type Route } from './routes';

type Out<T> = Omit<T, '$metadata'>;

interface ParameterRecord {
  history: Parameter[];
}

/** Where SSM exposes Secrets Manager secrets (read-only, WithDecryption required). */
export const SECRETS_MANAGER_REFERENCE_PREFIX = '/aws/reference/secretsmanager/';

export type ParameterType = 'String' | 'StringList' | 'SecureString';

export interface PutParameterOptions {
  /** default String */
  type?: ParameterType;
  /** the KMS key of a SecureString; default `alias/aws/ssm` (the AWS-managed key) */
  keyId?: string;
  at?: Date;
}

export class SsmService {
  private readonly parameters = new Map<string, ParameterRecord>();
  /** the stored SecureString versions and what GetParameter shows without decryption */
  private readonly ciphertexts = new WeakMap<Parameter, string>();

  constructor(private readonly account: AccountState) {}

  /**
   * Creates or updates a parameter (a new version), as AWS does when it releases an AMI.
   * `aws:ec2:image` is the data type AWS uses for AMI id parameters.
   */
  publish(name: string, value: string, options: { dataType?: 'text' | 'aws:ec2:image'; at?: Date } = {}): Parameter {
    const record = this.parameters.get(name) ?? { history: [] };
    const isPublic = name.startsWith('/aws/service/');
    const parameter: Parameter = {
      Name: name,
      Type: 'String',
      Value: value,
      Version: record.history.length + 1,
      LastModifiedDate: options.at ?? this.account.clock.date(),
      ARN: isPublic
        ? `arn:aws:ssm:${this.account.region}::parameter${name}`
        : `arn:aws:ssm:${this.account.region}:${this.account.accountId}:parameter${name.startsWith('/') ? '' : '/'}${name}`,
      DataType: options.dataType ?? (/^ami-[0-9a-f]+$/.test(value) ? 'aws:ec2:image' : 'text'),
    };
    record.history.push(parameter);
    this.parameters.set(name, record);
    return clone(parameter);
  }

  /**
   * Creates or updates one of the account's own parameters (a new version), as
   * `aws ssm put-parameter --overwrite` does. The sandbox's secrets are SecureStrings: see
   * `putSecureString`.
   */
  putParameter(name: string, value: string, options: PutParameterOptions = {}): Parameter {
    if (name.startsWith('/aws/')) throw new Error(`sandbox: ${name} is in the AWS-reserved namespace (use publish or putSecret)`);
    if (value.length === 0) throw new Error(`sandbox: SSM refuses an empty value for ${name}`);
    return this.store(name, value, options.type ?? 'String', options.keyId ?? 'alias/aws/ssm', options.at, this.accountArn(name));
  }

  /** Stores a SecureString parameter (a secret), readable in plaintext only `WithDecryption`. */
  putSecureString(name: string, value: string, options: Omit<PutParameterOptions, 'type'> = {}): Parameter {
    return this.putParameter(name, value, { ...options, type: 'SecureString' });
  }

  /**
   * Stores a Secrets Manager secret as SSM shows it: the parameter
   * `/aws/reference/secretsmanager/<secretName>`, a SecureString whose value is the
   * SecretString. Returns that parameter name (what the code under test is configured with).
   */
  putSecret(secretName: string, value: string, options: { at?: Date } = {}): string {
    const name = `${SECRETS_MANAGER_REFERENCE_PREFIX}${secretName}`;
    const suffix = createHash('sha256').update(secretName).digest('base64url').replace(/[^A-Za-z0-9]/g, '').slice(0, 6);
    this.store(name, value, 'SecureString', 'alias/aws/secretsmanager', options.at, `arn:aws:secretsmanager:${this.account.region}:${this.account.accountId}:secret:${secretName}-${suffix}`);
    return name;
  }

  private store(name: string, value: string, type: ParameterType, keyId: string, at: Date | undefined, arn: string): Parameter {
    const record = this.parameters.get(name) ?? { history: [] };
    const parameter: Parameter = {
      Name: name,
      Type: type,
      Value: value,
      Version: record.history.length + 1,
      LastModifiedDate: at ?? this.account.clock.date(),
      ARN: arn,
      DataType: 'text',
    };
    if (type === 'SecureString') this.ciphertexts.set(parameter, ciphertextFor(keyId, parameter));
    record.history.push(parameter);
    this.parameters.set(name, record);
    return this.view(parameter, true);
  }

  private accountArn(name: string): string {
    return `arn:aws:ssm:${this.account.region}:${this.account.accountId}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
  }

  /** A parameter as an answer shows it: a SecureString's plaintext only when decrypted. */
  private view(parameter: Parameter, withDecryption: boolean | undefined): Parameter {
    const shown = clone(parameter);
    const ciphertext = this.ciphertexts.get(parameter);
    if (ciphertext !== undefined && !withDecryption) shown.Value = ciphertext;
    return shown;
  }

  private refuseUndecryptedSecret(name: string, withDecryption: boolean | undefined): void {
    if (!withDecryption && name.startsWith(SECRETS_MANAGER_REFERENCE_PREFIX)) {
      throw ssmValidation('WithDecryption flag must be True for retrieving a Secret Manager secret.');
    }
  }

  value(name: string): string | undefined {
    return this.current(name)?.Value;
  }

  private current(name: string): Parameter | undefined {
    return this.parameters.get(name)?.history.at(-1);
  }

  /** `name`, `name:3` (version selector) or the parameter's ARN. */
  private lookup(reference: string): Parameter | undefined {
    let name = reference;
    const arn = /^arn:aws:ssm:[^:]+:\d*:parameter(\/.*)$/.exec(reference);
    if (arn) name = arn[1]!;
    const selector = /^(.*):(\d+)$/.exec(name);
    if (selector) return this.parameters.get(selector[1]!)?.history[Number(selector[2]) - 1];
    return this.current(name);
  }

  // ---- commands ----

  getParameter(input: GetParameterCommandInput): Out<GetParameterCommandOutput> {
    this.refuseUndecryptedSecret(input.Name ?? '', input.WithDecryption);
    const parameter = this.lookup(input.Name ?? '');
    if (!parameter) throw ssmParameterNotFound();
    return { Parameter: this.view(parameter, input.WithDecryption) };
  }

  getParameters(input: GetParametersCommandInput): Out<GetParametersCommandOutput> {
    const names = input.Names ?? [];
    if (names.length === 0 || names.length > 10) {
      throw ssmValidation(
        `1 validation error detected: Value '[${names.join(', ')}]' at 'names' failed to satisfy constraint: Member must have length ${names.length === 0 ? 'greater than or equal to 1' : 'less than or equal to 10'}`,
      );
    }
    const found: Parameter[] = [];
    const invalid: string[] = [];
    for (const name of names) this.refuseUndecryptedSecret(name, input.WithDecryption);
    for (const name of names) {
      const parameter = this.lookup(name);
      if (parameter) found.push(this.view(parameter, input.WithDecryption));
      else invalid.push(name);
    }
    return { Parameters: found, InvalidParameters: invalid };
  }

  getParametersByPath(input: GetParametersByPathCommandInput): Out<GetParametersByPathCommandOutput> {
    const path = input.Path ?? '';
    if (!path.startsWith('/')) throw ssmValidation(`The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash "/".`);
    if (input.MaxResults !== undefined && (input.MaxResults < 1 || input.MaxResults > 10)) {
      throw ssmValidation(`1 validation error detected: Value '${input.MaxResults}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10`);
    }
    if (input.ParameterFilters?.length) throw new SandboxNotImplementedError('ssm', 'GetParametersByPath with ParameterFilters');
    const prefix = path.endsWith('/') ? path : `${path}/`;
    const matching = [...this.parameters.keys()]
      .filter((name) => name.startsWith(prefix) && (input.Recursive || !name.slice(prefix.length).includes('/')))
      .sort()
      .map((name) => this.view(this.current(name)!, input.WithDecryption));
    // SSM pages at 10 even when MaxResults is omitted: callers must follow NextToken
    const { page, nextToken } = paginate(matching, input.MaxResults ?? 10, input.NextToken, ssmInvalidNextToken);
    return { Parameters: page, NextToken: nextToken };
  }

  routes(): Route[] {
    return [
      route('ssm', GetParameterCommand, (i) => this.getParameter(i)),
      route('ssm', GetParametersCommand, (i) => this.getParameters(i)),
      route('ssm', GetParametersByPathCommand, (i) => this.getParametersByPath(i)),
    ];
  }
}

/**
 * What GetParameter shows for a SecureString read without decryption: base64 shaped like a
 * KMS ciphertext blob (`AQICAH…`), derived from the key, name and version only, so it is
 * stable across runs and carries nothing of the plaintext.
 */
function ciphertextFor(keyId: string, parameter: Parameter): string {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return Buffer.concat([
    Buffer.from([0x01, 0x02, 0x02, 0x00, 0x78]),
    digest(`kms:${keyId}`),
    digest(`${parameter.Name}:${parameter.Version}`),
  ]).toString('base64');
}
