/**
 * Where moto 5.2.1 answers otherwise than AWS documents. Each entry: what moto does, and the
 * AWS documentation that says otherwise; test/contract/README.md lists them for people.
 */
export const MOTO_DEVIATIONS = {
  'launch-template-version-client-token':
    'moto ignores CreateLaunchTemplateVersion ClientToken and creates another version; AWS: "Unique, case-sensitive identifier you provide to ensure the idempotency of the request" (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplateVersion.html)',
  'launch-template-version-source-version':
    'moto builds a version from LaunchTemplateData alone, ignoring SourceVersion; AWS: "The new version inherits the same launch parameters as the source version, except for parameters that you specify in LaunchTemplateData" (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplateVersion.html)',
  'terminate-unknown-instance':
    'moto answers TerminateInstanceInAutoScalingGroup of an instance no group has with HTTP 500 (a KeyError of its own); AWS answers 400 ValidationError "Instance Id not found - No managed instance found for instance ID: …" (ValidationError: "The input fails to satisfy the constraints specified by an AWS service", 400, https://docs.aws.amazon.com/autoscaling/ec2/APIReference/CommonErrors.html; the message as AWS sends it: https://github.com/yaybu/touchdown/issues/51)',
  'lifecycle-hook-global-timeout':
    'moto gives every lifecycle hook a GlobalTimeout of 172800 s; AWS: "The maximum time, in seconds, that an instance can remain in a wait state. The maximum is 172800 seconds (48 hours) or 100 times HeartbeatTimeout, whichever is smaller" — 30000 s for a 300 s heartbeat (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_LifecycleHook.html)',
  'nodegroup-version-default':
    'moto creates a node group without `version` at Kubernetes 1.19 (AL2_x86_64) whatever the cluster runs; AWS: "The Kubernetes version to use for your managed nodes. By default, the Kubernetes version of the cluster is used, and this is the only accepted specified value" (https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html), and 1.31 node groups default to an AL2023 AMI type',
  'nodegroup-update-config-on-create':
    'moto drops CreateNodegroup `updateConfig`: DescribeNodegroup shows none; AWS keeps "updateConfig: The node group update configuration" (https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html, API_Nodegroup.html)',
  'nodegroup-update-done-at-once':
    'moto answers UpdateNodegroupConfig with an update already Successful; AWS answers "An object representing an asynchronous update" and "The response output includes an update ID that you can use to track the status of your node group update with the DescribeUpdate API operation" (https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateNodegroupConfig.html): it is InProgress first',
} as const;

export type MotoDeviation = keyof typeof MOTO_DEVIATIONS;
