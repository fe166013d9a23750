/** What `/v4/sports/{sport}/odds` answers (with `oddsFormat=decimal&dateFormat=iso`), the parts this adapter reads. */
export interface OddsApiEvent {
  id: string;
  sport_key: string;
  commence_time: string;
  home_team: string;
  away_team: string;
  bookmakers: Array<{
    key: string;
    title: string;
    last_update: string;
    markets: Array<{ key: string; last_update?: string; outcomes: Array<{ name: string; price: number; point?: number }> }>;
  }>;
}

/** One feed record per bookmaker of `event`. Shapes the API does not promise are passed on for the worker's check to reject with a reason. */
export function toFeedRecords(event: OddsApiEvent, competition: string): unknown[] {
  const fixture = { competition, home: event.home_team, away: event.away_team, kickoffAt: event.commence_time };
  return (Array.isArray(event.bookmakers) ? event.bookmakers : []).map((bookmaker) => ({
    event: `oddsapi:${event.id}`,
    fixture,
    bookmaker: bookmaker.key,
    bookmakerName: bookmaker.title,
    capturedAt: bookmaker.last_update,
    markets: (Array.isArray(bookmaker.markets) ? bookmaker.markets : []).flatMap((market) => toMarkets(market, event)),
  }));
}

type ApiMarket = OddsApiEvent['bookmakers'][number]['markets'][number];

function toMarkets(market: ApiMarket, event: OddsApiEvent): unknown[] {
  const outcomes = Array.isArray(market.outcomes) ? market.outcomes : [];
  const side = (name: string) => (name === event.home_team ? 'home' : name === event.away_team ? 'away' : undefined);
  const outcome = (key: string | undefined, o: ApiMarket['outcomes'][number]) => ({ key, name: o.name, price: o.price });
  switch (market.key) {
    case 'h2h': {
      const threeWay = outcomes.some((o) => o.name === 'Draw');
      const keyOf = (o: ApiMarket['outcomes'][number]) => (o.name === 'Draw' ? 'draw' : side(o.name));
      return [{ key: threeWay ? '1x2' : 'moneyline', name: threeWay ? 'Match result' : 'Winner', line: null, outcomes: outcomes.map((o) => outcome(keyOf(o), o)) }];
    }
    case 'totals': {
      // One market per line, should a bookmaker offer several.
      const lines = [...new Set(outcomes.map((o) => o.point))];
      return lines.map((line) => ({
        key: 'over_under',
        name: `Total over/under ${line}`,
        line: line ?? null,
        outcomes: outcomes.filter((o) => o.point === line).map((o) => outcome(o.name.toLowerCase(), o)),
      }));
    }
    case 'spreads': {
      const line = outcomes.find((o) => o.name === event.home_team)?.point;
      const ordered = [...outcomes].sort((a, b) => (side(a.name) === 'home' ? -1 : side(b.name) === 'home' ? 1 : 0));
      return [{ key: 'handicap', name: `Handicap ${line}`, line: line ?? null, outcomes: ordered.map((o) => outcome(side(o.name), o)) }];
    }
    default:
      return [];
  }
}
