import type { AwsScope } from '../aws/clients.js';
import type { ImageView } from '../aws/images.js';
import { identifyImage } from '../ami/ami-family.js';
import { ec2ImageSource } from '../ami/describe-images.js';
import { maxKubeletSkew, minorsBetween, skewProblem } from '../ami/kubernetes-version.js';
import type { PreflightCheck } from './preflight-check.js';

/** Preflight's `kubernetes-version` check (issue 15, item 4): the fact it reads, and the judge. */

/**
 * The Kubernetes minors involved: the control plane's, what the group runs (a managed node
 * group's version, else its image's), what the target image is built for. Either of the last
 * two is absent when the image does not say (a custom AMI without tags).
 */
export interface KubernetesVersionFact {
  controlPlane: string;
  current?: string;
  target?: string;
}

/**
 * The version skew policy, for the kubelets the rollout brings: never newer than the control
 * plane, at most 3 minors older (2 before 1.28); and a group's minor moves one at a time,
 * never backwards (EKS refuses both for managed node groups). Add-on compatibility is not
 * judged: the cluster's add-ons are not read (see the detail).
 */
export function judgeKubernetesVersion(fact: KubernetesVersionFact): PreflightCheck {
  const name = 'kubernetes-version';
  const { controlPlane, current, target } = fact;
  if (!target) return { name, ok: true, detail: `not checked: the target image does not say which Kubernetes minor it is for (control plane ${controlPlane})` };
  const skew = skewProblem(target, controlPlane);
  if (skew) {
    return { name, ok: false, detail: skew, fix: `roll onto an image for Kubernetes ${controlPlane} (or at most ${maxKubeletSkew(controlPlane)} minors older)${minorsBetween(target, controlPlane) !== undefined && minorsBetween(target, controlPlane)! < 0 ? `, or upgrade the control plane first: aws eks update-cluster-version --name <cluster> --kubernetes-version ${target}` : ''}` };
  }
  if (!current) return { name, ok: true, detail: `Kubernetes ${target} is within the skew policy of the control plane ${controlPlane}; what the group runs now could not be told` };
  const step = minorsBetween(current, target);
  if (step === undefined) return { name, ok: false, detail: `cannot compare the group's Kubernetes ${current} with the target's ${target}` };
  if (step < 0) {
    return { name, ok: false, detail: `the target image is for Kubernetes ${target}, older than the ${current} the group runs: kubelets are never downgraded`, fix: `roll onto an image for Kubernetes ${current}` };
  }
  if (step > 1) {
    return { name, ok: false, detail: `the target image is for Kubernetes ${target}, ${step} minors past the ${current} the group runs: a group moves one minor at a time`, fix: `roll onto an image for Kubernetes ${nextMinor(current)} first` };
  }
  if (step === 1) {
    return {
      name, ok: true,
      detail: `Kubernetes ${current} → ${target}, within the skew policy of the control plane ${controlPlane}; add-on compatibility not checked (the cluster's add-ons are not read: aws eks describe-addon-versions --kubernetes-version ${target})`,
    };
  }
  return { name, ok: true, detail: `Kubernetes ${current}, as before, within the skew policy of the control plane ${controlPlane}` };
}

function nextMinor(version: string): string {
  const [major = '1', minor = '0'] = version.split('.');
  return `${major}.${Number(minor) + 1}`;
}

/** What the group runs: EKS's version for a managed group (unless custom), else the image its launch template names. */
export async function kubernetesVersionFact(
  controlPlane: string,
  nodegroupVersion: { version: string; custom: boolean } | undefined,
  currentImageId: string | undefined,
  target: ImageView | undefined,
  aws: AwsScope,
): Promise<KubernetesVersionFact> {
  const targetMinor = target ? identifyImage(target)?.kubernetesVersion : undefined;
  let current: string | undefined;
  if (nodegroupVersion && !nodegroupVersion.custom) current = nodegroupVersion.version;
  else if (currentImageId) {
    const image = await ec2ImageSource(aws).byId(currentImageId);
    current = image ? identifyImage(image)?.kubernetesVersion : undefined;
  }
  return { controlPlane, ...(current ? { current } : {}), ...(targetMinor ? { target: targetMinor } : {}) };
}

