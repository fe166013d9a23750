// The GraphiQL page the gateway serves at /graphiql, bundled by src/api/graphiql/build.ts.
import './workers.js';
import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { exampleTabs } from './examples.js';

// Same origin: queries over HTTP, subscriptions over graphql-ws on the same path.
const fetcher = createGraphiQLFetcher({
  url: '/graphql',
  subscriptionUrl: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
});
const plugins = [explorerPlugin()];

const root = document.getElementById('graphiql');
if (!root) throw new Error('GraphiQL: the page has no #graphiql element');
createRoot(root).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} plugins={plugins} defaultTabs={exampleTabs} defaultEditorToolsVisibility />
  </StrictMode>,
);
