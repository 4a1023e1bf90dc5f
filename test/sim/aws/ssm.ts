/**
 * SSM Parameter Store, as far as this project reads it: the public parameters under
 * /aws/service/ through which AWS announces the latest EKS-optimized, Bottlerocket and
 * Windows AMIs. Tests release a new AMI with `publish` (or `releaseAmi` in
 * ami-catalogue.ts, which also registers the image).
 */
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
import type { SimAccount } from './account';
import { SandboxNotImplementedError, ssmInvalidNextToken, ssmParameterNotFound, ssmValidation } from './errors';
import { paginate } from './filters';
import { clone } from './clone';
import { route, type Route } from './routes';

type Out<T> = Omit<T, '$metadata'>;

interface ParameterRecord {
  history: Parameter[];
}

export class SsmService {
  private readonly parameters = new Map<string, ParameterRecord>();

  constructor(private readonly account: SimAccount) {}

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
    const parameter = this.lookup(input.Name ?? '');
    if (!parameter) throw ssmParameterNotFound();
    return { Parameter: clone(parameter) };
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
    for (const name of names) {
      const parameter = this.lookup(name);
      if (parameter) found.push(clone(parameter));
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
      .map((name) => clone(this.current(name)!));
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
