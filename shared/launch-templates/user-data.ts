/**
 * User data for a new launch template version, per image family and per who bootstraps:
 *
 * - `full-bootstrap` (the template names its AMI, EKS merges nothing): the user's content
 *   plus exactly one bootstrap of ours, which replaces any bootstrap already there.
 * - `eks-merges` (managed node group on an EKS AMI): the user's content in the format EKS
 *   merges, with any bootstrap or kubelet start taken out.
 *
 * Rendering its own output again gives the same text. The result is decoded text; the
 * caller base64-encodes it for EC2.
 *
 * What the caller passes (maxPods, labels, taints) and the cluster fields win over the same
 * settings in the user's content; everything else of the user's is kept.
 */
import { readAl2Bootstrap, renderAl2 } from './al2.js';
import { readAl2023Bootstrap, renderAl2023 } from './al2023.js';
import { readBottlerocketBootstrap, renderBottlerocket } from './bottlerocket.js';
import { userDataParts } from './mime.js';
import type { BootstrapTarget, NodeImageFamily, RenderUserDataInput } from './types.js';
import { readWindowsBootstrap, renderWindows } from './windows.js';

export type { BootstrapTarget, ClusterConnection, NodeImageFamily, NodeTaint, RenderUserDataInput, UserDataMode } from './types.js';

export function renderUserData(input: RenderUserDataInput): string {
  switch (input.family) {
    case 'al2': return renderAl2(input);
    case 'al2023': return renderAl2023(input);
    case 'bottlerocket': return renderBottlerocket(input);
    case 'windows': return renderWindows(input);
  }
}

/**
 * The cluster a user data's bootstrap would join, or undefined when it holds no bootstrap
 * (as it must when EKS merges).
 */
export function readBootstrapTarget(family: NodeImageFamily, userDataDecoded: string): BootstrapTarget | undefined {
  switch (family) {
    case 'al2': return readAl2Bootstrap(userDataParts(userDataDecoded));
    case 'al2023': return readAl2023Bootstrap(userDataParts(userDataDecoded));
    case 'bottlerocket': return readBottlerocketBootstrap(userDataDecoded);
    case 'windows': return readWindowsBootstrap(userDataDecoded);
  }
}
