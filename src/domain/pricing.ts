import type { MarketInput } from './odds.js';

/**
 * A small, believable price model, shared by the seed and the simulated feed:
 * an event's true outcome probabilities come from a scoring model, a
 * bookmaker shades them by its own opinion and adds its margin.
 */

/** Deterministic PRNG (mulberry32): the same seed gives the same data set. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Low-scoring sports: goals per side are Poisson. */
export interface GoalsModel {
  kind: 'goals';
  homeRate: number;
  awayRate: number;
}

/** High-scoring sports: the margin and the total are normal. */
export interface PointsModel {
  kind: 'points';
  homeMargin: number;
  marginSd: number;
  total: number;
  totalSd: number;
  /** Tennis and basketball have no draw. */
}

export type ScoringModel = GoalsModel | PointsModel;

export interface MarketTemplate {
  /** Which market kinds this sport offers, and at which lines. */
  threeWay: boolean;
  totals: number[];
  handicaps: number[];
  bothToScore: boolean;
}

type Range = readonly [min: number, max: number];

/** How far a sport's model may ever wander: the lines and scoring rates a real bookmaker would post. */
export type ModelBounds = { kind: 'goals'; rate: Range } | { kind: 'points'; homeMargin: Range; total: Range };

/** What makes one sport's markets and scores look like that sport. */
export interface SportProfile {
  markets: MarketTemplate;
  bounds: ModelBounds;
  randomModel(random: () => number): ScoringModel;
}

export const sportProfiles: Record<string, SportProfile> = {
  football: {
    markets: { threeWay: true, totals: [1.5, 2.5, 3.5], handicaps: [-1.5, -0.5, 0.5], bothToScore: true },
    bounds: { kind: 'goals', rate: [0.3, 3.5] },
    randomModel: (random) => ({ kind: 'goals', homeRate: 0.9 + random() * 1.3, awayRate: 0.6 + random() * 1.2 }),
  },
  'ice-hockey': {
    markets: { threeWay: true, totals: [4.5, 5.5, 6.5], handicaps: [-1.5, 1.5], bothToScore: true },
    bounds: { kind: 'goals', rate: [1.2, 5] },
    randomModel: (random) => ({ kind: 'goals', homeRate: 2.4 + random() * 1.2, awayRate: 2.1 + random() * 1.2 }),
  },
  basketball: {
    markets: { threeWay: false, totals: [215.5, 222.5, 229.5], handicaps: [-5.5, -2.5, 2.5], bothToScore: false },
    bounds: { kind: 'points', homeMargin: [-25, 25], total: [180, 260] },
    randomModel: (random) => ({
      kind: 'points',
      homeMargin: (random() - 0.4) * 16,
      marginSd: 12,
      total: 212 + random() * 20,
      totalSd: 18,
    }),
  },
  tennis: {
    markets: { threeWay: false, totals: [21.5, 22.5, 23.5], handicaps: [-3.5, 3.5], bothToScore: false },
    bounds: { kind: 'points', homeMargin: [-12, 12], total: [16, 32] },
    randomModel: (random) => ({
      kind: 'points',
      homeMargin: (random() - 0.5) * 10,
      marginSd: 5,
      total: 20 + random() * 5,
      totalSd: 4,
    }),
  },
};

/** Each change pulls a model this share of the way back toward where it opened. */
const reversion = 0.02;

/**
 * Moves a model a little, as news and money move a market between snapshots.
 * The walk is mean-reverting toward the event's `opening` model and clamped
 * to the sport's `bounds`: a plain random walk (the first version) drifts
 * without limit, and after a few minutes at the simulated feed's rate a
 * basketball total reached 78,211 and its prices overflowed the store.
 * With `size` 0.04 a parameter settles within about 12 % of its opening value.
 */
export function driftModel(
  model: ScoringModel,
  opening: ScoringModel,
  bounds: ModelBounds,
  random: () => number,
  size = 0.04,
): ScoringModel {
  const noise = () => (random() - 0.5) * 2 * size;
  // Rates and totals move by a factor (log space), the margin by points.
  const scaled = (value: number, anchor: number, [min, max]: Range) =>
    clamp(Math.exp(Math.log(value) + noise() - reversion * Math.log(value / anchor)), min, max);
  if (model.kind === 'goals' && opening.kind === 'goals' && bounds.kind === 'goals') {
    return {
      ...model,
      homeRate: scaled(model.homeRate, opening.homeRate, bounds.rate),
      awayRate: scaled(model.awayRate, opening.awayRate, bounds.rate),
    };
  }
  if (model.kind === 'points' && opening.kind === 'points' && bounds.kind === 'points') {
    const [min, max] = bounds.homeMargin;
    const margin = model.homeMargin + noise() * model.marginSd - reversion * (model.homeMargin - opening.homeMargin);
    return { ...model, homeMargin: clamp(margin, min, max), total: scaled(model.total, opening.total, bounds.total) };
  }
  throw new Error(`driftModel: model, opening and bounds must be of one kind, got ${model.kind}, ${opening.kind}, ${bounds.kind}`);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Bookmakers cap long shots: no price above this, however unlikely the outcome. */
export const maxPrice = 1001;

/** A match in play: the score so far and the share of playing time still to come (0 to 1). */
export interface InPlay {
  score: { home: number; away: number };
  remaining: number;
}

/**
 * One bookmaker's prices: true probabilities, shaded by the bookmaker's
 * opinion (`random`), divided by `1 + margin`, rounded to two decimals.
 * In play, the probabilities are of the final score: the score so far plus
 * what the model expects in the time that remains.
 */
export function priceMarkets(
  opening: ScoringModel,
  template: MarketTemplate,
  margin: number,
  random: () => number,
  inPlay: InPlay = { score: { home: 0, away: 0 }, remaining: 1 },
): MarketInput[] {
  const model = remainderOf(opening, inPlay.remaining);
  const { home: scoredHome, away: scoredAway } = inPlay.score;
  const lead = scoredHome - scoredAway;
  // One market: each outcome's true probability, shaded by this bookmaker's
  // opinion, renormalised, divided by 1 + margin, rounded to two decimals.
  const market = (key: string, name: string, line: number | null, outcomes: Array<[string, string, number]>): MarketInput => {
    // A probability of 0 (an outcome already lost) prices at the cap, not at infinity.
    const shaded = outcomes.map(([, , p]) => Math.max(p, 1e-9) * (1 + (random() - 0.5) * 0.06));
    const total = shaded.reduce((a, b) => a + b, 0);
    return {
      key,
      name,
      line,
      outcomes: outcomes.map(([outcomeKey, outcomeName], i) => ({
        key: outcomeKey,
        name: outcomeName,
        price: clamp(Math.round((100 * total) / (shaded[i]! * (1 + margin))) / 100, 1.01, maxPrice),
      })),
    };
  };
  const win = winProbabilities(model, lead);
  const noDraw = win.home + win.away;
  const markets: MarketInput[] = [
    template.threeWay
      ? market('1x2', 'Match result', null, [
          ['home', 'Home', win.home],
          ['draw', 'Draw', win.draw],
          ['away', 'Away', win.away],
        ])
      : market('moneyline', 'Winner', null, [
          ['home', 'Home', win.home / noDraw],
          ['away', 'Away', win.away / noDraw],
        ]),
  ];
  for (const line of template.totals) {
    const over = overProbability(model, line - scoredHome - scoredAway);
    markets.push(market('over_under', `Total over/under ${line}`, line, [['over', 'Over', over], ['under', 'Under', 1 - over]]));
  }
  for (const line of template.handicaps) {
    const covered = winProbabilities(model, line + lead).home;
    const name = `Handicap ${line > 0 ? '+' : ''}${line}`;
    markets.push(market('handicap', name, line, [['home', 'Home', covered], ['away', 'Away', 1 - covered]]));
  }
  if (template.bothToScore && model.kind === 'goals') {
    const homeScores = scoredHome > 0 ? 1 : 1 - Math.exp(-model.homeRate);
    const awayScores = scoredAway > 0 ? 1 : 1 - Math.exp(-model.awayRate);
    const both = homeScores * awayScores;
    markets.push(market('btts', 'Both teams to score', null, [['yes', 'Yes', both], ['no', 'No', 1 - both]]));
  }
  return markets;
}

/** What the model expects of the share `remaining` of the match still to play. */
function remainderOf(model: ScoringModel, remaining: number): ScoringModel {
  if (remaining >= 1) return model;
  const share = Math.max(remaining, 1e-6);
  return model.kind === 'goals'
    ? { ...model, homeRate: model.homeRate * share, awayRate: model.awayRate * share }
    : {
        ...model,
        homeMargin: model.homeMargin * share,
        marginSd: model.marginSd * Math.sqrt(share),
        total: model.total * share,
        totalSd: model.totalSd * Math.sqrt(share),
      };
}

/** P(home wins), P(draw), P(away wins) after giving home `handicap` (half-lines never draw). */
function winProbabilities(model: ScoringModel, handicap: number): { home: number; draw: number; away: number } {
  if (model.kind === 'points') {
    const home = normalCdf((model.homeMargin + handicap) / model.marginSd);
    return { home, draw: 0, away: 1 - home };
  }
  const homeGoals = poissonPmf(model.homeRate);
  const awayGoals = poissonPmf(model.awayRate);
  let home = 0;
  let draw = 0;
  for (let h = 0; h <= maxGoals; h++) {
    for (let a = 0; a <= maxGoals; a++) {
      const p = homeGoals[h]! * awayGoals[a]!;
      const margin = h + handicap - a;
      if (margin > 0) home += p;
      else if (margin === 0) draw += p;
    }
  }
  const total = sum(homeGoals) * sum(awayGoals);
  return { home: home / total, draw: draw / total, away: 1 - (home + draw) / total };
}

function overProbability(model: ScoringModel, line: number): number {
  if (model.kind === 'points') return 1 - normalCdf((line - model.total) / model.totalSd);
  const goals = poissonPmf(model.homeRate + model.awayRate);
  let under = 0;
  for (let k = 0; k < line && k <= maxGoals; k++) under += goals[k]!;
  return 1 - under;
}

const maxGoals = 15;

/** P(k goals) for k = 0..maxGoals, each from the one before: the pricing's innermost loop. */
function poissonPmf(rate: number): Float64Array {
  const pmf = new Float64Array(maxGoals + 1);
  let p = Math.exp(-rate);
  pmf[0] = p;
  for (let k = 1; k <= maxGoals; k++) pmf[k] = p *= rate / k;
  return pmf;
}

function sum(values: Float64Array): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26, error < 1.5e-7). */
function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
