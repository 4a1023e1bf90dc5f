/**
 * CloudWatch alarms, as far as the service reads them: alarms by name in each account and
 * region, and DescribeAlarms
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html)
 * with `AlarmNames` (at most 100), `AlarmNamePrefix`, `StateValue`, `AlarmTypes` and paging by
 * `MaxRecords` (1–100, default 50) and `NextToken`. Tests create an alarm with `putAlarm` (a
 * metric alarm in `INSUFFICIENT_DATA`, as CloudWatch creates one) and move it with `setState`
 * (`world.setAlarmState`), as SetAlarmState does. No metrics, no evaluation: a state is what a
 * test says it is.
 */
import {
  CloudWatchServiceException,
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandInput,
  type DescribeAlarmsCommandOutput,
  type MetricAlarm,
  type StateValue,
} from '@aws-sdk/client-cloudwatch';
import type { AccountState } from './account-state';
import { clone } from './clone';
import { route, type Route } from './routes';

type Out<T> = Omit<T, '$metadata'>;

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export class CloudWatchService {
  private readonly alarms = new Map<string, MetricAlarm>();

  constructor(private readonly account: AccountState) {}

  /** Creates (or keeps) a metric alarm of this name; a new one is INSUFFICIENT_DATA until its first evaluation. */
  putAlarm(name: string): MetricAlarm {
    let alarm = this.alarms.get(name);
    if (!alarm) {
      const at = this.account.clock.date();
      alarm = {
        AlarmName: name,
        AlarmArn: `arn:aws:cloudwatch:${this.account.region}:${this.account.accountId}:alarm:${name}`,
        StateValue: 'INSUFFICIENT_DATA',
        StateReason: 'Unchecked: Initial alarm creation',
        StateUpdatedTimestamp: at,
        AlarmConfigurationUpdatedTimestamp: at,
        ActionsEnabled: true,
      };
      this.alarms.set(name, alarm);
    }
    return clone(alarm);
  }

  /** Moves the alarm (created if need be) to a state, as SetAlarmState or an evaluation does. */
  setState(name: string, state: AlarmStateValue, reason = `Threshold Crossed: the sandbox set ${state}`): void {
    this.putAlarm(name);
    const alarm = this.alarms.get(name)!;
    Object.assign(alarm, { StateValue: state satisfies StateValue, StateReason: reason, StateUpdatedTimestamp: this.account.clock.date() });
  }

  deleteAlarm(name: string): void {
    this.alarms.delete(name);
  }

  describeAlarms(input: DescribeAlarmsCommandInput): Out<DescribeAlarmsCommandOutput> {
    const names = input.AlarmNames ?? [];
    if (names.length > 100) throw validation(`1 validation error detected: Value '[${names.join(', ')}]' at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100`);
    if (names.length > 0 && input.AlarmNamePrefix) throw invalidParameterCombination('AlarmNames and AlarmNamePrefix cannot be specified together.');
    const size = input.MaxRecords ?? 50;
    if (size < 1 || size > 100) throw validation(`1 validation error detected: Value '${size}' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100`);
    // without AlarmTypes only metric alarms are returned; the sandbox has no composite alarms
    const metric = !input.AlarmTypes?.length || input.AlarmTypes.includes('MetricAlarm');
    const matching = [...this.alarms.values()]
      .filter((a) => metric && (names.length === 0 || names.includes(a.AlarmName!)))
      .filter((a) => !input.AlarmNamePrefix || a.AlarmName!.startsWith(input.AlarmNamePrefix))
      .filter((a) => !input.StateValue || a.StateValue === input.StateValue)
      .sort((a, b) => a.AlarmName!.localeCompare(b.AlarmName!));
    const from = input.NextToken ? Number.parseInt(input.NextToken, 10) : 0;
    if (Number.isNaN(from) || from < 0 || from > matching.length) throw new CloudWatchServiceException({ name: 'InvalidNextToken', message: 'The next token specified is invalid.', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    const page = matching.slice(from, from + size);
    return { MetricAlarms: page.map((a) => clone(a)), CompositeAlarms: [], ...(from + size < matching.length ? { NextToken: String(from + size) } : {}) };
  }

  routes(): Route[] {
    return [route('cloudwatch', DescribeAlarmsCommand, (i) => this.describeAlarms(i))];
  }
}

function validation(message: string): Error {
  return new CloudWatchServiceException({ name: 'ValidationError', message, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

function invalidParameterCombination(message: string): Error {
  return new CloudWatchServiceException({ name: 'InvalidParameterCombination', message, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}
