// The GraphiQL page the gateway serves at /graphiql, bundled by src/api/graphiql/build.ts.
import './workers.js';
import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL, HISTORY_PLUGIN } from 'graphiql';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { exampleTabs } from './examples.js';

// Same origin: queries over HTTP, subscriptions over graphql-ws on the same path.
const fetcher = createGraphiQLFetcher({
  url: '/graphql',
  subscriptionUrl: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
});
// GraphiQL's own History panel is its default plugin list: naming plugins replaces it unless it is named too.
const plugins = [HISTORY_PLUGIN, explorerPlugin()];

/** An event on the board that has odds (and so history), for the examples' variables; undefined if none or unreachable. */
async function exampleEventId(): Promise<string | undefined> {
  try {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ events(first: 1, filter: { hasOdds: true }) { nodes { id } } }' }),
    });
    const body = (await response.json()) as { data?: { events: { nodes: Array<{ id: string }> } } };
    return body.data?.events.nodes[0]?.id;
  } catch {
    return undefined;
  }
}

const root = document.getElementById('graphiql');
if (!root) throw new Error('GraphiQL: the page has no #graphiql element');
const tabs = exampleTabs(await exampleEventId());
createRoot(root).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} plugins={plugins} defaultTabs={tabs} defaultEditorToolsVisibility />
  </StrictMode>,
);
