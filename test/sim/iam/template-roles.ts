import { assumeMemberRoleStatement, memberAccountIdsOf, memberRoleIds, type ServerlessModel } from '../serverless-config.js';

/**
 * The IAM roles the sandbox authorizes calls against, as the packaged CloudFormation template
 * declares them: every `AWS::IAM::Role` of serverless.yml's resources (the functions' roles,
 * the schedules' role) and the role serverless-step-functions generates for each state machine
 * that names none (`<id>Role`: `lambda:InvokeFunction` on each function its definition
 * invokes, and on that function's versions and aliases, `<arn>:*`). CloudFormation's
 * intrinsics are resolved for the sandbox's account, region and names.
 *
 * test/package/sandbox-iam.slow.test.ts holds this to `serverless package`'s output: the roles the
 * sandbox evaluates are, statement for statement, the roles the template deploys.
 */
export interface SimRole {
  /** CloudFormation logical id (RollStepRole) */
  logicalId: string;
  /** the name CloudFormation gives it (the sandbox's: `<service>-<stage>-<logicalId>`) */
  name: string;
  arn: string;
  /** the inline policies, intrinsics resolved */
  policies: { name: string; policy: PolicyDocument }[];
}

export interface PolicyDocument {
  Version?: string;
  Statement: Record<string, unknown>[] | Record<string, unknown>;
}

export interface TemplateContext {
  partition: string;
  region: string;
  accountId: string;
  /** Ref of a logical id other than AWS::* (state machine ARN, function name, table name …) */
  ref(logicalId: string): string;
  /** Fn::GetAtt [logicalId, attribute] */
  getAtt(logicalId: string, attribute: string): string;
  /** a named condition of the template's Conditions (Fn::If, Condition), for templates that have them */
  condition?(name: string): boolean;
}

/** `Ref: AWS::NoValue`: the property it stands for is removed (from an object or a list). */
const NO_VALUE = Symbol('AWS::NoValue');

/**
 * Resolves CloudFormation's intrinsic functions (Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Split,
 * Fn::Select; with `ctx.condition`, Fn::If and AWS::NoValue; the condition functions Fn::Equals,
 * Fn::Not, Fn::And, Fn::Or where a template's Conditions use them).
 */
export function resolveIntrinsics(value: unknown, ctx: TemplateContext): any {
  const resolved = resolveOrNoValue(value, ctx);
  return resolved === NO_VALUE ? undefined : resolved;
}

function resolveOrNoValue(value: unknown, ctx: TemplateContext): any {
  if (Array.isArray(value)) return value.map((v) => resolveOrNoValue(v, ctx)).filter((v) => v !== NO_VALUE);
  if (!value || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  if (entries.length === 1) {
    const [fn, arg] = entries[0]!;
    switch (fn) {
      case 'Ref':
        return arg === 'AWS::NoValue' ? NO_VALUE : refOf(String(arg), ctx);
      case 'Fn::If': {
        const [name, whenTrue, whenFalse] = arg as [string, unknown, unknown];
        if (!ctx.condition) throw new Error(`Fn::If ${name}: the template context has no Conditions`);
        return resolveOrNoValue(ctx.condition(name) ? whenTrue : whenFalse, ctx);
      }
      case 'Fn::Equals': {
        const [a, b] = (arg as unknown[]).map((v) => resolveIntrinsics(v, ctx));
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'Fn::Not':
        return !resolveIntrinsics((arg as unknown[])[0], ctx);
      case 'Fn::And':
        return (arg as unknown[]).every((v) => resolveIntrinsics(v, ctx) === true);
      case 'Fn::Or':
        return (arg as unknown[]).some((v) => resolveIntrinsics(v, ctx) === true);
      case 'Condition':
        if (ctx.condition && typeof arg === 'string') return ctx.condition(arg);
        break;
      case 'Fn::GetAtt': {
        const [id, attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
        return ctx.getAtt(id!, attribute!);
      }
      case 'Fn::Sub': {
        const [template, vars] = Array.isArray(arg) ? [String(arg[0]), resolveIntrinsics(arg[1] ?? {}, ctx) as Record<string, unknown>] : [String(arg), {}];
        return template.replace(/\$\{([^}!][^}]*)\}/g, (_m, name: string) => {
          if (name in vars) return String(vars[name]);
          if (name.includes('.')) {
            const [id, attribute] = name.split('.');
            return ctx.getAtt(id!, attribute!);
          }
          return refOf(name, ctx);
        });
      }
      case 'Fn::Join': {
        const [separator, list] = arg as [string, unknown];
        return (resolveIntrinsics(list, ctx) as unknown[]).flat().join(separator);
      }
      case 'Fn::Split': {
        const [separator, source] = arg as [string, unknown];
        return String(resolveIntrinsics(source, ctx)).split(separator);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [number | string, unknown];
        return (resolveIntrinsics(list, ctx) as unknown[])[Number(index)];
      }
    }
    if (fn.startsWith('Fn::')) throw new Error(`the sandbox does not resolve ${fn}`);
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveOrNoValue(v, ctx)]).filter(([, v]) => v !== NO_VALUE));
}

function refOf(id: string, ctx: TemplateContext): string {
  switch (id) {
    case 'AWS::Partition':
      return ctx.partition;
    case 'AWS::Region':
      return ctx.region;
    case 'AWS::AccountId':
      return ctx.accountId;
    case 'AWS::URLSuffix':
      return ctx.partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
    default:
      return ctx.ref(id);
  }
}

/** Logical id of a function's AWS::Lambda::Function, as the framework names it (tagInstance → TagInstanceLambdaFunction). */
export function functionLogicalId(key: string): string {
  return `${key[0]!.toUpperCase()}${key.slice(1).replace(/-/g, 'Dash').replace(/_/g, 'Underscore')}LambdaFunction`;
}

/** The sandbox's names for the resources serverless.yml declares, as its template context. */
export function templateContext(model: ServerlessModel, partition = 'aws'): TemplateContext {
  const { region, accountId } = model;
  const resource = (id: string) => {
    const r = model.resources[id];
    if (!r) throw new Error(`the template has no resource ${id}`);
    return r;
  };
  const roleName = (id: string) => `${model.service}-${model.stage}-${id}`.slice(0, 64);
  const ctx: TemplateContext = {
    partition,
    region,
    accountId,
    ref(id) {
      const fn = model.functions.find((f) => functionLogicalId(f.key) === id);
      if (fn) return fn.name;
      const machine = model.stateMachines.find((m) => m.id === id);
      if (machine) return machine.arn;
      const r = resource(id);
      if (r.Type === 'AWS::DynamoDB::Table') return String(r.Properties.TableName);
      if (r.Type === 'AWS::IAM::Role') return roleName(id);
      if (r.Type === 'AWS::SQS::Queue') return `https://sqs.${region}.amazonaws.com/${accountId}/${r.Properties.QueueName}`;
      throw new Error(`the sandbox cannot resolve Ref ${id} (${r.Type})`);
    },
    getAtt(id, attribute) {
      if (attribute !== 'Arn') throw new Error(`the sandbox resolves Fn::GetAtt ${id}.Arn only, not ${attribute}`);
      const fn = model.functions.find((f) => functionLogicalId(f.key) === id);
      if (fn) return fn.arn.replace(/^arn:aws:/, `arn:${partition}:`);
      const machineRole = model.stateMachines.find((m) => `${m.id}Role` === id);
      if (machineRole) return `arn:${partition}:iam::${accountId}:role/${roleName(id)}`;
      const r = resource(id);
      const props = r.Properties ?? {};
      switch (r.Type) {
        case 'AWS::DynamoDB::Table':
          return `arn:${partition}:dynamodb:${region}:${accountId}:table/${props.TableName}`;
        case 'AWS::SQS::Queue':
          return `arn:${partition}:sqs:${region}:${accountId}:${props.QueueName}`;
        case 'AWS::IAM::Role':
          return `arn:${partition}:iam::${accountId}:role${props.Path ?? '/'}${props.RoleName ?? roleName(id)}`;
        default:
          throw new Error(`the sandbox cannot resolve Fn::GetAtt ${id}.Arn (${r.Type})`);
      }
    },
  };
  return ctx;
}

/** Every role the deployed service has: those serverless.yml declares and those its state machines get. */
export function templateRoles(model: ServerlessModel, ctx: TemplateContext = templateContext(model)): Map<string, SimRole> {
  const roles = new Map<string, SimRole>();
  for (const [logicalId, r] of Object.entries(model.resources)) {
    if (r.Type !== 'AWS::IAM::Role') continue;
    const policies = ((r.Properties?.Policies ?? []) as { PolicyName: unknown; PolicyDocument: unknown }[]).map((p) => ({
      name: String(resolveIntrinsics(p.PolicyName, ctx)),
      policy: resolveIntrinsics(p.PolicyDocument, ctx) as PolicyDocument,
    }));
    roles.set(logicalId, { logicalId, name: ctx.ref(logicalId), arn: ctx.getAtt(logicalId, 'Arn'), policies });
  }
  // with member accounts, the hub plugin (scripts/deploy/member-accounts.cjs) lets each role that
  // has member roles assume them: its own statement, resolved here as the plugin writes it
  const members = memberAccountIdsOf(model);
  if (members.length > 0) {
    for (const logicalId of memberRoleIds(model.resources)) {
      const statement = resolveIntrinsics(assumeMemberRoleStatement(model.stage, logicalId, members), ctx) as Record<string, unknown>;
      roles.get(logicalId)?.policies.push({ name: 'assume-member-roles', policy: { Version: '2012-10-17', Statement: [statement] } });
    }
  }
  for (const machine of model.stateMachines) {
    const logicalId = `${machine.id}Role`;
    if (roles.has(logicalId)) continue;
    const invoked = invokedFunctionArns(machine.definition).map((arn) => arn.replace(/^arn:aws:/, `arn:${ctx.partition}:`));
    roles.set(logicalId, {
      logicalId,
      name: `${model.service}-${model.stage}-${logicalId}`.slice(0, 64),
      arn: ctx.getAtt(logicalId, 'Arn'),
      policies: [
        {
          name: `${model.stage}-${model.service}-statemachine`,
          policy: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: invoked.flatMap((arn) => [arn, `${arn}:*`]) },
              // with a loggingConfig, the plugin lets the role set up CloudWatch Logs delivery (AWS requires Resource "*" for these:
              // https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy)
              ...(machine.logging ? [{ Effect: 'Allow' as const, Action: [...LOG_DELIVERY_ACTIONS], Resource: '*' }] : []),
            ],
          },
        },
      ],
    });
  }
  return roles;
}

/** What serverless-step-functions grants a state machine's role when it has a loggingConfig. */
const LOG_DELIVERY_ACTIONS = ['logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery', 'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups'] as const;

/** The function ARNs a state machine definition invokes (Task Resource, or lambda:invoke's FunctionName), in order of first appearance. */
export function invokedFunctionArns(definition: unknown): string[] {
  const found: string[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const state = node as Record<string, unknown>;
    if (state.Type === 'Task') {
      const resource = String(state.Resource ?? '');
      const target = resource.startsWith('arn:aws:states:::lambda:invoke') ? (state.Parameters as Record<string, unknown> | undefined)?.FunctionName : resource;
      if (typeof target === 'string' && /^arn:[^:]+:lambda:/.test(target) && !found.includes(target)) found.push(target);
    }
    Object.values(state).forEach(visit);
  };
  visit(definition);
  return found;
}
