/**
 * `npm start`: the default sandbox scenario, printed as a timeline. No AWS account, no
 * cluster, no network: see README "The sandbox". `npm start -- --observe` runs it with the
 * service in observe mode (the param mode=observe): reports, and no write.
 */
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeAutoScalingInstancesCommand, AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { runDefaultScenario } from '../test/sim/scenarios.js';
import { kubeWrites, recordServiceCalls, tally, userResourceWrites } from '../test/sim/service-writes.js';
import { World } from '../test/sim/world.js';

const started = performance.now();
const observe = process.argv.includes('--observe');
const world = await World.start({ echoLogs: process.argv.includes('--logs'), recordKubeRequests: true, ...(observe ? { params: { mode: 'observe' } } : {}) });
const recorder = recordServiceCalls();
world.timeline.onEntry((entry) => console.log(world.timeline.format(entry)));
console.log(`eks-node-lifecycle sandbox — default scenario${observe ? ', in observe mode (mode=observe)' : ''} (virtual time since start)\n`);
try {
  const result = await runDefaultScenario(world);
  const region = world.model.region;
  const ec2 = new EC2Client({ region });
  const autoscaling = new AutoScalingClient({ region });
  const instances = (await ec2.send(new DescribeInstancesCommand({}))).Reservations!.flatMap((r) => r.Instances ?? []);
  const lifecycle = new Map(
    ((await autoscaling.send(new DescribeAutoScalingInstancesCommand({}))).AutoScalingInstances ?? []).map((i) => [i.InstanceId!, i.LifecycleState!]),
  );
  const nodes = world.cluster('prod').store.list('nodes') as { metadata: { name: string }; spec: { providerID: string } }[];
  console.log('\ninstances');
  for (const i of instances) {
    const owner = i.Tags?.find((t) => t.Key === 'kubernetes.io/cluster/prod')?.Value ?? '-';
    const group = i.Tags?.find((t) => t.Key === 'aws:autoscaling:groupName')?.Value ?? '-';
    const node = nodes.find((n) => n.spec.providerID.endsWith(`/${i.InstanceId}`))?.metadata.name ?? '-';
    console.log(`  ${i.InstanceId}  ${(i.State?.Name ?? '').padEnd(10)} ${(lifecycle.get(i.InstanceId!) ?? '-').padEnd(10)} ${group.padEnd(28)} kubernetes.io/cluster/prod=${owner.padEnd(6)} node ${node}`);
  }
  const executions = [...world.stepFunctions.executions.values()];
  console.log('\nexecutions');
  for (const e of executions) console.log(`  ${e.name.padEnd(48)} ${e.status}`);
  console.log(`\nscaled out: ${result.scaledOut.join(', ')}; scaled in (drained): ${result.drained}`);
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
