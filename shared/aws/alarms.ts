import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { callAws } from './call.js';
import { type AwsScope, clientOf } from './clients.js';

/** One named alarm as CloudWatch knows it now; `MISSING` when DescribeAlarms does not return the name. */
export interface AlarmState {
  name: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | 'MISSING';
  reason?: string;
}

/**
 * DescribeAlarms takes at most 100 names a call (AlarmNames, "Maximum number of 100 items"):
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html
 */
export const ALARM_NAMES_PER_CALL = 100;

/**
 * The state of each named alarm, metric and composite alike (AlarmTypes both: without it
 * DescribeAlarms returns metric alarms only), one call per 100 names and page. A name the
 * place does not have is `MISSING`: a misspelt name in the policy must not read as healthy.
 */
export async function describeAlarms(scope: AwsScope, names: readonly string[]): Promise<AlarmState[]> {
  const wanted = [...new Set(names)];
  const found = new Map<string, AlarmState>();
  const client = clientOf(scope, CloudWatchClient);
  for (let at = 0; at < wanted.length; at += ALARM_NAMES_PER_CALL) {
    let token: string | undefined;
    do {
      const out = await callAws('cloudwatch:DescribeAlarms', () =>
        client.send(
          new DescribeAlarmsCommand({ AlarmNames: wanted.slice(at, at + ALARM_NAMES_PER_CALL), AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 100, ...(token ? { NextToken: token } : {}) }),
        ),
      );
      for (const alarm of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
        if (!alarm.AlarmName) continue;
        const state = alarm.StateValue === 'ALARM' || alarm.StateValue === 'OK' ? alarm.StateValue : 'INSUFFICIENT_DATA';
        found.set(alarm.AlarmName, { name: alarm.AlarmName, state, ...(alarm.StateReason ? { reason: alarm.StateReason } : {}) });
      }
      token = out.NextToken;
    } while (token);
  }
  return wanted.map((name) => found.get(name) ?? { name, state: 'MISSING' });
}
