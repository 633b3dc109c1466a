import type { RawFinding } from './model.js';

/** open-interview operations: work-queue claims that outlived their lease, and bots acting out of their habit. */

export interface ProcessingItem {
  id: string;
  itemId: string;
  claimedAt: string | null;
  assignedTo: string | null;
}

export function staleClaims(items: ProcessingItem[], now: Date, leaseMinutes: number): RawFinding[] {
  const found: RawFinding[] = [];
  for (const item of items) {
    const claimed = item.claimedAt ? Date.parse(item.claimedAt) : Number.NaN;
    const minutes = (now.getTime() - claimed) / 60_000;
    if (!Number.isNaN(claimed) && minutes <= leaseMinutes) continue;
    const since = Number.isNaN(claimed) ? 'with no time of claim' : `for ${Math.floor(minutes)} minutes (lease ${leaseMinutes})`;
    found.push({ rule: 'stale-claim', table: 'work_queue', id: item.id, group: null, message: `processing${item.assignedTo ? ` by ${item.assignedTo}` : ''} ${since}`, related: [item.itemId] });
  }
  return found;
}

/** Actions of one bot in one 24-hour window: `daysAgo` 0 is the last 24 hours, 1 the 24 before, … */
export interface BotDay {
  bot: string;
  daysAgo: number;
  actions: number;
  deletes: number;
}

export function botAnomalies(days: BotDay[], thresholds: { botActionsFactor: number; botDeletesPerDay: number }): RawFinding[] {
  const found: RawFinding[] = [];
  const byBot = new Map<string, BotDay[]>();
  for (const day of days) byBot.set(day.bot, [...(byBot.get(day.bot) ?? []), day]);
  const anomaly = (bot: string, message: string): RawFinding => ({ rule: 'bot-anomaly', table: 'bot_ledger', id: bot, group: null, message, related: [] });
  for (const [bot, botDays] of byBot) {
    for (const day of botDays) {
      if (day.deletes > thresholds.botDeletesPerDay) {
        const when = day.daysAgo === 0 ? 'in the last 24 hours' : `in the 24 hours ending ${day.daysAgo} days ago`;
        found.push(anomaly(bot, `${bot} deleted ${day.deletes} items ${when} (more than ${thresholds.botDeletesPerDay})`));
      }
    }
    const recent = botDays.find((day) => day.daysAgo === 0)?.actions ?? 0;
    const history = Array.from({ length: 14 }, (_, back) => botDays.find((day) => day.daysAgo === back + 1)?.actions ?? 0);
    const median = medianOf(history);
    if (median > 0 && recent > thresholds.botActionsFactor * median) {
      found.push(anomaly(bot, `${bot} made ${recent} actions in the last 24 hours, more than ${thresholds.botActionsFactor}× its daily median of ${median} over the 14 days before`));
    }
  }
  return found;
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
