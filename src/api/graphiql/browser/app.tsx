// The GraphiQL page the gateway serves at /graphiql, bundled by src/api/graphiql/build.ts.
import './workers.js';
import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL, HISTORY_PLUGIN } from 'graphiql';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { exampleEventId, exampleTabs } from './examples.js';

// Same origin: queries over HTTP, subscriptions over graphql-ws on the same path.
const fetcher = createGraphiQLFetcher({
  url: '/graphql',
  subscriptionUrl: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
});

/**
 * The gateway's refusal when introspection is off (INTROSPECTION=off, the
 * default in production), or undefined when it answers. Asked before GraphiQL
 * starts, so a closed gateway gets a page that says so instead of an empty
 * explorer and an error in the response pane. The message starts as
 * src/api/limits.ts writes it.
 */
async function introspectionRefusal(): Promise<string | undefined> {
  try {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query IntrospectionProbe { __schema { queryType { name } } }' }),
    });
    const body = (await response.json()) as { errors?: Array<{ message?: string }> };
    return body.errors?.find((error) => error.message?.startsWith('Introspection is off'))?.message;
  } catch {
    // Gateway unreachable: GraphiQL starts as usual and shows its own errors.
    return undefined;
  }
}

function IntrospectionOffNotice({ refusal }: { refusal: string }) {
  return (
    <div role="status" className="oddsgate-introspection-off" style={{ padding: '10px 16px', background: '#fff4e5', color: '#5f3b00', borderBottom: '1px solid #f0c36d', font: '14px/1.4 system-ui, sans-serif' }}>
      <strong>Introspection is off on this gateway</strong>, so GraphiQL has no schema: no documentation, no explorer, no
      autocompletion. Queries and subscriptions still run. An operator turns it on with <code>INTROSPECTION=on</code>.
      <div style={{ opacity: 0.75, marginTop: 4 }}>The gateway answered: {refusal}</div>
    </div>
  );
}

const root = document.getElementById('graphiql');
if (!root) throw new Error('GraphiQL: the page has no #graphiql element');
const [refusal, eventId] = await Promise.all([introspectionRefusal(), exampleEventId()]);
const tabs = exampleTabs(eventId);
// GraphiQL's own History panel is its default plugin list: naming plugins replaces it unless it is named too.
const plugins = [HISTORY_PLUGIN, explorerPlugin()];
createRoot(root).render(
  <StrictMode>
    {refusal === undefined ? (
      <GraphiQL fetcher={fetcher} plugins={plugins} defaultTabs={tabs} defaultEditorToolsVisibility />
    ) : (
      <div style={{ display: 'flex', flexDirection: 'column', height: '100%' }}>
        <IntrospectionOffNotice refusal={refusal} />
        <div style={{ flex: 1, minHeight: 0 }}>
          {/* schema={null}: GraphiQL runs without one and sends no introspection of its own. */}
          <GraphiQL fetcher={fetcher} schema={null} plugins={[HISTORY_PLUGIN]} defaultTabs={tabs} defaultEditorToolsVisibility />
        </div>
      </div>
    )}
  </StrictMode>,
);
