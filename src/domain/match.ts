import type { MarketInput, OutcomeInput } from './odds.js';

/**
 * How a match runs, per sport: its periods of play and the breaks between
 * them, in minutes of the match clock. Every format ends within the board's
 * two hours, so an event is finished before it leaves the board.
 */
export interface Period {
  /** What the clock shows: `1H`, `HT`, `Q3`, `P2`, `S1`, `BREAK`. */
  name: string;
  minutes: number;
  play: boolean;
}

const play = (name: string, minutes: number): Period => ({ name, minutes, play: true });
const pause = (name: string, minutes: number): Period => ({ name, minutes, play: false });

export const matchFormats: Record<string, readonly Period[]> = {
  football: [play('1H', 45), pause('HT', 15), play('2H', 45)],
  'ice-hockey': [play('P1', 20), pause('BREAK', 18), play('P2', 20), pause('BREAK', 18), play('P3', 20)],
  basketball: [play('Q1', 12), pause('BREAK', 2), play('Q2', 12), pause('HT', 15), play('Q3', 12), pause('BREAK', 2), play('Q4', 12)],
  tennis: [play('S1', 35), pause('BREAK', 2), play('S2', 35), pause('BREAK', 2), play('S3', 35)],
};

export interface MatchClock {
  period: string;
  /** Minutes of play since kick-off (breaks do not count). */
  minute: number;
  /** Share of all playing time already played, 0 to 1. */
  played: number;
  /** The final whistle has gone. */
  over: boolean;
}

/** Minutes of play in a whole match, breaks left out. */
export function playingMinutes(format: readonly Period[]): number {
  return format.reduce((sum, p) => sum + (p.play ? p.minutes : 0), 0);
}

/** Where the match clock stands `elapsedMinutes` of real match time after kick-off. */
export function clockAt(format: readonly Period[], elapsedMinutes: number): MatchClock {
  const total = playingMinutes(format);
  let left = Math.max(0, elapsedMinutes);
  let playedMinutes = 0;
  for (const period of format) {
    if (left < period.minutes) {
      const inPeriod = period.play ? left : 0;
      const minute = playedMinutes + inPeriod;
      return { period: period.name, minute: Math.floor(minute), played: minute / total, over: false };
    }
    left -= period.minutes;
    if (period.play) playedMinutes += period.minutes;
  }
  return { period: format[format.length - 1]!.name, minute: total, played: 1, over: true };
}

export type Score = { home: number; away: number };

/**
 * Each outcome's result by the final score. A half line never pushes; a
 * tie in a market without a draw is void.
 */
export function settleMarkets(markets: readonly MarketInput[], score: Score): MarketInput[] {
  return markets.map((market) => ({ ...market, status: 'SETTLED', outcomes: settled(market, score, true) }));
}

/**
 * A market the score has already decided before the end: an over/under whose
 * line is passed, both teams to score once both have. Null if still open.
 */
export function decidedEarly(market: MarketInput, score: Score): MarketInput | null {
  const decided =
    (market.key === 'over_under' && market.line !== null && score.home + score.away > market.line) ||
    (market.key === 'btts' && score.home > 0 && score.away > 0);
  return decided ? { ...market, status: 'SETTLED', outcomes: settled(market, score, false) } : null;
}

function settled(market: MarketInput, score: Score, final: boolean): OutcomeInput[] {
  const winners = winningOutcomes(market, score, final);
  return market.outcomes.map((outcome) => ({
    ...outcome,
    result: winners === 'void' ? 'VOID' : winners.includes(outcome.key) ? 'WON' : 'LOST',
  }));
}

function winningOutcomes(market: MarketInput, { home, away }: Score, final: boolean): string[] | 'void' {
  const line = market.line ?? 0;
  switch (market.key) {
    case '1x2':
      return [home > away ? 'home' : home < away ? 'away' : 'draw'];
    case 'moneyline':
      return home === away ? 'void' : [home > away ? 'home' : 'away'];
    case 'over_under':
      return home + away > line ? ['over'] : home + away < line ? ['under'] : 'void';
    case 'handicap':
      return home + line > away ? ['home'] : home + line < away ? ['away'] : 'void';
    case 'btts':
      return [home > 0 && away > 0 ? 'yes' : final ? 'no' : 'yes'];
    default:
      return 'void';
  }
}

/** Every outcome void: the event was cancelled. */
export function voidMarkets(markets: readonly MarketInput[]): MarketInput[] {
  return markets.map((market) => ({
    ...market,
    status: 'SETTLED',
    outcomes: market.outcomes.map((outcome) => ({ ...outcome, result: 'VOID' })),
  }));
}
