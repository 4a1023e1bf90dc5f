import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decideStart, type MaintenanceWindow, parseWindow, windowState } from '../../shared/rollout/maintenance-window.js';

function win(text: string): MaintenanceWindow {
  const parsed = parseWindow(text);
  assert.ok('window' in parsed, `"${text}" should parse: ${'problem' in parsed ? parsed.problem : ''}`);
  return parsed.window;
}

const iso = (s: string) => new Date(s);

describe('Maintenance window: parsing', () => {
  it('reads days, hours crossing midnight and an IANA zone', () => {
    assert.deepEqual(win('mon-fri 22:00-04:00 Europe/Paris'), { days: [1, 2, 3, 4, 5], startMinute: 22 * 60, endMinute: 4 * 60, timeZone: 'Europe/Paris', text: 'mon-fri 22:00-04:00 Europe/Paris' });
    assert.deepEqual(win('sat,sun 00:00-23:59 UTC').days, [0, 6]);
  });

  const days: [string, number[]][] = [
    ['sat+sun', [0, 6]], // AWS tag values cannot hold a comma
    ['fri-mon', [0, 1, 5, 6]], // a range may wrap the week
    ['MON,wed,Fri', [1, 3, 5]],
    ['daily', [0, 1, 2, 3, 4, 5, 6]],
    ['weekdays', [1, 2, 3, 4, 5]],
    ['mon,mon-tue', [1, 2]],
  ];
  for (const [text, expected] of days) {
    it(`reads days "${text}"`, () => assert.deepEqual(win(`${text} 01:00-02:00 UTC`).days, expected));
  }

  it('accepts 24:00 as an end and a zone alias, resolved to its canonical name', () => {
    assert.equal(win('daily 20:00-24:00 UTC').endMinute, 0);
    assert.equal(win('daily 20:00-23:00 Etc/UTC').timeZone.length > 0, true);
  });

  const malformed = [
    'mon-fri 22:00-04:00', // no zone
    'mon-fry 22:00-04:00 UTC',
    'mon 25:00-04:00 UTC',
    'mon 22:00-24:30 UTC',
    'mon 22:60-23:00 UTC',
    'mon 2200-0400 UTC',
    'mon 22:00-04:00 Mars/Olympus_Mons',
    'mon-tue-wed 22:00-04:00 UTC',
    '',
  ];
  for (const text of malformed) {
    it(`reports a problem for "${text}", never throws`, () => {
      const parsed = parseWindow(text);
      assert.ok('problem' in parsed && parsed.problem.length > 0);
    });
  }
});

describe('Maintenance window: open or closed', () => {
  // [window, now, expected]
  const table: [string, string, string, { open: true; closesAt: string } | { open: false; opensAt: string }][] = [
    ['weekday night, inside before midnight', 'mon-fri 22:00-04:00 Europe/Paris', '2025-01-15T21:30:00Z', { open: true, closesAt: '2025-01-16T03:00:00.000Z' }],
    ['weekday night, afternoon', 'mon-fri 22:00-04:00 Europe/Paris', '2025-01-15T12:00:00Z', { open: false, opensAt: '2025-01-15T21:00:00.000Z' }],
    ["Friday night's window runs into Saturday", 'mon-fri 22:00-04:00 Europe/Paris', '2025-01-18T01:00:00Z', { open: true, closesAt: '2025-01-18T03:00:00.000Z' }],
    ['Saturday daytime waits for Monday night', 'mon-fri 22:00-04:00 Europe/Paris', '2025-01-18T10:00:00Z', { open: false, opensAt: '2025-01-20T21:00:00.000Z' }],
    ['Monday 02:00 is closed: Sunday opens no window', 'mon-fri 22:00-04:00 Europe/Paris', '2025-01-20T01:00:00Z', { open: false, opensAt: '2025-01-20T21:00:00.000Z' }],
    ['closing instant is closed', 'mon-fri 22:00-04:00 Europe/Paris', '2025-01-16T03:00:00Z', { open: false, opensAt: '2025-01-16T21:00:00.000Z' }],
    ['opening instant is open', 'mon-fri 22:00-04:00 Europe/Paris', '2025-01-15T21:00:00Z', { open: true, closesAt: '2025-01-16T03:00:00.000Z' }],
    ['weekend, Friday night', 'sat,sun 00:00-23:59 UTC', '2025-01-17T23:59:30Z', { open: false, opensAt: '2025-01-18T00:00:00.000Z' }],
    ['weekend, Saturday noon', 'sat,sun 00:00-23:59 UTC', '2025-01-18T12:00:00Z', { open: true, closesAt: '2025-01-18T23:59:00.000Z' }],
    ['weekend, the last minute of Saturday', 'sat,sun 00:00-23:59 UTC', '2025-01-18T23:59:30Z', { open: false, opensAt: '2025-01-19T00:00:00.000Z' }],
    ['weekend, Sunday night waits a week', 'sat,sun 00:00-23:59 UTC', '2025-01-19T23:59:00Z', { open: false, opensAt: '2025-01-25T00:00:00.000Z' }],
    ['New York morning (UTC-5)', 'daily 09:00-17:00 America/New_York', '2025-01-15T13:00:00Z', { open: false, opensAt: '2025-01-15T14:00:00.000Z' }],
    ['Tokyo: UTC date differs from local date', 'daily 01:00-05:00 Asia/Tokyo', '2025-01-15T17:00:00Z', { open: true, closesAt: '2025-01-15T20:00:00.000Z' }],
    ['Kolkata (UTC+5:30): local Monday, UTC Sunday', 'mon 00:00-01:00 Asia/Kolkata', '2025-01-19T18:45:00Z', { open: true, closesAt: '2025-01-19T19:30:00.000Z' }],
    // Europe/Paris springs forward on 2025-03-30 at 02:00 CET → 03:00 CEST
    ['DST spring: a 01:00-05:00 window lasts three hours', 'daily 01:00-05:00 Europe/Paris', '2025-03-30T02:30:00Z', { open: true, closesAt: '2025-03-30T03:00:00.000Z' }],
    ['DST spring: before the window, CET', 'daily 01:00-05:00 Europe/Paris', '2025-03-29T23:30:00Z', { open: false, opensAt: '2025-03-30T00:00:00.000Z' }],
    ['DST spring: the next day opens in CEST', 'daily 01:00-05:00 Europe/Paris', '2025-03-30T12:00:00Z', { open: false, opensAt: '2025-03-30T23:00:00.000Z' }],
    ['DST spring: an opening in the gap moves later by the gap', 'sun 02:30-06:00 Europe/Paris', '2025-03-30T00:30:00Z', { open: false, opensAt: '2025-03-30T01:30:00.000Z' }],
    // ... and falls back on 2025-10-26 at 03:00 CEST → 02:00 CET
    ['DST autumn: a repeated wall time opens at its first occurrence', 'sun 02:30-04:00 Europe/Paris', '2025-10-26T00:00:00Z', { open: false, opensAt: '2025-10-26T00:30:00.000Z' }],
    ['DST autumn: closes at 04:00 CET', 'sun 02:30-04:00 Europe/Paris', '2025-10-26T01:30:00Z', { open: true, closesAt: '2025-10-26T03:00:00.000Z' }],
    // America/New_York springs forward on 2025-03-09 at 02:00 EST → 03:00 EDT
    ['DST spring in New York, across midnight', 'sat 22:00-04:00 America/New_York', '2025-03-09T07:30:00Z', { open: true, closesAt: '2025-03-09T08:00:00.000Z' }],
  ];
  for (const [name, text, now, expected] of table) {
    it(name, () => {
      const state = windowState(win(text), iso(now));
      assert.deepEqual(state.open ? { open: true, closesAt: state.closesAt.toISOString() } : { open: false, opensAt: state.opensAt.toISOString() }, expected);
    });
  }

  it('a full-day window every day is always open', () => {
    assert.equal(windowState(win('daily 00:00-24:00 UTC'), iso('2025-06-01T12:34:56Z')).open, true);
  });

  it('property: a closed window opens exactly at opensAt, and stays closed until then', () => {
    const zones = ['UTC', 'Europe/Paris', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/Santiago', 'Pacific/Auckland'];
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }),
        fc.integer({ min: 0, max: 1439 }),
        fc.integer({ min: 120, max: 1440 }),
        fc.constantFrom(...zones),
        fc.date({ min: iso('2020-01-01T00:00:00Z'), max: iso('2030-12-31T00:00:00Z'), noInvalidDate: true }),
        (days, start, duration, timeZone, now) => {
          const window: MaintenanceWindow = { days: [...days].sort(), startMinute: start, endMinute: (start + duration) % 1440, timeZone, text: 'generated' };
          const state = windowState(window, now);
          if (state.open) {
            assert.ok(state.closesAt > now);
            // a window that never closes (24 h every day) reports the end of the ten days looked at
            assert.ok(state.closesAt.getTime() - now.getTime() <= 10 * 86_400_000);
          } else {
            assert.ok(state.opensAt > now);
            assert.ok(state.opensAt.getTime() - now.getTime() <= 8 * 86_400_000);
            assert.equal(windowState(window, state.opensAt).open, true, 'open at opensAt');
            assert.equal(windowState(window, new Date(state.opensAt.getTime() - 1)).open, false, 'closed just before');
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('Maintenance window: may a rollout start?', () => {
  const window = win('mon-fri 22:00-04:00 Europe/Paris');
  const inside = iso('2025-01-15T21:30:00Z');
  const outside = iso('2025-01-15T12:00:00Z');

  it('starts at any time when the group has no window', () => {
    assert.deepEqual(decideStart({ now: outside, startedBy: 'detection' }), { decision: 'start' });
  });
  it('starts inside the window, whoever asks', () => {
    assert.deepEqual(decideStart({ window, now: inside, startedBy: 'detection' }), { decision: 'start' });
    assert.deepEqual(decideStart({ window, now: inside, startedBy: 'person' }), { decision: 'start' });
  });
  it('detection outside the window waits until it opens', () => {
    assert.deepEqual(decideStart({ window, now: outside, startedBy: 'detection' }), { decision: 'wait-until', at: iso('2025-01-15T21:00:00Z') });
  });
  it('detection waits even when --now is set: only a person may override', () => {
    assert.equal(decideStart({ window, now: outside, startedBy: 'detection', startNow: true }).decision, 'wait-until');
  });
  it('refuses a person outside the window, saying when it opens and how to override', () => {
    const d = decideStart({ window, now: outside, startedBy: 'person' });
    assert.equal(d.decision, 'refuse');
    assert.match((d as { reason: string }).reason, /2025-01-15T21:00:00\.000Z.*--now/);
  });
  it('starts for a person outside the window with --now', () => {
    assert.deepEqual(decideStart({ window, now: outside, startedBy: 'person', startNow: true }), { decision: 'start' });
  });
});
