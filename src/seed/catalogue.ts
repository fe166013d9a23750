/** Reference data for the seed and the simulated feed. Fictional bookmakers; real-sounding leagues. */

export interface CompetitionSeed {
  key: string;
  name: string;
  country: string | null;
  teams: string[];
}

export interface SportSeed {
  key: string;
  name: string;
  /** Share of generated events in this sport. */
  weight: number;
  competitions: CompetitionSeed[];
}

const cities = [
  'Northport', 'Eastvale', 'Westbrook', 'Southam', 'Redhill', 'Kingsford', 'Ashby', 'Lakeside', 'Rivermouth',
  'Stonebridge', 'Highgate', 'Fairfield', 'Oakham', 'Millbrook', 'Thornton', 'Bramley', 'Coldwater', 'Elmstead',
  'Granton', 'Harwick',
];
const teams = (suffix: string, offset: number) =>
  Array.from({ length: 16 }, (_, i) => `${cities[(i + offset) % cities.length]} ${suffix}`);

export const sports: SportSeed[] = [
  {
    key: 'football',
    name: 'Football',
    weight: 0.6,
    competitions: [
      { key: 'eng-premier', name: 'Premier Division', country: 'England', teams: teams('United', 0) },
      { key: 'esp-primera', name: 'Primera Liga', country: 'Spain', teams: teams('CF', 3) },
      { key: 'ger-erste', name: 'Erste Liga', country: 'Germany', teams: teams('SV', 6) },
      { key: 'ita-serie', name: 'Serie Prima', country: 'Italy', teams: teams('Calcio', 9) },
      { key: 'eur-champions', name: 'Champions Cup', country: null, teams: teams('Athletic', 12) },
    ],
  },
  {
    key: 'basketball',
    name: 'Basketball',
    weight: 0.15,
    competitions: [
      { key: 'usa-pro-basketball', name: 'Pro Basketball League', country: 'USA', teams: teams('Hawks', 2) },
      { key: 'eur-basket', name: 'Euro Basket League', country: null, teams: teams('BC', 7) },
    ],
  },
  {
    key: 'ice-hockey',
    name: 'Ice Hockey',
    weight: 0.15,
    competitions: [{ key: 'nam-hockey', name: 'North American Hockey', country: 'USA', teams: teams('Blades', 4) }],
  },
  {
    key: 'tennis',
    name: 'Tennis',
    weight: 0.1,
    competitions: [
      {
        key: 'world-tour',
        name: 'World Tour',
        country: null,
        teams: ['A. Novak', 'R. Alvarez', 'J. Sinclair', 'D. Medina', 'C. Ruud', 'T. Fritsch', 'H. Rune', 'S. Tsitsi'],
      },
    ],
  },
];

export interface BookmakerSeed {
  key: string;
  name: string;
  /** Typical overround this bookmaker works to. */
  margin: number;
}

export const bookmakers: BookmakerSeed[] = [
  { key: 'sharpline', name: 'Sharpline', margin: 0.033 },
  { key: 'northbet', name: 'Northbet', margin: 0.05 },
  { key: 'betharbor', name: 'Bet Harbor', margin: 0.06 },
  { key: 'oddsworth', name: 'Oddsworth', margin: 0.045 },
  { key: 'kingsbet', name: 'Kingsbet', margin: 0.07 },
  { key: 'luckystar', name: 'Lucky Star', margin: 0.08 },
  { key: 'fairplay', name: 'Fairplay', margin: 0.036 },
  { key: 'bluechip', name: 'Bluechip Bets', margin: 0.055 },
  { key: 'topodds', name: 'Top Odds', margin: 0.065 },
  { key: 'evensbet', name: 'Evens', margin: 0.04 },
  { key: 'grandstand', name: 'Grandstand', margin: 0.075 },
  { key: 'pitchside', name: 'Pitchside', margin: 0.05 },
];
