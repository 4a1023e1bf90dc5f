import { type ActionFacts, IAM_ACTION_FACTS, isMutating, RESOURCE_TYPES } from './iam-action-facts.js';
import type { CloudFormationTemplate } from './packaged-service.js';

/**
 * The least-privilege audit of a packaged CloudFormation template (pure): every IAM policy
 * statement of every role, action by action, against what AWS supports for that action
 * (iam-action-facts.ts) and the guards this service decided on (`AuditPolicy`, written down in
 * least-privilege.slow.test.ts). It returns findings instead of throwing, so a test can feed it a
 * bad statement and see it caught.
 */

export interface Account {
  partition: string;
  region: string;
  accountId: string;
}

export interface AuditPolicy {
  /** `managedClusters` as deployed: '*' or the cluster names */
  managedClusters: '*' | readonly string[];
  /** writes on node groups (Auto Scaling groups, instances, EKS node groups) → the opt-in tag their grant must require */
  optIn: Readonly<Record<string, { tag: string; values: readonly string[] }>>;
  /** writes on node groups that IAM cannot guard by tag, each with the reason */
  unguardable: Readonly<Record<string, string>>;
}

export interface Statement {
  role: string;
  policy: string;
  sid: string;
  effect: string;
  actions: string[];
  resources: string[];
  conditions: ConditionEntry[];
  /** NotAction / NotResource used */
  negated: boolean;
}

export interface ConditionEntry {
  operator: string;
  key: string;
  values: string[];
}

export interface Finding {
  rule: string;
  where: string;
  message: string;
}

/** the resource types that are nodes and node groups: writes on them need a tag guard */
export const NODE_GROUP_TYPES = ['autoscaling:autoScalingGroup', 'ec2:instance', 'eks:nodegroup'];
export const OWNERSHIP_TAG_PREFIX = 'kubernetes.io/cluster/';
export const OPT_IN_TAG_PREFIX = 'eks-node-lifecycle/';
/** tags AWS itself puts on a node: only an Auto Scaling group, a launch template or EKS launches carry them */
const NODE_PROVENANCE_TAGS = ['aws:autoscaling:groupName', 'aws:ec2launchtemplate:id', 'eks:cluster-name'];

// ---------------------------------------------------------------- CloudFormation → statements

/** `parameters`: the values of the template's Parameters (a member template's), by name */
export function statementsOf(template: CloudFormationTemplate, account: Account, parameters: Readonly<Record<string, string>> = {}): Statement[] {
  const resolve = cfnResolver(template, account, parameters);
  const out: Statement[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    const documents: { policy: string; document: any }[] =
      resource.Type === 'AWS::IAM::Role'
        ? (resource.Properties.Policies ?? []).map((p: any) => ({ policy: p.PolicyName, document: p.PolicyDocument }))
        : resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy' || resource.Type === 'AWS::IAM::RolePolicy'
          ? [{ policy: id, document: resource.Properties.PolicyDocument }]
          : [];
    for (const { policy, document } of documents) {
      for (const [i, s] of [document.Statement].flat().entries()) {
        out.push({
          role: id,
          policy: String(resolve(policy)),
          sid: s.Sid ?? `#${i}`,
          effect: s.Effect,
          actions: [s.Action ?? s.NotAction].flat().map(String),
          resources: [resolve(s.Resource ?? s.NotResource)].flat(2).map(String),
          conditions: conditionEntries(s.Condition ? (resolve(s.Condition) as Record<string, Record<string, unknown>>) : undefined),
          negated: s.NotAction !== undefined || s.NotResource !== undefined,
        });
      }
    }
  }
  return out;
}

function conditionEntries(condition: Record<string, Record<string, unknown>> | undefined): ConditionEntry[] {
  return Object.entries(condition ?? {}).flatMap(([operator, block]) =>
    Object.entries(block).map(([key, value]) => ({ operator, key, values: [value].flat().map(String) })),
  );
}

/**
 * Resolves the intrinsic functions serverless.yml and the member template use (Ref — of a
 * resource, a pseudo parameter or one of `parameters` —, Fn::GetAtt, Fn::Sub, Fn::Join,
 * Fn::Split, Fn::If on the template's Conditions, AWS::NoValue) to what CloudFormation would
 * deploy; anything else throws, so a new construct in an IAM policy is audited, not skipped.
 */
export function cfnResolver(template: CloudFormationTemplate, { partition, region, accountId }: Account, parameters: Readonly<Record<string, string>> = {}): (value: unknown) => unknown {
  const pseudo: Record<string, string> = { 'AWS::Partition': partition, 'AWS::Region': region, 'AWS::AccountId': accountId, 'AWS::URLSuffix': 'amazonaws.com', ...parameters };
  const conditions = (template['Conditions'] ?? {}) as Record<string, unknown>;
  const holds = (value: unknown): boolean => {
    const [fn, arg] = Object.entries(value as Record<string, any>)[0] ?? [];
    if (fn === 'Condition') return holds(conditions[arg]);
    if (fn === 'Fn::Not') return !holds(arg[0]);
    if (fn === 'Fn::And') return arg.every(holds);
    if (fn === 'Fn::Or') return arg.some(holds);
    if (fn === 'Fn::Equals') return JSON.stringify(resolve(arg[0])) === JSON.stringify(resolve(arg[1]));
    throw new Error(`condition ${JSON.stringify(value)} is not known to the audit`);
  };
  const prefix = (service: string) => `arn:${partition}:${service}:${region}:${accountId}`;
  const props = (id: string) => {
    const resource = template.Resources[id];
    if (!resource) throw new Error(`unknown logical id ${id}`);
    return { type: resource.Type, p: resource.Properties ?? {} };
  };
  const ref = (id: string): string => {
    if (pseudo[id] !== undefined) return pseudo[id];
    const { type, p } = props(id);
    if (type === 'AWS::StepFunctions::StateMachine') return `${prefix('states')}:stateMachine:${str(p.StateMachineName)}`;
    if (type === 'AWS::Lambda::Function') return str(p.FunctionName);
    if (type === 'AWS::SQS::Queue') return `https://sqs.${region}.amazonaws.com/${accountId}/${str(p.QueueName)}`;
    throw new Error(`Ref ${id} (${type}) is not known to the audit`);
  };
  const getAtt = (id: string, attribute: string): string => {
    const { type, p } = props(id);
    if (attribute !== 'Arn') throw new Error(`Fn::GetAtt ${id}.${attribute} is not known to the audit`);
    if (type === 'AWS::DynamoDB::Table') return `${prefix('dynamodb')}:table/${str(p.TableName)}`;
    if (type === 'AWS::SQS::Queue') return `${prefix('sqs')}:${str(p.QueueName)}`;
    if (type === 'AWS::Lambda::Function') return `${prefix('lambda')}:function:${str(p.FunctionName)}`;
    if (type === 'AWS::StepFunctions::StateMachine') return ref(id);
    if (type === 'AWS::IAM::Role') return `arn:${partition}:iam::${accountId}:role/${id}`;
    throw new Error(`Fn::GetAtt ${id}.Arn (${type}) is not known to the audit`);
  };
  const sub = (text: string, vars: Record<string, unknown>): string =>
    text.replace(/\$\{(!?)([^}]+)\}/g, (_m, bang: string, name: string) => {
      if (bang) return `\${${name}}`;
      if (name in vars) return str(vars[name]);
      if (pseudo[name] !== undefined) return pseudo[name];
      const [id, attribute] = name.split('.');
      return attribute ? getAtt(id!, attribute) : ref(id!);
    });
  const str = (value: unknown): string => {
    const resolved = resolve(value);
    if (typeof resolved !== 'string') throw new Error(`expected a string, got ${JSON.stringify(resolved)}`);
    return resolved;
  };
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve).filter((v) => v !== NO_VALUE);
    if (!value || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    const [fn, arg] = entries[0] ?? [];
    if (entries.length === 1 && (fn === 'Ref' || fn!.startsWith('Fn::'))) {
      const a = arg as any;
      switch (fn) {
        case 'Ref':
          return a === 'AWS::NoValue' ? NO_VALUE : ref(a);
        case 'Fn::If':
          return resolve(holds(conditions[a[0]]) ? a[1] : a[2]);
        case 'Fn::GetAtt':
          return getAtt(...((typeof a === 'string' ? a.split('.') : a) as [string, string]));
        case 'Fn::Sub':
          return typeof a === 'string' ? sub(a, {}) : sub(a[0], Object.fromEntries(Object.entries(a[1]).map(([k, v]) => [k, resolve(v)])));
        case 'Fn::Join': {
          const list = resolve(a[1]);
          if (!Array.isArray(list)) throw new Error('Fn::Join needs a list');
          return list.map((v) => str(v)).join(a[0]);
        }
        case 'Fn::Split':
          return str(a[1]).split(a[0]);
        default:
          throw new Error(`${fn} is not known to the audit`);
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v)]).filter(([, v]) => v !== NO_VALUE));
  };
  return resolve;
}

/** `Ref: AWS::NoValue`: the property (or list item) is left out */
const NO_VALUE = Symbol('AWS::NoValue');

// ---------------------------------------------------------------- the audit

export function auditStatements(statements: readonly Statement[], policy: AuditPolicy, account: Account): Finding[] {
  const findings: Finding[] = [];
  for (const s of statements) {
    const where = `${s.role}/${s.policy}/${s.sid}`;
    const find = (rule: string, message: string) => findings.push({ rule, where, message });
    if (s.effect !== 'Allow') continue; // a Deny only ever narrows
    if (s.negated) find('negated', 'NotAction/NotResource grant everything but what they name');
    for (const key of s.conditions.map((c) => c.key)) {
      // a wildcard in a condition key is no pattern: the key never exists, the condition never matches
      if (key.includes('*') || key.includes('?')) find('wildcard-condition-key', `condition key ${key} holds a wildcard; IAM compares key names literally`);
    }
    for (const resource of s.resources) {
      const fits = s.actions.some((a) => resource === '*' || (IAM_ACTION_FACTS[a] ? typesMatching(IAM_ACTION_FACTS[a], resource, account).length > 0 : true));
      if (!fits) find('dead-resource', `${resource} is of no resource type any of ${s.actions.join(', ')} takes`);
    }
    for (const action of s.actions) {
      if (action === '*' || action.includes('*') || action.includes('?')) {
        find('wildcard-action', `${action} grants every matching action, present and future`);
        continue;
      }
      const facts = IAM_ACTION_FACTS[action];
      if (!facts) {
        find('unknown-action', `${action} is not in test/package/iam-action-facts.ts: add what the Service Authorization Reference says about it`);
        continue;
      }
      auditAction(action, facts, s, policy, account, (rule, message) => find(rule, `${action}: ${message}`));
    }
  }
  return findings;
}

function auditAction(action: string, facts: ActionFacts, s: Statement, policy: AuditPolicy, account: Account, find: (rule: string, message: string) => void): void {
  const mutating = isMutating(facts);
  const typed = facts.resourceTypes.length > 0;
  const covered = new Set<string>();
  for (const resource of s.resources) {
    if (resource === '*') {
      if (typed) find(mutating || facts.readsSecrets ? 'star-resource' : 'star-resource-read', `granted on * although AWS scopes it to ${facts.resourceTypes.join(', ')}`);
      for (const t of facts.resourceTypes) covered.add(t);
      continue;
    }
    if (!typed) {
      find('unscopable-on-arn', `granted on ${resource}, but it supports no resource-level permissions: only Resource '*' matches it, so this grant never applies`);
      continue;
    }
    const types = typesMatching(facts, resource, account);
    const broad = overBroad(resource);
    if (broad) find('over-broad-arn', `granted on ${resource}: ${broad}`);
    if (facts.readsSecrets && resource.includes('*') && !isPublicParameter(resource, account)) {
      find('secret-wildcard', `reads secrets from ${resource}: name each secret`);
    }
    for (const t of types) covered.add(t);
  }
  // several actions may share a statement, each taking the resources of its types; an action none of them fits is granted nothing
  if (typed && covered.size === 0) find('resource-type-mismatch', `granted on ${s.resources.join(', ')}, none of which is of its resource types (${facts.resourceTypes.join(', ')}): the grant never applies`);

  // a tag condition must be one the granted resource types (or the request) support, or it never matches
  for (const c of s.conditions) {
    const family = /^([a-z0-9-]+:ResourceTag\/)/.exec(c.key)?.[1];
    if (family) {
      const unsupported = [...covered].filter((t) => !RESOURCE_TYPES[t]!.tagConditionKeys.includes(`${family}\${TagKey}`));
      if (unsupported.length > 0) find('unsupported-condition-key', `condition ${c.key}: ${unsupported.join(', ')} do not support ${family}…`);
    }
    if ((c.key === 'aws:TagKeys' || c.key.startsWith('aws:RequestTag/')) && !facts.requestTagConditionKeys?.includes(c.key === 'aws:TagKeys' ? 'aws:TagKeys' : 'aws:RequestTag/${TagKey}')) {
      find('unsupported-condition-key', `condition ${c.key}: the action writes no tags`);
    }
  }

  if (action === 'iam:PassRole') {
    const passed = s.conditions.find((c) => c.key === 'iam:PassedToService' && c.operator === 'StringEquals');
    if (!passed || passed.values.length === 0 || passed.values.some((v) => v.includes('*'))) find('pass-role-unbounded', 'needs StringEquals iam:PassedToService naming the services');
  }

  // tags written only as part of a launch (ec2:CreateAction = RunInstances): the launch
  // template's TagSpecifications on what is being created, which Auto Scaling checks on the
  // caller's behalf; no existing instance can be tagged through it
  if (action === 'ec2:CreateTags' && tagsOnlyAtLaunch(s.conditions)) return;
  if (facts.access === 'Tagging' && !tagKeysLimitedToOwnership(s.conditions, policy.managedClusters)) {
    find('tagging-unbounded', `must limit the tags it writes (ForAllValues:StringLike aws:TagKeys) to the ownership keys ${ownershipKeys(policy.managedClusters).join(', ')}; any other key, eks-node-lifecycle/* above all (the opt-in that guards the writes), must stay out of reach`);
  }

  const nodeTypes = [...covered].filter((t) => NODE_GROUP_TYPES.includes(t));
  if (!mutating || nodeTypes.length === 0) return;
  if (facts.access === 'Tagging') {
    if (nodeTypes.includes('ec2:instance') && !hasResourceTagGuard(s.conditions, (tag) => NODE_PROVENANCE_TAGS.includes(tag) || isOwnershipKey(tag, policy.managedClusters, false))) {
      find('instance-tagging-unguarded', `tags any instance: require a tag only nodes carry (${NODE_PROVENANCE_TAGS.join(', ')}) so it cannot mark other instances as cluster members`);
    }
    return;
  }
  const optIn = policy.optIn[action];
  if (optIn) {
    if (!requiresTagValues(s.conditions, optIn.tag, optIn.values)) find('node-group-write-unguarded', `writes node groups: require ${optIn.tag} in [${optIn.values.join(', ')}] (StringEquals or StringEqualsIgnoreCase on the resource tag)`);
    return;
  }
  if (requiresOwnership(s.conditions, policy.managedClusters)) return;
  if (policy.unguardable[action]) return;
  find('node-group-write-unguarded', 'writes node groups without a tag guard: decide its opt-in tag (AuditPolicy.optIn), or say why none can exist (AuditPolicy.unguardable)');
}

// ---------------------------------------------------------------- conditions

/** StringEquals ec2:CreateAction naming only RunInstances. */
function tagsOnlyAtLaunch(conditions: readonly ConditionEntry[]): boolean {
  const created = conditions.find((c) => c.key === 'ec2:CreateAction');
  return !!created && created.operator === 'StringEquals' && created.values.length > 0 && created.values.every((v) => v === 'RunInstances');
}

function resourceTagOf(key: string): string | undefined {
  return /^[a-z0-9-]+:ResourceTag\/(.+)$/.exec(key)?.[1];
}

function hasResourceTagGuard(conditions: readonly ConditionEntry[], accepts: (tag: string) => boolean): boolean {
  return conditions.some((c) => {
    const tag = resourceTagOf(c.key);
    if (!tag || !accepts(tag) || c.operator.endsWith('IfExists')) return false;
    if (c.operator === 'Null') return c.values.every((v) => v === 'false');
    return /^String(Equals|Like)$/.test(c.operator) && c.values.length > 0 && !c.values.includes('');
  });
}

/** The opt-in tag's value, compared exactly or ignoring case (the service reads `Auto` as `auto`): never a wildcard, never IfExists. */
function requiresTagValues(conditions: readonly ConditionEntry[], tag: string, allowed: readonly string[]): boolean {
  return conditions.some((c) => (c.operator === 'StringEquals' || c.operator === 'StringEqualsIgnoreCase') && resourceTagOf(c.key) === tag && c.values.length > 0 && c.values.every((v) => allowed.includes(v)));
}

function requiresOwnership(conditions: readonly ConditionEntry[], managed: AuditPolicy['managedClusters']): boolean {
  return conditions.some((c) => {
    const tag = resourceTagOf(c.key);
    return c.operator === 'StringEquals' && tag !== undefined && isOwnershipKey(tag, managed, false) && c.values.length > 0 && c.values.every((v) => v === 'owned' || v === 'shared');
  });
}

export function ownershipKeys(managed: AuditPolicy['managedClusters']): string[] {
  return managed === '*' ? [`${OWNERSHIP_TAG_PREFIX}*`] : managed.map((c) => `${OWNERSHIP_TAG_PREFIX}${c}`);
}

/** `kubernetes.io/cluster/<name>` of a managed cluster; `…/*` only as a pattern, and only when every cluster is managed */
function isOwnershipKey(key: string, managed: AuditPolicy['managedClusters'], pattern: boolean): boolean {
  if (!key.startsWith(OWNERSHIP_TAG_PREFIX)) return false;
  const name = key.slice(OWNERSHIP_TAG_PREFIX.length);
  if (name === '*') return pattern && managed === '*';
  if (/[*?]/.test(name)) return false;
  return managed === '*' || managed.includes(name);
}

function tagKeysLimitedToOwnership(conditions: readonly ConditionEntry[], managed: AuditPolicy['managedClusters']): boolean {
  return conditions.some(
    (c) => /^ForAllValues:String(Equals|Like)$/.test(c.operator) && c.key === 'aws:TagKeys' && c.values.length > 0 && c.values.every((v) => isOwnershipKey(v, managed, c.operator.endsWith('Like'))),
  );
}

// ---------------------------------------------------------------- ARNs

function typesMatching(facts: ActionFacts, resource: string, account: Account): string[] {
  return facts.resourceTypes.filter((t) => RESOURCE_TYPES[t]!.arns.some((arn) => globsIntersect(resource, typeArn(arn, account))));
}

function typeArn(format: string, { partition, region, accountId }: Account): string {
  return format
    .replaceAll('${Partition}', partition)
    .replaceAll('${Region}', region)
    .replaceAll('${Account}', accountId)
    .replace(/\$\{[^}]+\}/g, '*');
}

function isPublicParameter(resource: string, { partition, region }: Account): boolean {
  return resource.startsWith(`arn:${partition}:ssm:${region}::parameter/aws/service/`);
}

/**
 * What a wildcard spans that a resource type cannot bound: the partition, service, region or
 * account, or the resource type itself (`arn:aws:ec2:…:*` is every EC2 resource).
 */
function overBroad(arn: string): string | undefined {
  const parts = arn.split(':');
  if (parts[0] !== 'arn' || parts.length < 6) return 'not an ARN';
  const [, partition, service, region, account] = parts;
  for (const [name, value] of [['partition', partition], ['service', service], ['region', region], ['account', account]] as const) {
    if (value!.includes('*') || value!.includes('?')) return `a wildcard ${name}`;
  }
  const resource = parts.slice(5).join(':');
  const leading = /^[^/:]*/.exec(resource)![0];
  if (/[*?]/.test(leading)) return 'a wildcard resource type';
  return undefined;
}

/** Whether some string matches both patterns (`*` matches any run of characters in either). */
export function globsIntersect(a: string, b: string): boolean {
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const k = i * (b.length + 1) + j;
    const known = memo.get(k);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === a.length && j === b.length) result = true;
    else if (a[i] === '*') result = go(i + 1, j) || (j < b.length && go(i, j + 1));
    else if (b[j] === '*') result = go(i, j + 1) || (i < a.length && go(i + 1, j));
    else result = i < a.length && j < b.length && a[i] === b[j] && go(i + 1, j + 1);
    memo.set(k, result);
    return result;
  };
  return go(0, 0);
}

// ---------------------------------------------------------------- who may assume the roles

/**
 * Each role is assumed by what uses it, and by nothing else: a function's role by Lambda, a
 * schedule's by EventBridge Scheduler (which needs lambda:InvokeFunction on its target), a
 * state machine's by Step Functions.
 */
export function auditTrust(template: CloudFormationTemplate, statements: readonly Statement[], account: Account): Finding[] {
  const resolve = cfnResolver(template, account);
  const findings: Finding[] = [];
  const roleOf = (value: any): string | undefined => {
    const att = value?.['Fn::GetAtt'];
    return Array.isArray(att) && att[1] === 'Arn' ? att[0] : undefined;
  };
  const principals = (role: string): string[] => {
    const document = template.Resources[role]?.Properties?.AssumeRolePolicyDocument;
    return [document?.Statement ?? []].flat().flatMap((s: any) => [resolve(s.Principal?.Service ?? [])].flat().map(String));
  };
  const expect = (role: string | undefined, service: string, where: string) => {
    if (!role || template.Resources[role]?.Type !== 'AWS::IAM::Role') {
      findings.push({ rule: 'trust', where, message: 'its role is not an IAM role of this template' });
      return;
    }
    const trusted = principals(role);
    if (trusted.length !== 1 || trusted[0] !== service) findings.push({ rule: 'trust', where, message: `role ${role} is assumable by ${trusted.join(', ') || 'nobody'}, not by ${service} alone` });
  };
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type === 'AWS::Lambda::Function') expect(roleOf(r.Properties.Role), 'lambda.amazonaws.com', id);
    if (r.Type === 'AWS::StepFunctions::StateMachine') expect(roleOf(r.Properties.RoleArn), `states.${account.region}.amazonaws.com`, id);
    if (r.Type === 'AWS::Scheduler::Schedule') {
      const role = roleOf(r.Properties.Target.RoleArn);
      expect(role, 'scheduler.amazonaws.com', id);
      const target = String(resolve(r.Properties.Target.Arn));
      const invokes = statements.some((s) => s.role === role && s.effect === 'Allow' && s.actions.includes('lambda:InvokeFunction') && s.resources.some((res) => globsIntersect(res, target)));
      if (!invokes) findings.push({ rule: 'trust', where: id, message: `role ${role} may not invoke its target ${target}` });
    }
  }
  return findings;
}

/**
 * Who may assume the roles of a member account's template (deploy/member-account.yml): each role
 * only by the one hub function role it serves — the hub account as principal, the role named
 * exactly by `aws:PrincipalArn` (no wildcard), and an ExternalId or the hub's organisation
 * besides — and the role its rules forward events with only by EventBridge, for this account.
 * `hubRoleArns`: the ARNs of the hub's function roles (named: scripts/deploy/member-accounts.cjs).
 */
export function auditMemberTrust(template: CloudFormationTemplate, account: Account, parameters: Readonly<Record<string, string>>, hub: { accountId: string; roleArns: readonly string[] }): Finding[] {
  const resolve = cfnResolver(template, account, parameters);
  const findings: Finding[] = [];
  const forwarding = new Set(
    Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::Events::Rule')
      .flatMap((r) => (r.Properties.Targets ?? []).map((t: any) => t.RoleArn?.['Fn::GetAtt']?.[0])),
  );
  const trusted = new Map<string, string>();
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::IAM::Role') continue;
    const find = (message: string) => findings.push({ rule: 'member-trust', where: id, message });
    const statements = [(resolve(r.Properties.AssumeRolePolicyDocument) as any).Statement].flat();
    if (statements.length !== 1) find(`${statements.length} trust statements: one principal per role`);
    for (const s of statements) {
      const conditions = conditionEntries(s.Condition);
      const value = (key: string, operators: string[]) => conditions.filter((c) => c.key === key && operators.includes(c.operator)).flatMap((c) => c.values);
      if (s.Effect !== 'Allow' || [s.Action].flat().join() !== 'sts:AssumeRole') find(`${s.Effect} ${[s.Action].flat().join(', ')}: only sts:AssumeRole is granted`);
      const services = [s.Principal?.Service ?? []].flat();
      const accounts = [s.Principal?.AWS ?? []].flat();
      if (services.length > 0) {
        if (!forwarding.has(id)) find('a service role no rule of the template uses');
        if (services.join() !== 'events.amazonaws.com' || accounts.length > 0) find(`assumable by ${[...services, ...accounts].join(', ')}, not by EventBridge alone`);
        if (value('aws:SourceAccount', ['StringEquals']).join() !== account.accountId) find("EventBridge may assume it on behalf of any account's rules: require aws:SourceAccount");
        continue;
      }
      if (accounts.join() !== `arn:${account.partition}:iam::${hub.accountId}:root` || Object.keys(s.Principal).length !== 1) find(`principal ${JSON.stringify(s.Principal)}: the hub account only`);
      const principals = value('aws:PrincipalArn', ['ArnEquals', 'StringEquals']);
      if (principals.length !== 1 || !hub.roleArns.includes(principals[0]!)) find(`aws:PrincipalArn ${principals.join(', ') || 'missing'}: exactly one hub function role`);
      else if (trusted.has(principals[0]!)) find(`${principals[0]} also assumes ${trusted.get(principals[0]!)}: one member role per hub role`);
      else trusted.set(principals[0]!, id);
      if (conditions.some((c) => c.key === 'aws:PrincipalArn' && !['ArnEquals', 'StringEquals'].includes(c.operator))) find('aws:PrincipalArn compared with a pattern');
      const externalId = value('sts:ExternalId', ['StringEquals']);
      const organisation = value('aws:PrincipalOrgID', ['StringEquals']);
      if (externalId.filter((v) => v !== '').length === 0 && organisation.filter((v) => v !== '').length === 0) find('neither sts:ExternalId nor aws:PrincipalOrgID is required');
    }
  }
  return findings;
}
