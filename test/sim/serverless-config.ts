import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

/**
 * Reads `serverless.yml` the way the sandbox needs it: the functions (handler module,
 * environment, EventBridge patterns, async retry settings) and the state machines (their
 * definition files, with `Fn::GetAtt [fn, Arn]` resolved to function ARNs). The sandbox has
 * no routing table or function list of its own: what is deployed is what runs.
 *
 * Only the Serverless variables this project uses are resolved (`opt`, `param`, `sls`,
 * `self`, `file`, and `required` — a param without a default, scripts/deploy/required-params.cjs);
 * `${AWS::…}` placeholders of `Fn::Sub` are left alone, as the framework does.
 */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// the deploy's own rules: which functions talk to clusters, and what the vpc params say
const deployRules = createRequire(import.meta.url);
const { buildsKubeClients } = deployRules('../../scripts/deploy/kubernetes-facing.cjs') as { buildsKubeClients: (root: string, module: string) => boolean };
const { vpcSettings } = deployRules('../../scripts/deploy/vpc.cjs') as {
  vpcSettings: (settings: unknown) => { subnetIds: string[]; securityGroupIds: string[]; error?: undefined } | { error: string } | undefined;
};
// the hub plugin's rules for member accounts: the roles that have member roles, what they are told, what they may assume
const memberRules = deployRules('../../scripts/deploy/member-accounts.cjs') as {
  memberRoleIds: (resources: Record<string, unknown>) => string[];
  memberRoleEnvironment: (stage: string, logicalId: string) => { MEMBER_ROLE_NAME: string };
  assumeMemberRoleStatement: (stage: string, logicalId: string, accountIds: string[]) => Record<string, unknown>;
  memberAccountIds: (value: unknown) => { ids: string[]; error?: undefined } | { error: string };
};
export const { memberRoleIds, memberRoleEnvironment, assumeMemberRoleStatement } = memberRules;

/** The member account ids the `memberAccounts` param lists (none: a single-account deployment). */
export function memberAccountIdsOf(model: Pick<ServerlessModel, 'params'>): string[] {
  const parsed = memberRules.memberAccountIds(model.params.memberAccounts ?? '');
  if (parsed.error !== undefined) throw new Error(`serverless.yml: ${parsed.error}`);
  return parsed.ids;
}

/**
 * What the sandbox passes as `--param` unless told otherwise: managedClusters has no default
 * in serverless.yml (a deploy must name its clusters), and the sandbox's account is its own.
 */
export const SANDBOX_PARAMS: Readonly<Record<string, string>> = { managedClusters: '*' };

/** The sandbox's account, unless a test names another. */
export const SANDBOX_ACCOUNT_ID = '111122223333';

export interface SimFunction {
  /** the key under `functions:` (tagInstance) */
  key: string;
  /** deployed name: <service>-<stage>-<key> */
  name: string;
  arn: string;
  /** module path relative to the project root, without extension (functions/tag-instance) */
  module: string;
  exportName: string;
  environment: Record<string, unknown>;
  eventPatterns: EventPattern[];
  maximumRetryAttempts: number;
  /** the function's timeout (its own, else the provider's, else Serverless Framework's 6 s) */
  timeoutSeconds: number;
  /** `reservedConcurrency:` — Lambda runs at most this many at once and throttles the rest */
  reservedConcurrency?: number;
  /** the CloudFormation logical id of its execution role (`role:`), if it names one */
  role?: string;
  /** EventBridge Scheduler schedules that invoke it (`schedule` events, `method: scheduler`): the role they run as */
  scheduleRoles: unknown[];
  /**
   * the VPC it runs in: with the vpc params, the functions that talk to clusters, as
   * scripts/deploy/vpc.cjs places them at package time (its VpcConfig); otherwise none
   */
  vpcConfig?: { subnetIds: string[]; securityGroupIds: string[] };
}

export type EventPattern = Record<string, unknown>;

export interface SimStateMachine {
  key: string;
  /** CloudFormation logical id (the `id:` field) */
  id: string;
  name: string;
  arn: string;
  definition: AslDefinition;
  /** the machine has a `loggingConfig` (serverless-step-functions then lets its role set up log delivery) */
  logging: boolean;
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

export interface ServerlessModel {
  service: string;
  stage: string;
  region: string;
  accountId: string;
  params: Record<string, string>;
  providerEnvironment: Record<string, unknown>;
  functions: SimFunction[];
  stateMachines: SimStateMachine[];
  /** the DynamoDB tables declared under resources (their CloudFormation Properties) */
  tables: Record<string, unknown>[];
  /** `resources.Resources`, Serverless variables resolved (CloudFormation intrinsics left as written) */
  resources: Record<string, { Type: string; Properties?: any }>;
  /** CloudFormation `Ref` of a state machine id or function → the ARN the sandbox uses */
  resolveRef(logicalId: string): string;
}

/**
 * A model of one function and one state machine, named by their ARNs
 * (`arn:aws:lambda:<region>:<account>:function:<name>`, `…:stateMachine:<name>`): for tests of
 * the sandbox's Step Functions that need no serverless.yml.
 */
export function oneMachineModel(definition: AslDefinition, arns: { functionArn: string; machineArn: string }): ServerlessModel {
  const [, , , region, accountId] = arns.machineArn.split(':');
  const functionName = arns.functionArn.split(':').at(-1)!;
  const machineName = arns.machineArn.split(':').at(-1)!;
  return {
    service: 'svc',
    stage: 'sandbox',
    region: region!,
    accountId: accountId!,
    params: {},
    providerEnvironment: {},
    tables: [],
    resources: {},
    functions: [{ key: functionName, name: functionName, arn: arns.functionArn, module: 'x', exportName: 'handler', environment: {}, eventPatterns: [], maximumRetryAttempts: 0, timeoutSeconds: 30, scheduleRoles: [] }],
    stateMachines: [{ key: machineName, id: 'StateMachine', name: machineName, arn: arns.machineArn, definition, logging: false }],
    resolveRef: () => arns.machineArn,
  };
}

interface LoadOptions {
  stage?: string;
  /** like `serverless deploy --param="name=value"`, over SANDBOX_PARAMS */
  params?: Record<string, string | undefined>;
  region?: string;
  accountId?: string;
  root?: string;
}

export function loadServerlessModel(options: LoadOptions = {}): ServerlessModel {
  const root = options.root ?? PROJECT_ROOT;
  const raw = parseYaml(readFileSync(join(root, 'serverless.yml'), 'utf8'), { merge: true }) as Record<string, any>;
  const stage = options.stage ?? 'sandbox';
  const region = options.region ?? 'eu-west-1';
  const accountId = options.accountId ?? SANDBOX_ACCOUNT_ID;
  const params: Record<string, string> = Object.fromEntries(
    Object.entries({ ...(raw.params?.default ?? {}), ...(raw.params?.[stage] ?? {}), ...SANDBOX_PARAMS, ...(options.params ?? {}) }).filter((e): e is [string, string] => e[1] !== undefined),
  );

  const resolveString = (value: string): unknown => {
    const whole = /^\$\{([^{}]+)\}$/.exec(value);
    if (whole) return resolveVariable(whole[1]!, value);
    return value.replace(/\$\{([^{}]+)\}/g, (match, expr: string) => {
      const resolved = resolveVariable(expr, match);
      return typeof resolved === 'string' ? resolved : String(resolved);
    });
  };
  const resolveVariable = (expression: string, original: string): unknown => {
    const [source, ...rest] = splitDefault(expression);
    const fallback = rest[0];
    const value = lookup(source!.trim());
    if (value !== undefined) return value;
    if (fallback !== undefined) return resolveValue(fallback.trim().replace(/^['"]|['"]$/g, ''));
    // CloudFormation's own placeholders (Fn::Sub's ${AWS::Region}, ${Name}) are not Serverless variables
    if (/^AWS::/.test(expression) || /^[A-Za-z0-9_.]+$/.test(expression)) return original;
    throw new Error(`serverless.yml: cannot resolve \${${expression}} in the sandbox`);
  };
  const lookup = (source: string): unknown => {
    if (source === 'opt:stage' || source === 'sls:stage') return stage;
    if (source === 'opt:region') return region;
    // params may themselves use variables (`/eks-node-lifecycle/${sls:stage}/…`), as in Serverless
    if (source.startsWith('param:')) {
      const value = params[source.slice('param:'.length)];
      return value === undefined ? undefined : resolveValue(value);
    }
    if (source.startsWith('required:')) {
      const name = source.slice('required:'.length);
      const value = params[name];
      // as the deploy does (scripts/deploy/required-params.cjs): a param nobody set stops it
      if (value === undefined || value.trim() === '') throw new Error(`serverless.yml: the param ${name} has no default: pass it (--param="${name}=…")`);
      return resolveValue(value);
    }
    if (source.startsWith('self:')) {
      const value = source
        .slice('self:'.length)
        .split('.')
        .reduce<any>((node, key) => (node === undefined ? undefined : node[key]), raw);
      return value === undefined ? undefined : resolveValue(value);
    }
    const file = /^file\((.+)\)$/.exec(source);
    if (file) return resolveValue(parseYaml(readFileSync(join(root, file[1]!.trim()), 'utf8'), { merge: true }));
    return undefined;
  };
  const resolveValue = (value: unknown): any => {
    if (typeof value === 'string') return resolveString(value);
    if (Array.isArray(value)) return value.map(resolveValue);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveValue(v)]));
    }
    return value;
  };

  const service = String(resolveValue(raw.service));
  const functionArn = (key: string) => `arn:aws:lambda:${region}:${accountId}:function:${service}-${stage}-${key}`;
  const vpc = vpcSettings(resolveValue(raw.custom?.vpc ?? {}));
  if (vpc?.error !== undefined) throw new Error(`serverless.yml: ${vpc.error}`);

  const functions: SimFunction[] = Object.entries<any>(raw.functions ?? {}).map(([key, spec]) => {
    const handler = String(spec.handler);
    const dot = handler.lastIndexOf('.');
    return {
      key,
      name: `${service}-${stage}-${key}`,
      arn: functionArn(key),
      module: handler.slice(0, dot),
      exportName: handler.slice(dot + 1),
      environment: resolveValue(spec.environment ?? {}),
      eventPatterns: (spec.events ?? [])
        .filter((e: any) => e.eventBridge?.pattern)
        .map((e: any) => resolveValue(e.eventBridge.pattern) as EventPattern),
      maximumRetryAttempts: spec.maximumRetryAttempts ?? 2,
      timeoutSeconds: Number(spec.timeout ?? raw.provider?.timeout ?? 6),
      ...(typeof spec.role === 'string' ? { role: spec.role } : {}),
      ...(spec.reservedConcurrency !== undefined ? { reservedConcurrency: Number(resolveValue(spec.reservedConcurrency)) } : {}),
      scheduleRoles: (spec.events ?? []).filter((e: any) => e.schedule?.method === 'scheduler').map((e: any) => resolveValue(e.schedule.roleArn)),
      ...(vpc && buildsKubeClients(root, handler.slice(0, dot)) ? { vpcConfig: { subnetIds: vpc.subnetIds, securityGroupIds: vpc.securityGroupIds } } : {}),
    };
  });
  const functionKeys = new Set(functions.map((f) => f.key));

  const stateMachines: SimStateMachine[] = Object.entries<any>(raw.stepFunctions?.stateMachines ?? {}).map(([key, spec]) => {
    const name = String(resolveValue(spec.name ?? `${service}-${stage}-${key}`));
    const definition = replaceGetAtt(resolveValue(spec.definition), (fn) => {
      if (!functionKeys.has(fn)) throw new Error(`state machine ${key} refers to unknown function ${fn}`);
      return functionArn(fn);
    }) as AslDefinition;
    return {
      key,
      id: String(spec.id ?? key),
      name,
      arn: `arn:aws:states:${region}:${accountId}:stateMachine:${name}`,
      definition,
      logging: spec.loggingConfig !== undefined,
    };
  });

  const resolveRef = (logicalId: string): string => {
    if (logicalId === 'AWS::AccountId') return accountId;
    if (logicalId === 'AWS::Region') return region;
    const machine = stateMachines.find((m) => m.id === logicalId);
    if (machine) return machine.arn;
    const fn = functions.find((f) => `${f.key[0]!.toUpperCase()}${f.key.slice(1)}LambdaFunction` === logicalId);
    if (fn) return fn.name;
    throw new Error(`serverless.yml: the sandbox cannot resolve Ref ${logicalId}`);
  };

  const resources = resolveValue(raw.resources?.Resources ?? {}) as ServerlessModel['resources'];
  // with members, each function whose role has member roles is told their name, as the hub plugin does at package time
  if (memberAccountIdsOf({ params }).length > 0) {
    const withMemberRoles = memberRoleIds(resources);
    for (const fn of functions) if (fn.role && withMemberRoles.includes(fn.role)) Object.assign(fn.environment, memberRoleEnvironment(stage, fn.role));
  }
  const tables = Object.values(resources)
    .filter((r) => r.Type === 'AWS::DynamoDB::Table')
    .map((r) => r.Properties as Record<string, unknown>);

  return {
    service,
    stage,
    region,
    accountId,
    params,
    tables,
    resources,
    providerEnvironment: resolveValue(raw.provider?.environment ?? {}),
    functions,
    stateMachines,
    resolveRef,
  };
}

/** `${a, 'b'}` → ['a', "'b'"], ignoring commas inside parentheses */
function splitDefault(expression: string): string[] {
  let depth = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) return [expression.slice(0, i), expression.slice(i + 1)];
  }
  return [expression];
}

function replaceGetAtt(value: unknown, arnOf: (fn: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => replaceGetAtt(v, arnOf));
  if (value && typeof value === 'object') {
    const getAtt = (value as Record<string, unknown>)['Fn::GetAtt'];
    if (Array.isArray(getAtt) && getAtt[1] === 'Arn' && Object.keys(value).length === 1) return arnOf(String(getAtt[0]));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceGetAtt(v, arnOf)]));
  }
  return value;
}

/**
 * Environment values as the deployed function sees them: CloudFormation Refs resolved, and a
 * string `Fn::Sub` of the pseudo parameters (an ARN built from a resource's name).
 */
export function resolveEnvironment(model: ServerlessModel, env: Record<string, unknown>): Record<string, string> {
  const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': model.region, 'AWS::AccountId': model.accountId };
  return Object.fromEntries(
    Object.entries(env).map(([key, value]) => {
      if (value && typeof value === 'object' && 'Ref' in value) return [key, model.resolveRef(String((value as { Ref: unknown }).Ref))];
      const sub = value && typeof value === 'object' ? (value as Record<string, unknown>)['Fn::Sub'] : undefined;
      if (typeof sub === 'string') {
        return [key, sub.replace(/\$\{([^}]+)\}/g, (_m, name: string) => pseudo[name] ?? model.resolveRef(name))];
      }
      if (typeof value === 'object') throw new Error(`environment ${key}: the sandbox resolves only Ref and a string Fn::Sub`);
      return [key, String(value)];
    }),
  );
}
