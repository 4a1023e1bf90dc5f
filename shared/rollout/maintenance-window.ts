/**
 * Maintenance windows, from the `eks-node-lifecycle/window` tag. Pure: the clock is passed in.
 *
 *   mon-fri 22:00-04:00 Europe/Paris     weekday nights, crossing midnight
 *   sat,sun 00:00-23:59 UTC              weekends (`sat+sun` too: AWS tag values cannot hold a comma)
 *   daily 01:00-05:00 America/New_York
 *
 * Days name the day a window OPENS: `fri 22:00-04:00` runs Friday 22:00 to Saturday 04:00.
 * Hours are wall-clock time in the zone, so a window keeps its local hours across DST
 * changes. A wall time that does not exist (the spring-forward gap) moves later by the gap;
 * one that happens twice (fall back) is the earlier one — Temporal's `compatible` rule.
 * End equal to start is a 24-hour window; `24:00` may end one.
 */

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type DayName = (typeof DAY_NAMES)[number];

export interface MaintenanceWindow {
  /** days (0 = Sunday … 6 = Saturday) on which the window opens, ascending, unique */
  days: number[];
  /** minutes after local midnight */
  startMinute: number;
  /** minutes after local midnight; at or before startMinute means the next day */
  endMinute: number;
  /** IANA time zone, canonical as Intl resolves it */
  timeZone: string;
  /** the tag value, for messages */
  text: string;
}

export type WindowState = { open: true; closesAt: Date } | { open: false; opensAt: Date };

export type StartDecision = { decision: 'start' } | { decision: 'wait-until'; at: Date } | { decision: 'refuse'; reason: string };

export function parseWindow(text: string): { window: MaintenanceWindow } | { problem: string } {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 3) return { problem: `window "${text}" is not "<days> <HH:MM-HH:MM> <time zone>", e.g. "mon-fri 22:00-04:00 Europe/Paris"` };
  const [daysText, hoursText, zoneText] = parts as [string, string, string];

  const days = parseDays(daysText);
  if (typeof days === 'string') return { problem: `window "${text}": ${days}` };

  const hours = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/.exec(hoursText);
  if (!hours) return { problem: `window "${text}": hours "${hoursText}" are not HH:MM-HH:MM` };
  const [, sh, sm, eh, em] = hours.map(Number) as [number, number, number, number, number];
  if (sh > 23 || sm > 59) return { problem: `window "${text}": ${hoursText.split('-')[0]} is not a time of day` };
  if (eh > 24 || em > 59 || (eh === 24 && em !== 0)) return { problem: `window "${text}": ${hoursText.split('-')[1]} is not a time of day` };

  let timeZone: string;
  try {
    timeZone = new Intl.DateTimeFormat('en-US', { timeZone: zoneText }).resolvedOptions().timeZone;
  } catch {
    return { problem: `window "${text}": "${zoneText}" is not an IANA time zone like Europe/Paris or UTC` };
  }
  return { window: { days, startMinute: sh * 60 + sm, endMinute: (eh * 60 + em) % 1440, timeZone, text: text.trim() } };
}

function parseDays(text: string): number[] | string {
  const lower = text.toLowerCase();
  if (lower === 'daily' || lower === 'every-day') return [0, 1, 2, 3, 4, 5, 6];
  if (lower === 'weekdays') return [1, 2, 3, 4, 5];
  if (lower === 'weekends') return [0, 6];
  const days = new Set<number>();
  for (const item of lower.split(/[,+]/)) {
    const range = item.split('-');
    const ids = range.map((d) => DAY_NAMES.indexOf(d as DayName));
    if (range.length > 2 || ids.some((id) => id < 0)) return `"${item}" is not a day (mon … sun) or a range of days (mon-fri)`;
    const [from, to = from] = ids as [number, number?];
    // a range may wrap the week: fri-mon is fri, sat, sun, mon
    for (let d = from; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === to) break;
    }
  }
  return [...days].sort((a, b) => a - b);
}

/**
 * Whether the window is open at `now`, and when it next closes or opens. Occurrences are
 * looked at from two local days before `now` to eight after: a window that never closes
 * (24 hours every day) reports the end of that horizon as its closing.
 */
export function windowState(window: MaintenanceWindow, now: Date): WindowState {
  const t = now.getTime();
  const occurrences = occurrencesAround(window, now);
  const current = occurrences.find((o) => o.open <= t && t < o.close);
  if (current) {
    // back-to-back occurrences (sun 22:00-06:00 + mon 00:00-23:59) make one open stretch
    let closesAt = current.close;
    for (const o of occurrences) if (o.open <= closesAt && o.close > closesAt) closesAt = o.close;
    return { open: true, closesAt: new Date(closesAt) };
  }
  const next = occurrences.filter((o) => o.open > t).sort((a, b) => a.open - b.open)[0];
  // `days` is never empty, so an opening lies within the eight days enumerated
  return { open: false, opensAt: new Date(next!.open) };
}

/**
 * Whether a rollout may start now. Detection waits for the window; a person outside it is
 * refused unless they said `--now` (`startNow`), since starting a rollout off-hours is a
 * decision a person makes knowingly, not one the service makes for them.
 */
export function decideStart(input: { window?: MaintenanceWindow; now: Date; startedBy: 'detection' | 'person'; startNow?: boolean }): StartDecision {
  if (!input.window) return { decision: 'start' };
  const state = windowState(input.window, input.now);
  if (state.open) return { decision: 'start' };
  if (input.startedBy === 'detection') return { decision: 'wait-until', at: state.opensAt };
  if (input.startNow) return { decision: 'start' };
  return {
    decision: 'refuse',
    reason: `outside the maintenance window "${input.window.text}"; it opens at ${state.opensAt.toISOString()}. Start with --now to roll anyway`,
  };
}

interface Occurrence {
  open: number;
  close: number;
}

/** Every occurrence opening from two local days before `now` to eight after, as epoch ms. */
function occurrencesAround(window: MaintenanceWindow, now: Date): Occurrence[] {
  const local = wallClock(now, window.timeZone);
  const crossesMidnight = window.endMinute <= window.startMinute;
  const result: Occurrence[] = [];
  for (let k = -2; k <= 8; k++) {
    const day = new Date(Date.UTC(local.year, local.month - 1, local.day + k));
    if (!window.days.includes(day.getUTCDay())) continue;
    const [y, m, d] = [day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate()];
    const open = wallTimeToEpoch(y, m, d, window.startMinute, window.timeZone);
    const close = wallTimeToEpoch(y, m, d + (crossesMidnight ? 1 : 0), window.endMinute, window.timeZone);
    result.push({ open, close });
  }
  return result;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, f);
  }
  return f;
}

function wallClock(instant: Date, timeZone: string) {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(instant)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts['year']!, month: parts['month']!, day: parts['day']!, hour: parts['hour']!, minute: parts['minute']!, second: parts['second']! };
}

/** local time minus UTC, in ms, at an instant */
function offsetAt(epochMs: number, timeZone: string): number {
  const whole = Math.floor(epochMs / 1000) * 1000;
  const w = wallClock(new Date(whole), timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - whole;
}

/** The instant a wall-clock time happens in a zone (day may overflow: Date.UTC normalizes it). */
function wallTimeToEpoch(year: number, month: number, day: number, minute: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, 0, minute);
  // the offsets in force either side of any transition near this wall time
  const before = offsetAt(wall - 14 * 3_600_000, timeZone);
  const after = offsetAt(wall + 14 * 3_600_000, timeZone);
  const valid = [...new Set([before, after])].map((o) => wall - o).filter((t) => offsetAt(t, timeZone) === wall - t);
  if (valid.length > 0) return Math.min(...valid);
  // in the gap: read with the offset from before the jump, which lands after it
  return wall - before;
}
