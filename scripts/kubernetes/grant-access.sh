#!/usr/bin/env bash
# Gives eks-node-lifecycle's Kubernetes-facing Lambda roles access to one cluster:
#   scripts/kubernetes/grant-access.sh <cluster> [stage] [region]
#   scripts/kubernetes/grant-access.sh --member <cluster> <hub stage> <region>
# --member: the cluster is in a member account (README "Member accounts"), and the script runs
# with that account's credentials: the roles given access are the member roles the hub's
# functions assume there (deploy/member-account.yml: eks-node-lifecycle/<stage>-<Role>-<region>),
# not the hub's own.
# 1. an EKS access entry per role (authentication mode API or API_AND_CONFIG_MAP), in the
#    Kubernetes group `eks-node-lifecycle`;
# 2. the ClusterRole and binding of scripts/kubernetes/rbac.yaml, applied with kubectl to THAT
#    cluster (a kubeconfig written for it alone, never whatever context is current).
# For a cluster still on the aws-auth ConfigMap only, add instead to mapRoles, per role:
#   - rolearn: <role arn>
#     username: eks-node-lifecycle:{{SessionName}}
#     groups: [eks-node-lifecycle]
set -euo pipefail
member=false
args=()
for arg in "$@"; do
  case "$arg" in
    --member) member=true ;;
    *) args+=("$arg") ;;
  esac
done
set -- ${args[@]+"${args[@]}"}
cluster=${1:?usage: grant-access.sh [--member] <cluster> [stage] [region]}
stage=${2:-dev}
region=${3:-${AWS_REGION:-eu-west-1}}
stack="eks-node-lifecycle-${stage}"
here=$(cd "$(dirname "$0")" && pwd)

# DoctorProbeRole: `doctor` reads nodes and the Node Termination Handler's pods and asks the API
# (SelfSubjectAccessReview) what it may do — in the same group as the drains, its review answers
# for exactly what they are granted. PromotionStepRole: a fleet promotion reads the nodes and pods
# of each cluster of the rings it has reached (workload health, read only).
for logical in CheckNodeReadyRole RequestDrainRole DrainStepRole RollStepRole RolloutPreflightRole PrepareLaunchTemplateRole DoctorProbeRole PromotionStepRole; do
  if $member; then
    # the member role of this hub role, in the cluster's region (the template's RoleName)
    role="${stage}-${logical%Role}-${region}"
  else
    role=$(aws cloudformation describe-stack-resource --region "$region" --stack-name "$stack" \
      --logical-resource-id "$logical" --query StackResourceDetail.PhysicalResourceId --output text)
  fi
  arn=$(aws iam get-role --role-name "$role" --query Role.Arn --output text)
  if aws eks describe-access-entry --region "$region" --cluster-name "$cluster" --principal-arn "$arn" >/dev/null 2>&1; then
    echo "access entry for $arn exists"
  else
    aws eks create-access-entry --region "$region" --cluster-name "$cluster" --principal-arn "$arn" \
      --kubernetes-groups eks-node-lifecycle --type STANDARD >/dev/null
    echo "access entry created for $arn"
  fi
done
kubeconfig=$(mktemp)
trap 'rm -f "$kubeconfig"' EXIT
aws eks update-kubeconfig --region "$region" --name "$cluster" --kubeconfig "$kubeconfig" >/dev/null
kubectl --kubeconfig "$kubeconfig" apply -f "$here/rbac.yaml"
