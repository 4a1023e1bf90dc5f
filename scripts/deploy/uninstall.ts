/**
 * Removes what eks-node-lifecycle added outside its own stack, in one region:
 *
 *   npx tsx scripts/deploy/uninstall.ts --stage prod --region eu-west-1 --cluster prod-eu [--cluster …] [--dry-run]
 *
 * 1. the terminate lifecycle hook it installs (`eks-node-lifecycle-drain`) on every group that
 *    has it — a hook the group names in `eks-node-lifecycle/terminate-hook` is the group's own,
 *    and stays. Auto Scaling completes an instance waiting on a deleted hook with CONTINUE;
 * 2. the EKS access entries of the stack's Kubernetes-facing roles (what
 *    scripts/kubernetes/grant-access.sh created: roles `eks-node-lifecycle-<stage>-…` in the
 *    Kubernetes group `eks-node-lifecycle`) in each `--cluster`;
 * 3. the launch template versions it created (description `eks-node-lifecycle: …`) that are
 *    neither their template's default nor its latest, nor used by any Auto Scaling group (or
 *    its running instance refresh) or EKS managed node group of the region;
 * 4. the ownership tags it wrote (`--remove-ownership-tags`): not removed — see OWNERSHIP_TAGS.
 * Run it after `serverless remove` (a running stack puts the hook back within the hour). It
 * prints every action; `--dry-run` prints them and changes nothing. The RBAC objects of
 * scripts/kubernetes/rbac.yaml and the stack's retained tables and SSM parameters are left: the
 * README's "Uninstall" lists them.
 */
import { AutoScalingClient, DeleteLifecycleHookCommand, DescribeLifecycleHooksCommand, paginateDescribeAutoScalingGroups } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { EC2Client, paginateDescribeLaunchTemplates, paginateDescribeLaunchTemplateVersions } from '@aws-sdk/client-ec2';
import { DeleteAccessEntryCommand, DescribeAccessEntryCommand, DescribeNodegroupCommand, EKSClient, paginateListAccessEntries, paginateListClusters, paginateListNodegroups } from '@aws-sdk/client-eks';
import { parseArgs } from 'node:util';
import { callAws } from '../../shared/aws/call.js';
import { type AwsScope, awsScope, clientOf } from '../../shared/aws/clients.js';
import { deleteTemplateVersions, OUR_VERSION_DESCRIPTION } from '../../shared/aws/launch-template-versions.js';
import { roleNameOf } from '../../shared/aws/iam.js';
import { activeRefresh } from '../../shared/aws/instance-refresh.js';
import { INSTALLED_HOOK } from '../../shared/drain/ensure-terminate-hooks.js';
import { OWNERSHIP_TAG_PREFIX } from '../../shared/ownership/resolve-cluster.js';

export const SERVICE = 'eks-node-lifecycle';
/** the Kubernetes group grant-access.sh puts the roles in (and rbac.yaml binds) */
export const KUBERNETES_GROUP = 'eks-node-lifecycle';
/** DeleteLaunchTemplateVersions takes at most 200 versions a call */
const VERSIONS_PER_CALL = 200;

/**
 * Why `--remove-ownership-tags` removes nothing: tag-instance writes `kubernetes.io/cluster/<name>=owned`
 * on instances (and, for self-managed groups, the group tag with PropagateAtLaunch) with no
 * mark of its own — and eksctl, the EKS node group CloudFormation templates and Karpenter write
 * the same tag. Which ones the service wrote cannot be told apart, and removing one the
 * cluster's own tooling needs (the AWS cloud provider and load balancer controller read it) is
 * worse than leaving one: they stay.
 */
export const OWNERSHIP_TAGS =
  'not removed: the service writes kubernetes.io/cluster/<name> without a mark of its own, the same tag eksctl, EKS node group templates and Karpenter write, so the ones it wrote cannot be told apart';

export interface GroupFacts {
  name: string;
  hooks: string[];
  tags: Record<string, string>;
  /** launch template versions the group launches from (`$Latest`/`$Default` are kept anyway), and its running instance refresh's */
  launchTemplates: { id: string; version: string }[];
}

export interface TemplateFacts {
  id: string;
  name: string;
  defaultVersion: number;
  latestVersion: number;
  /** the versions whose description says this service created them */
  ours: number[];
}

export interface AccessEntryFacts {
  cluster: string;
  principalArn: string;
  kubernetesGroups: string[];
}

export interface InstallationFacts {
  stage: string;
  groups: GroupFacts[];
  /** EKS managed node groups' launch templates */
  nodegroupTemplates: { cluster: string; nodegroup: string; id: string; version: string }[];
  templates: TemplateFacts[];
  accessEntries: AccessEntryFacts[];
}

export type UninstallAction =
  | { kind: 'delete-hook'; group: string; hook: string }
  | { kind: 'delete-access-entry'; cluster: string; principalArn: string }
  | { kind: 'delete-template-versions'; templateId: string; templateName: string; versions: number[] };

export interface UninstallPlan {
  actions: UninstallAction[];
  /** what the service made that stays, and why */
  kept: string[];
}

/** Pure: what to remove, from what was read. */
export function planUninstall(facts: InstallationFacts, options: { removeOwnershipTags?: boolean; clusters?: readonly string[] } = {}): UninstallPlan {
  const actions: UninstallAction[] = [];
  const kept: string[] = [];

  for (const g of facts.groups) {
    if (g.hooks.includes(INSTALLED_HOOK.name)) actions.push({ kind: 'delete-hook', group: g.name, hook: INSTALLED_HOOK.name });
  }

  const rolePrefix = `${SERVICE}-${facts.stage}-`;
  for (const e of facts.accessEntries) {
    const role = /:role\//.test(e.principalArn) ? roleNameOf(e.principalArn) : '';
    if (role.startsWith(rolePrefix) && e.kubernetesGroups.includes(KUBERNETES_GROUP)) actions.push({ kind: 'delete-access-entry', cluster: e.cluster, principalArn: e.principalArn });
  }

  const used = new Map<string, string[]>();
  const use = (id: string, version: string, by: string) => used.set(`${id} ${version}`, [...(used.get(`${id} ${version}`) ?? []), by]);
  for (const g of facts.groups) for (const t of g.launchTemplates) use(t.id, t.version, `group ${g.name}`);
  for (const n of facts.nodegroupTemplates) use(n.id, n.version, `node group ${n.cluster}/${n.nodegroup}`);
  for (const t of facts.templates) {
    const versions: number[] = [];
    for (const v of t.ours) {
      const users = used.get(`${t.id} ${v}`);
      const why = [v === t.defaultVersion ? 'the default version' : '', v === t.latestVersion ? 'the latest version' : '', users ? `used by ${users.join(', ')}` : ''].filter(Boolean);
      if (why.length > 0) kept.push(`launch template ${t.name} (${t.id}) version ${v}: ${why.join(', ')}`);
      else versions.push(v);
    }
    for (let i = 0; i < versions.length; i += VERSIONS_PER_CALL) {
      actions.push({ kind: 'delete-template-versions', templateId: t.id, templateName: t.name, versions: versions.slice(i, i + VERSIONS_PER_CALL) });
    }
  }

  if (options.removeOwnershipTags) {
    const clusters = options.clusters ?? [];
    const tagged = facts.groups.filter((g) => clusters.some((c) => g.tags[`${OWNERSHIP_TAG_PREFIX}${c}`] !== undefined)).map((g) => g.name);
    kept.push(`ownership tags ${OWNERSHIP_TAG_PREFIX}<cluster>: ${OWNERSHIP_TAGS}${tagged.length > 0 ? ` (groups carrying it: ${tagged.join(', ')})` : ''}`);
  }
  return { actions, kept };
}

export interface UninstallPorts {
  aws: AwsScope;
}

function clientsOf(aws: AwsScope) {
  return { autoscaling: clientOf(aws, AutoScalingClient), ec2: clientOf(aws, EC2Client), eks: clientOf(aws, EKSClient) };
}

/** Reads the region's groups, launch templates and node groups, and the access entries of `clusters`. */
export async function readInstallation(ports: UninstallPorts, stage: string, clusters: readonly string[]): Promise<InstallationFacts> {
  const { autoscaling, ec2, eks } = clientsOf(ports.aws);
  const groups: GroupFacts[] = [];
  for await (const page of paginateDescribeAutoScalingGroups({ client: autoscaling, pageSize: 100 }, {})) {
    for (const g of page.AutoScalingGroups ?? []) {
      const name = g.AutoScalingGroupName!;
      const hooks = await callAws('autoscaling:DescribeLifecycleHooks', () => autoscaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: name })));
      const specs = [g.LaunchTemplate, g.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification, ...(g.MixedInstancesPolicy?.LaunchTemplate?.Overrides ?? []).map((o) => o.LaunchTemplateSpecification)];
      const launchTemplates = specs.filter((s) => s?.LaunchTemplateId && s.Version).map((s) => ({ id: s!.LaunchTemplateId!, version: s!.Version! }));
      // an instance refresh still running launches its desired configuration's version
      const refresh = await activeRefresh(ports.aws, name);
      if (refresh?.target?.launchTemplateId && refresh.target.version) launchTemplates.push({ id: refresh.target.launchTemplateId, version: refresh.target.version });
      groups.push({ name, hooks: (hooks.LifecycleHooks ?? []).map((h) => h.LifecycleHookName!), tags: Object.fromEntries((g.Tags ?? []).map((t) => [t.Key!, t.Value ?? ''])), launchTemplates });
    }
  }

  const nodegroupTemplates: InstallationFacts['nodegroupTemplates'] = [];
  for await (const page of paginateListClusters({ client: eks }, {})) {
    for (const cluster of page.clusters ?? []) {
      for await (const ngPage of paginateListNodegroups({ client: eks }, { clusterName: cluster })) {
        for (const nodegroup of ngPage.nodegroups ?? []) {
          const out = await callAws('eks:DescribeNodegroup', () => eks.send(new DescribeNodegroupCommand({ clusterName: cluster, nodegroupName: nodegroup })));
          const lt = out.nodegroup?.launchTemplate;
          if (lt?.id && lt.version) nodegroupTemplates.push({ cluster, nodegroup, id: lt.id, version: lt.version });
        }
      }
    }
  }

  const templates: TemplateFacts[] = [];
  for await (const page of paginateDescribeLaunchTemplates({ client: ec2, pageSize: 200 }, {})) {
    for (const t of page.LaunchTemplates ?? []) {
      const ours: number[] = [];
      for await (const vPage of paginateDescribeLaunchTemplateVersions({ client: ec2, pageSize: 200 }, { LaunchTemplateId: t.LaunchTemplateId })) {
        for (const v of vPage.LaunchTemplateVersions ?? []) if (OUR_VERSION_DESCRIPTION.test(v.VersionDescription ?? '')) ours.push(v.VersionNumber!);
      }
      if (ours.length > 0) templates.push({ id: t.LaunchTemplateId!, name: t.LaunchTemplateName!, defaultVersion: t.DefaultVersionNumber!, latestVersion: t.LatestVersionNumber!, ours: ours.sort((a, b) => a - b) });
    }
  }

  const accessEntries: AccessEntryFacts[] = [];
  for (const cluster of clusters) {
    for await (const page of paginateListAccessEntries({ client: eks }, { clusterName: cluster })) {
      for (const principalArn of page.accessEntries ?? []) {
        if (!principalArn.includes(`:role/${SERVICE}-${stage}-`)) continue;
        const out = await callAws('eks:DescribeAccessEntry', () => eks.send(new DescribeAccessEntryCommand({ clusterName: cluster, principalArn })));
        accessEntries.push({ cluster, principalArn, kubernetesGroups: out.accessEntry?.kubernetesGroups ?? [] });
      }
    }
  }
  return { stage, groups, nodegroupTemplates, templates, accessEntries };
}

export function describeAction(a: UninstallAction): string {
  switch (a.kind) {
    case 'delete-hook':
      return `delete lifecycle hook ${a.hook} of Auto Scaling group ${a.group}`;
    case 'delete-access-entry':
      return `delete access entry ${a.principalArn} of cluster ${a.cluster}`;
    case 'delete-template-versions':
      return `delete launch template ${a.templateName} (${a.templateId}) versions ${a.versions.join(', ')}`;
  }
}

/** Applies the plan, saying each action as it goes (`dryRun`: says them, does nothing). */
export async function executeUninstall(plan: UninstallPlan, ports: UninstallPorts, options: { dryRun?: boolean; say: (line: string) => void }): Promise<void> {
  const { autoscaling, eks } = clientsOf(ports.aws);
  for (const action of plan.actions) {
    options.say(`${options.dryRun ? 'would ' : ''}${describeAction(action)}`);
    if (options.dryRun) continue;
    switch (action.kind) {
      case 'delete-hook':
        await callAws('autoscaling:DeleteLifecycleHook', () => autoscaling.send(new DeleteLifecycleHookCommand({ AutoScalingGroupName: action.group, LifecycleHookName: action.hook })));
        break;
      case 'delete-access-entry':
        await callAws('eks:DeleteAccessEntry', () => eks.send(new DeleteAccessEntryCommand({ clusterName: action.cluster, principalArn: action.principalArn })));
        break;
      case 'delete-template-versions':
        await deleteTemplateVersions(ports.aws, action.templateId, action.versions);
        break;
    }
  }
  for (const line of plan.kept) options.say(`keep ${line}`);
}

async function stackExists(region: string, stack: string): Promise<boolean> {
  const cloudformation = new CloudFormationClient({ region });
  try {
    const out = await cloudformation.send(new DescribeStacksCommand({ StackName: stack }));
    return (out.Stacks ?? []).some((s) => s.StackStatus !== 'DELETE_COMPLETE');
  } catch (error) {
    if ((error as Error).name === 'ValidationError') return false; // "Stack with id … does not exist"
    throw error;
  } finally {
    cloudformation.destroy();
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      stage: { type: 'string' },
      region: { type: 'string' },
      cluster: { type: 'string', multiple: true, default: [] },
      'remove-ownership-tags': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.stage || !values.region) {
    process.stderr.write('usage: uninstall.ts --stage <stage> --region <region> [--cluster <name> …] [--remove-ownership-tags] [--dry-run]\n');
    return 2;
  }
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const stack = `${SERVICE}-${values.stage}`;
  if (await stackExists(values.region, stack)) {
    say(`warning: stack ${stack} is still deployed: ensureTerminateHooks puts the hook back within the hour — run \`serverless remove --stage ${values.stage} --region ${values.region}\` first, or this again after it`);
  }
  const ports = { aws: awsScope({ region: values.region }) };
  const facts = await readInstallation(ports, values.stage, values.cluster);
  const plan = planUninstall(facts, { removeOwnershipTags: values['remove-ownership-tags'], clusters: values.cluster });
  if (plan.actions.length === 0) say('nothing of the service to remove');
  await executeUninstall(plan, ports, { dryRun: values['dry-run'], say });
  if (values.cluster.length > 0) say(`then, per cluster: kubectl --context <cluster> delete -f scripts/kubernetes/rbac.yaml (the ClusterRole and binding grant-access.sh applied)`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: Error) => {
      process.stderr.write(`uninstall: ${error.message}\n`);
      process.exitCode = 1;
    },
  );
}
