import { ec2ImageSource } from '../ami/describe-images.js';
import type { AwsScope } from '../aws/clients.js';
import { imagesBuiltBy, type ImageView } from '../aws/images.js';
import { startExecutionOnce } from '../aws/step-functions.js';
import type { ImageEvent } from '../events/detection.js';
import type { ManagedClusters } from '../ownership/resolve-cluster.js';
import { type DetectionWindows, detectionExecutionName } from './detection-windows.js';
import { imageSummary, screenImages } from './image-match.js';
import { listGroupTags } from './inventory.js';

export interface ScreenPorts {
  aws: AwsScope;
  managedClusters: ManagedClusters;
  detectionStateMachineArn: string;
  windows: Pick<DetectionWindows, 'join'>;
  now: () => Date;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

export type ScreenResult =
  | { outcome: 'ignored'; reason: string }
  /** no group could take the image(s): no detection */
  | { outcome: 'no-match'; images: string[]; reason: string }
  /** the groups joined the debounce window whose one detection runs at `detectAt` */
  | { outcome: 'debounced'; images: string[]; groups: { cluster: string; group: string }[]; window: string; detectAt: string; executionName: string };

/**
 * An image became available (`EC2 AMI State Change`, or an Image Builder image with its output
 * AMIs): is it worth a detection, and for which node groups?
 * 1. the image(s): DescribeImages of the event's AMI (or the Image Builder image's output
 *    AMIs, by their `Ec2ImageBuilderArn` tag) — owner, name, tags;
 * 2. the node groups' tags (no template or image reads) and which of them could take it
 *    (image-match.ts, pure); none: logged with each group's reason, and done;
 * 3. those groups join the open debounce window, and the window's execution is started (the
 *    same name and input for every event of the window: one execution, one detection, for the
 *    union of the groups; see detection-windows.ts).
 */
export async function screenImageEvent(event: ImageEvent, ports: ScreenPorts): Promise<ScreenResult> {
  const state = event['detail-type'] === 'EC2 AMI State Change' ? event.detail.State : event.detail.state.status;
  if (state.toLowerCase() !== 'available') return ignored(ports, `image state ${state} is not available`);

  let images: ImageView[];
  if (event['detail-type'] === 'EC2 AMI State Change') {
    const image = await ec2ImageSource(ports.aws).byId(event.detail.ImageId);
    images = image ? [image] : [];
  } else {
    const arn = event.resources.find((r) => /^arn:aws[a-z-]*:imagebuilder:[^:]*:[^:]*:image\//.test(r));
    if (!arn) return ignored(ports, 'the Image Builder event names no image ARN');
    images = await imagesBuiltBy(ports.aws, arn);
  }
  images = images.filter((image) => image.State === 'available');
  if (images.length === 0) return ignored(ports, 'EC2 lists no available AMI for the event');

  const ids = images.map((image) => image.ImageId!);
  const { matched, verdicts } = screenImages(images, await listGroupTags(ports));
  if (matched.length === 0) {
    const reason = verdicts.length ? 'no node group could take it' : 'no node group in the managed clusters';
    ports.log('image event: no detection', { images: images.map(imageSummary), reason, groups: verdicts.map((v) => `${v.cluster}/${v.group}: ${v.reason}`) });
    return { outcome: 'no-match', images: ids, reason };
  }

  const window = await ports.windows.join(matched, ids, ports.now());
  const executionName = detectionExecutionName(window);
  await startExecutionOnce(ports.aws, ports.detectionStateMachineArn, executionName, { window: window.id, detectAt: window.detectAt });
  ports.log('image event: detection debounced', { images: images.map(imageSummary), groups: matched.map((m) => `${m.cluster}/${m.group}`), window: window.id, detectAt: window.detectAt });
  return { outcome: 'debounced', images: ids, groups: matched, window: window.id, detectAt: window.detectAt, executionName };
}

function ignored(ports: Pick<ScreenPorts, 'log'>, reason: string): ScreenResult {
  ports.log('image event ignored', { reason });
  return { outcome: 'ignored', reason };
}
