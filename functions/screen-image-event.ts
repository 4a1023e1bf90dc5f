import { now } from '../shared/clock.js';
import { fleetPlaces } from '../shared/config/member-accounts.js';
import { loadServiceConfig, requireSetting } from '../shared/config/service-config.js';
import { DetectionWindows } from '../shared/detect/detection-windows.js';
import { screenImageEvent } from '../shared/detect/screen-image-event.js';
import { ImageEventSchema } from '../shared/events/detection.js';
import { lambdaHandler, logInfo } from './lib/handler.js';
import { budgetedPlaceScopesOf } from './lib/budgeted-places.js';

/** `EC2 AMI State Change` and `EC2 Image Builder Image State Change`: a detection only for the groups the image could move, debounced. */
const config = loadServiceConfig();
const places = budgetedPlaceScopesOf(config);
const aws = places.home;
const ports = {
  aws,
  places,
  fleet: fleetPlaces(config.fleet, config.region, config.managedClusters),
  detectionStateMachineArn: requireSetting(config.amiDetectionStateMachineArn, 'AMI_DETECTION_STATE_MACHINE_ARN'),
  windows: new DetectionWindows(aws, requireSetting(config.rolloutsTable, 'ROLLOUTS_TABLE')),
  now,
  log: logInfo,
};

export const handler = lambdaHandler({
  schema: ImageEventSchema,
  run: (event) => screenImageEvent(event, ports),
});
