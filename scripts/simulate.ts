/**
 * `npm start`: the default sandbox scenario, told as an operator's story — the cluster and the
 * groups with the tags that opt them in, one line per meaningful step (a repeated line folded
 * with a count), then a summary of every flow. No AWS account, no cluster, no network: see
 * README "The sandbox". `npm start -- --observe` runs it with the service in observe mode (the
 * param mode=observe): reports, and no write. `--timeline` prints the sandbox's full timeline
 * instead of the story; `--logs` the functions' log records as well.
 */
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { formatStoryLine, kubeWrites, recordInvocations, recordServiceCalls, runDefaultScenario, storyHeader, storyLines, storySummary, tally, userResourceWrites, World } from '@eks-node-lifecycle/sandbox';

const started = performance.now();
const observe = process.argv.includes('--observe');
const fullTimeline = process.argv.includes('--timeline');
const world = await World.start({ echoLogs: process.argv.includes('--logs'), recordKubeRequests: true, ...(observe ? { params: { mode: 'observe' } } : {}) });
const recorder = recordServiceCalls();
const invocations = recordInvocations(world);
if (fullTimeline) world.timeline.onEntry((entry) => console.log(world.timeline.format(entry)));
console.log(`eks-node-lifecycle sandbox — default scenario${observe ? ', in observe mode (mode=observe)' : ''}`);
try {
  const result = await runDefaultScenario(world);
  if (!fullTimeline) {
    console.log('');
    for (const line of storyHeader(world)) console.log(line);
    console.log('\nwhat happened (virtual time since start)');
    for (const line of storyLines(world.timeline.entries)) console.log(formatStoryLine(line, world.timeline));
  }

  console.log('\nsummary');
  for (const line of storySummary(world, invocations, { ...result.scaleOut, instances: result.scaledOut })) console.log(`  ${line}`);
  console.log('\nnodes now');
  const nodes = world.cluster('prod').store.list('nodes') as { metadata: { name: string }; spec: { providerID: string } }[];
  const instances = (await new EC2Client({ region: world.model.region }).send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['running'] }] }))).Reservations!.flatMap((r) => r.Instances ?? []);
  for (const group of world.account.autoscaling.groups.values()) {
    const running = instances.filter((i) => i.Tags?.some((t) => t.Key === 'aws:autoscaling:groupName' && t.Value === group.name));
    const images = [...new Set(running.map((i) => i.ImageId))].join(', ');
    const joined = running.filter((i) => nodes.some((n) => n.spec.providerID.endsWith(`/${i.InstanceId}`))).length;
    const managed = [...world.account.eks.clusters.values()].flatMap((c) => [...c.nodegroups.values()]).find((n) => n.autoScalingGroupName === group.name);
    const name = managed ? `${managed.nodegroup.clusterName}/${managed.nodegroup.nodegroupName}` : group.name;
    console.log(`  ${name}: ${running.length} running (${images || 'none'}), ${joined} joined as nodes`);
  }

  // what the service changed: every write its functions and workflows made (the operator's own calls aside)
  const writes = userResourceWrites(recorder.calls);
  const kube = kubeWrites(world);
  console.log(`\nwrites by the service: ${writes.length} to EC2, Auto Scaling and EKS; ${kube.length} to Kubernetes`);
  for (const line of [...tally(writes), ...tally(kube)]) console.log(`  ${line}`);
  if (observe) console.log(`observe reports: ${world.published.filter((e) => e['detail-type'].endsWith(' Observed')).length} (${[...new Set(world.published.map((e) => e['detail-type']).filter((t) => t.endsWith(' Observed')))].join(', ')})`);
  // every call a function made and every invocation a state machine or schedule made, authorized against the deployed roles
  console.log(`\n${world.iam.summary()}`);
  for (const d of world.iam.denials) console.log(`  denied: ${d.caller} (${d.role}) ${d.request.action} on ${d.request.resource} — ${d.service}:${d.command} ${d.error}`);
  console.log(`\nvirtual time ${Math.round((world.clock.now() - Date.parse('2026-11-21T09:00:00Z')) / 1000)} s, wall time ${Math.round(performance.now() - started)} ms`);
} finally {
  recorder.remove();
  await world.stop();
}
