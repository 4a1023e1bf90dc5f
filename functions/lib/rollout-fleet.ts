import type { AwsScope } from '../../shared/aws/clients.js';
import { FleetRecords, type GroupOutcome } from '../../shared/aws/fleet-records.js';
import { requireSetting, type ServiceConfig } from '../../shared/config/service-config.js';
import type { FleetView } from '../../shared/fleet/may-start.js';

/** The fleet table as a rollout uses it (in the hub): the view its batch boundaries decide from, and its outcome for the release. */
export function rolloutFleet(config: Pick<ServiceConfig, 'fleetTable'>, hub: AwsScope): { view: () => Promise<FleetView>; recordOutcome: (release: string, outcome: GroupOutcome) => Promise<void> } {
  const records = new FleetRecords(hub, requireSetting(config.fleetTable, 'FLEET_TABLE'));
  return { view: () => records.fleetView(), recordOutcome: (release, outcome) => records.recordOutcome(release, outcome) };
}
