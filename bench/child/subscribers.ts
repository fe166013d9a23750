// Opens many graphql-ws subscribers in one process (so the load generator
// does not share the benchmark harness's event loop), records when each
// update arrives, and reports latency and loss for a window the harness names.
// Protocol (IPC): "open" (URL, each subscriber's event ids) -> "opened";
// "report" (the window) -> "report"; then SIGTERM.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { traderOddsSubscription } from '../queries.js';
import { summariseDeliveries, type Delivery } from '../lib/deliveries.js';

interface OpenMessage {
  type: 'open';
  url: string;
  /** Each subscriber's event ids; an extra observer subscribes to everything. */
  filters: string[][];
}

interface OddsPayload {
  data?: { oddsUpdated: { publishedAt: string; event: { id: string }; snapshot: { bookmaker: { key: string }; capturedAt: string } } };
  errors?: unknown[];
}

const clients: Client[] = [];
const deliveries: Delivery[] = [];
let errors = 0;
let failedConnections = 0;
const connected = new WeakSet<Client>();
let filters: string[][] = [];

async function open({ url, filters: wanted }: OpenMessage): Promise<void> {
  filters = wanted;
  const wsUrl = url.replace(/^http/, 'ws') + '/graphql';
  // Subscriber -1 is the observer: no filter, so it sees every published update.
  const all: Array<string[] | null> = [null, ...wanted];
  const batch = 100;
  for (let first = 0; first < all.length; first += batch) {
    await Promise.all(
      all.slice(first, first + batch).map(
        (eventIds, offset) =>
          new Promise<void>((resolve) => {
            const subscriber = first + offset - 1;
            const client = createClient({
              url: wsUrl,
              webSocketImpl: WebSocket,
              lazy: false,
              retryAttempts: 0,
              // A socket the gateway closes before acknowledging (e.g. its init timeout under load) is counted, not awaited forever.
              on: {
                connected: () => resolve(),
                closed: () => {
                  if (!connected.has(client)) failedConnections++;
                  resolve();
                },
                error: () => undefined,
              },
            });
            clients.push(client);
            client.on('connected', () => connected.add(client));
            client.subscribe<OddsPayload['data']>(
              { query: traderOddsSubscription, variables: { eventIds } },
              {
                next: (payload) => {
                  const receivedAt = Date.now();
                  const update = payload.data?.oddsUpdated;
                  if (!update || payload.errors) {
                    errors++;
                    return;
                  }
                  deliveries.push({
                    subscriber,
                    key: `${update.event.id}|${update.snapshot.bookmaker.key}|${update.snapshot.capturedAt}`,
                    eventId: update.event.id,
                    capturedAtMs: Date.parse(update.snapshot.capturedAt),
                    publishedAtMs: Date.parse(update.publishedAt),
                    receivedAtMs: receivedAt,
                  });
                },
                error: () => errors++,
                complete: () => {},
              },
            );
          }),
      ),
    );
  }
}

process.on('message', (message: OpenMessage | { type: 'report'; fromMs: number; toMs: number }) => {
  const reply = (value: object) => process.send!(value);
  if (message.type === 'open') {
    open(message).then(
      () => reply({ type: 'opened', clients: clients.length, failedConnections }),
      (error: unknown) => reply({ type: 'error', error: String(error) }),
    );
  } else if (message.type === 'report') {
    reply({ type: 'report', summary: summariseDeliveries(deliveries, filters, message.fromMs, message.toMs), errors: errors + failedConnections });
  }
});

process.once('SIGTERM', () => {
  void Promise.all(clients.map((client) => client.dispose())).finally(() => process.exit(0));
});
