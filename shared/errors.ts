/**
 * Typed errors of eks-node-lifecycle.
 *
 * Lambda reports an error's `name` as its errorType, and the workflows' `Retry`/`Catch`
 * match that string in `ErrorEquals`. The names are therefore literal (minifiers rename
 * classes) and part of the contract with `workflows/`: a test checks that every
 * `ErrorEquals` there is one of `ERROR_NAMES` or a `States.`/`Lambda.` name.
 */

export abstract class NodeLifecycleError extends Error {
  abstract override readonly name: string;
  /** true when the same call may succeed later (the workflow retries it) */
  abstract readonly retryable: boolean;
}

/** The input did not match its schema. Nothing was changed. */
export class InvalidInputError extends NodeLifecycleError {
  override readonly name = 'InvalidInputError';
  readonly retryable = false;
  constructor(
    readonly issues: readonly { path: string; message: string }[],
    options?: ErrorOptions,
  ) {
    super(`invalid input: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`, options);
  }
}

/** A configuration value (service parameter or node group tag) is malformed. */
export class ConfigurationError extends NodeLifecycleError {
  override readonly name = 'ConfigurationError';
  readonly retryable = false;
}

/** The EKS cluster does not exist (or is not visible to the service role). */
export class ClusterNotFoundError extends NodeLifecycleError {
  override readonly name = 'ClusterNotFoundError';
  readonly retryable = false;
  constructor(readonly cluster: string, options?: ErrorOptions) {
    super(`EKS cluster ${cluster} not found`, options);
  }
}

/**
 * EC2 does not know the instance. Retryable: EC2 is eventually consistent, and an instance
 * named by a launch lifecycle action can be invisible to DescribeInstances for a few seconds.
 */
export class InstanceNotFoundError extends NodeLifecycleError {
  override readonly name = 'InstanceNotFoundError';
  readonly retryable = true;
  constructor(readonly instanceId: string, options?: ErrorOptions) {
    super(`EC2 instance ${instanceId} not found`, options);
  }
}

/** An AWS API answered with throttling or a server fault; the call is safe to repeat. */
export class AwsTransientError extends NodeLifecycleError {
  override readonly name = 'AwsTransientError';
  readonly retryable = true;
  constructor(readonly operation: string, options?: ErrorOptions) {
    super(`transient AWS failure in ${operation}: ${(options?.cause as Error | undefined)?.message ?? 'unknown'}`, options);
  }
}

/** The cluster's Kubernetes API could not be reached or answered 5xx/timeouts. */
export class KubernetesUnavailableError extends NodeLifecycleError {
  override readonly name = 'KubernetesUnavailableError';
  readonly retryable = true;
  constructor(readonly cluster: string, readonly detail: string, options?: ErrorOptions) {
    super(`Kubernetes API of ${cluster} unavailable: ${detail}`, options);
  }
}

/** The Kubernetes API refused our credentials (missing access entry or RBAC). */
export class KubernetesAccessDeniedError extends NodeLifecycleError {
  override readonly name = 'KubernetesAccessDeniedError';
  readonly retryable = false;
  constructor(readonly cluster: string, readonly detail: string, options?: ErrorOptions) {
    super(`Kubernetes API of ${cluster} denied access: ${detail}. Check the EKS access entry and the RBAC (scripts/kubernetes/grant-access.sh CLUSTER applies both)`, options);
  }
}

/** The lifecycle action is no longer open (completed by someone else, or expired). */
export class LifecycleActionGoneError extends NodeLifecycleError {
  override readonly name = 'LifecycleActionGoneError';
  readonly retryable = false;
  constructor(readonly instanceId: string, options?: ErrorOptions) {
    super(`no active lifecycle action for ${instanceId}`, options);
  }
}

/** One broken rule of a launch template; `rule` is a stable id (see launch-templates/validate.ts). */
export interface LaunchTemplateViolation {
  rule: string;
  message: string;
}

/**
 * The launch template (or its user data) would make EKS reject the node group update or
 * would keep nodes from joining. Not retryable: the same input fails the same way.
 */
export class LaunchTemplateValidationError extends NodeLifecycleError {
  override readonly name = 'LaunchTemplateValidationError';
  readonly retryable = false;
  /** the first rule broken; every rule is in `violations` and named in the message */
  readonly rule: string;

  constructor(
    readonly violations: readonly LaunchTemplateViolation[],
    options?: ErrorOptions,
  ) {
    super(`launch template breaks ${violations.map((v) => `[${v.rule}] ${v.message}`).join('; ')}`, options);
    this.rule = violations[0]?.rule ?? 'unknown';
  }
}

/**
 * The node group lock is no longer held by the caller: its lease lapsed and another
 * execution took it (or the record is gone). Not retryable: the rollout must stop, since
 * someone else may now be changing the group.
 */
export class LockLostError extends NodeLifecycleError {
  override readonly name = 'LockLostError';
  readonly retryable = false;
  constructor(
    readonly key: string,
    readonly owner: string,
    options?: ErrorOptions,
  ) {
    super(`lock ${key} is no longer held by ${owner}`, options);
  }
}

/**
 * A person rejected a rollout at its approval gate. Sent with SendTaskFailure, so the
 * workflow's Catch on this name ends the rollout before it touches the group.
 */
export class RolloutRejectedError extends NodeLifecycleError {
  override readonly name = 'RolloutRejectedError';
  readonly retryable = false;
}

/** A request refused for a reason the caller is told (the `reason` is for logs and tests). */
abstract class RefusedRequestError<Reason extends string> extends NodeLifecycleError {
  readonly retryable = false;
  constructor(
    readonly reason: Reason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A chat request that is not provably from Slack: a missing or malformed signature header,
 * a timestamp more than five minutes off (a replay), or a signature that does not match.
 * Answered 401; nothing is parsed further and nothing runs.
 */
export class SlackSignatureError extends RefusedRequestError<'missing-header' | 'malformed' | 'stale' | 'bad-signature'> {
  override readonly name = 'SlackSignatureError';
}

/**
 * A request the service will not act on because it cannot trust who sent it: from a Slack
 * workspace this deployment does not serve, a signed request seen before (a replay), a
 * hand-off the entry never accepted, or an approval or forced drain from a caller that
 * cannot be told apart from anyone else (a direct invocation). Nothing is written.
 */
export class UnverifiedCallerError extends RefusedRequestError<'foreign-workspace' | 'replayed' | 'not-accepted' | 'no-identity'> {
  override readonly name = 'UnverifiedCallerError';
}

/** The Slack Web API (or a response_url) refused a message; retryable when Slack said so (rate limit, 5xx). */
export class SlackApiError extends NodeLifecycleError {
  override readonly name = 'SlackApiError';
  constructor(
    readonly operation: string,
    readonly slackError: string,
    readonly retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(`Slack ${operation} failed: ${slackError}`, options);
  }
}

/**
 * A member account cannot be acted in: the hub's AssumeRole of its member role was refused
 * (the role was deleted, its trust policy or ExternalId does not match, or an SCP denies it).
 * Not retryable: it needs someone to fix the member's stack; the other members go on.
 */
export class MemberAccessError extends NodeLifecycleError {
  override readonly name = 'MemberAccessError';
  readonly retryable = false;
  constructor(
    readonly accountId: string,
    readonly region: string,
    readonly roleArn: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`member account ${accountId} (${region}) cannot be reached: AssumeRole of ${roleArn} was refused (${reason}); is deploy/member-account.yml deployed there, with this hub's account, stage and ExternalId?`, options);
  }
}

export const ERROR_NAMES = [
  'LaunchTemplateValidationError',
  'InvalidInputError',
  'ConfigurationError',
  'ClusterNotFoundError',
  'InstanceNotFoundError',
  'AwsTransientError',
  'KubernetesUnavailableError',
  'KubernetesAccessDeniedError',
  'LifecycleActionGoneError',
  'LockLostError',
  'RolloutRejectedError',
  'SlackSignatureError',
  'UnverifiedCallerError',
  'SlackApiError',
  'MemberAccessError',
] as const;

export type ErrorName = (typeof ERROR_NAMES)[number];
