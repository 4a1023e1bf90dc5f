import { ec2ImageSource } from '../ami/describe-images.js';
import type { AwsScope } from '../aws/clients.js';
import { imagesBuiltBy, type ImageView } from '../aws/images.js';
import { placeKey } from '../aws/places.js';
import { startExecutionOnce } from '../aws/step-functions.js';
import type { ImageEvent } from '../events/detection.js';
import { mapBounded } from '../map-bounded.js';
import { type FleetPorts, PLACES_AT_ONCE, unreachableReason } from './detect.js';
import { type DetectionWindows, detectionExecutionName } from './detection-windows.js';
import { imageSummary, type SelectorGroup, screenImages } from './image-match.js';
import { type GroupRef, listGroupTags } from './inventory.js';

export interface ScreenPorts extends Pick<FleetPorts, 'places' | 'fleet'> {
  /** the hub's own scope: the detection state machine and the windows' table are the hub's */
  aws: AwsScope;
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
  | { outcome: 'debounced'; images: string[]; groups: GroupRef[]; window: string; detectAt: string; executionName: string };

/**
 * An image became available (`EC2 AMI State Change`, or an Image Builder image with its output
 * AMIs) in the account and region the envelope names — the hub's, or a member's whose stack
 * forwarded it: is it worth a detection, and for which node groups?
 * 1. the image(s), read where the event happened: DescribeImages of the event's AMI (or the
 *    Image Builder image's output AMIs, by their `Ec2ImageBuilderArn` tag) — owner, name, tags;
 * 2. the node groups' tags (no template or image reads) in every place of the fleet in the
 *    event's region — an AMI is regional, and one account's image may be shared with the
 *    others there (a member that cannot be read is logged and left out) — and which of them
 *    could take it (image-match.ts, pure); none: logged with each group's reason, and done;
 * 3. those groups join the open debounce window, and the window's execution is started (the
 *    same name and input for every event of the window: one execution, one detection, for the
 *    union of the groups; see detection-windows.ts).
 */
export async function screenImageEvent(event: ImageEvent, ports: ScreenPorts): Promise<ScreenResult> {
  const state = event['detail-type'] === 'EC2 AMI State Change' ? event.detail.State : event.detail.state.status;
  if (state.toLowerCase() !== 'available') return ignored(ports, `image state ${state} is not available`);

  // where the image is: a member's place when the envelope names one, the hub's account otherwise
  // (in the event's region: the hub may not know its own account id in a single-account deployment)
  const member = ports.fleet.find((at) => !at.home && at.place.accountId === event.account && at.place.region === event.region);
  const origin = ports.places.scopeOf(member ? member.place : { region: event.region });
  let images: ImageView[];
  if (event['detail-type'] === 'EC2 AMI State Change') {
    const image = await ec2ImageSource(origin).byId(event.detail.ImageId);
    images = image ? [image] : [];
  } else {
    const arn = event.resources.find((r) => /^arn:aws[a-z-]*:imagebuilder:[^:]*:[^:]*:image\//.test(r));
    if (!arn) return ignored(ports, 'the Image Builder event names no image ARN');
    images = await imagesBuiltBy(origin, arn);
  }
  images = images.filter((image) => image.State === 'available');
  if (images.length === 0) return ignored(ports, 'EC2 lists no available AMI for the event');

  const ids = images.map((image) => image.ImageId!);
  const { matched, verdicts } = screenImages(images, await groupTagsInRegion(ports, event.region));
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

/** The groups' tags of every fleet place in `region`, a few places at once; a member that cannot be read is logged and left out. */
async function groupTagsInRegion(ports: ScreenPorts, region: string): Promise<SelectorGroup[]> {
  const here = ports.fleet.filter((at) => at.place.region === region);
  const found = await mapBounded(here, PLACES_AT_ONCE, async (at) => {
    try {
      return await listGroupTags({ aws: ports.places.scopeOf(at.place), managedClusters: at.clusters, at });
    } catch (error) {
      const reason = at.home ? undefined : unreachableReason(error);
      if (reason === undefined) throw error;
      ports.log('member place unreachable', { place: placeKey(at.place), reason });
      return [];
    }
  });
  return found.flat();
}

function ignored(ports: Pick<ScreenPorts, 'log'>, reason: string): ScreenResult {
  ports.log('image event ignored', { reason });
  return { outcome: 'ignored', reason };
}
