/**
 * `@eks-node-lifecycle/sandbox`: the simulated world the service's handlers and workflows run
 * against (README.md). Scripts, the bench and the tests import it by this name, from this
 * entry only; the product (functions/, shared/) never does. Its own tests (test/) reach inside.
 */

// the world, and the default scenario
export { createTables, SANDBOX_CREDENTIALS, SANDBOX_EXTERNAL_ID, World, type SimCluster, type WorldMember, type WorldOptions } from './world.js';
export { SimCloud, type CloudCall } from './aws/cloud.js';
export { memberStack, type MemberRole, type MemberStack } from './iam/member-roles.js';
export { instanceIdsOf, runDefaultScenario, type DefaultScenarioResult } from './scenarios.js';
export { VirtualClock } from './clock.js';
export { startTicker } from './clock-ticker.js';
export { PROJECT_ROOT, loadServerlessModel, resolveEnvironment, type AslDefinition, type ServerlessModel } from './serverless-config.js';

// simulated AWS (aws/)
export { accountThrottlingError, SimAccount, type CallRecord, type FaultRule } from './aws/account.js';
export type { TimelineEntry, TimelineSource } from './aws/account-state.js';
export { AMI_TYPES, naming, releaseAmi, type BadForNodes, type BadForWorkloads, type BadImage } from './aws/ami-catalogue.js';
export { isTerminating } from './aws/asg-model.js';
export { readBootstrap } from './aws/bootstrap-config.js';
export type { SelfManagedGroup, SelfManagedGroupSpec } from './aws/builders.js';
export { eksInUse } from './aws/errors.js';
export type { LifecycleActionDetail } from './aws/events.js';
export { globToRegExp } from './aws/filters.js';
export { NODE_ROLE_POLICIES } from './aws/iam.js';
export { INSTANCE_TYPES } from './aws/instance-types.js';
export { connectionReset, dnsFailure, halfWrittenResponse, socketTimeout, type AwsNetworkFault } from './aws/network-errors.js';
export { randomNetworkFaults, type NetworkFaultTally, type ThrottlingTally } from './aws/random-faults.js';
export { bootstrapUserData, clusterDnsIp } from './aws/user-data.js';
export { throttleEveryService } from './throttle-every-service.js';
export { installSdkGate, READ_COMMAND } from './sdk-gate.js';
export { templateContext, resolveIntrinsics, templateRoles, type SimRole } from './iam/template-roles.js';

// Lambda, Step Functions, EventBridge, DynamoDB, metrics
export { LambdaFunctionError, runningInvocation, type Invocation } from './lambda.js';
export { crashLambda, type CrashPlan } from './lambda-crash.js';
export { SimFunctionUrls, type SandboxCaller } from './function-url.js';
export { SimStepFunctions, type PendingCallback, type SimExecution } from './step-functions.js';
export type { BusEvent } from './event-bus.js';
export { matchesPattern } from './event-pattern.js';
export { startChatopsTable, startLocksTable } from './dynamo.js';
export { metricTotal } from './metrics.js';

// Kubernetes (kube/)
export { startKubeApiServer, TLS_DIR as SANDBOX_TLS_DIR, type FaultAction, type FaultRequest, type KubeApiServer, type ObservedRequest } from './kube/api-server.js';
export { allows, rulesFromManifest } from './kube/authorization.js';
export { mapRole, nodeRoleMapping, putAwsAuth, type RoleMapping } from './kube/aws-auth.js';
export { watchBudgets, type BudgetMonitor, type BudgetViolation } from './kube/budget-monitor.js';
export { createDaemonSet, createDeployment, createNode, createPdb, createPod, startControllers } from './kube/controllers.js';
export { crashLoopBackOffMs } from './kube/crash-loops.js';
export { injectKubeFaults, type InjectedKubeFault, type KubeFault, type KubeFaults } from './kube/faults.js';
export { clientOf as kubeClientOf, createRequestCounter } from './kube/request-counter.js';
export { KubeStore, type StoreEvent } from './kube/store.js';
export { isNodeReady, type KubeNode, type Pod, type PodDisruptionBudget } from './kube/types.js';
export { populateNodeForDrain, type DrainNodeWorkloads } from './kube/workloads-drain.js';
export { hasKubectl, KUBECTL, kubectl, kubectlDrain } from './kubectl.js';
export { authenticateEksToken } from './eks-authenticator.js';
export { failDnsLookups, type DnsFaults } from './dns-faults.js';
export { CONNECT_TIMEOUT_MS } from './private-endpoints.js';
export { awaitsEviction } from './node-pods.js';

// chat
export { chatParams, putAccessPolicy, sandboxAccessPolicy, SANDBOX_SLACK, setupChat, startSandboxSlack, type ChatDriver } from './chat.js';
export { signedSlackEvent, slashCommandBody, startSlackReceiver, type SlackReceiver } from './slack-receiver.js';

// watching a run: invariants, writes, the story
export { watchCapacity, type CapacityMonitor, type CapacityViolation } from './capacity-monitor.js';
export { accountsOf, nodeOfInstance, observeTerminations, type TerminationObserver, type TerminationRecord } from './termination-observer.js';
export { kubeWrites, recordServiceCalls, tally, userResourceWrites } from './service-writes.js';
export { formatStoryLine, recordInvocations, storyHeader, storyLines, storySummary, tellAsItHappens } from './story.js';
