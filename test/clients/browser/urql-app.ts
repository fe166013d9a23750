// A browser app's use of urql, bundled by test/clients/urql-browser.test.ts and run in Chromium on another origin.
import { Client, fetchExchange } from '@urql/core';

export type UrqlSetting = 'default' | 'preflight-header' | 'post';

const settings: Record<UrqlSetting, Partial<ConstructorParameters<typeof Client>[0]>> = {
  default: {},
  // The README's recipe: keep urql's GET, add the header that makes the browser preflight it.
  'preflight-header': { fetchOptions: { headers: { 'apollo-require-preflight': 'true' } } },
  post: { preferGetMethod: false },
};

async function runUrql(url: string, setting: UrqlSetting): Promise<{ data?: unknown; error?: string }> {
  const client = new Client({ url, exchanges: [fetchExchange], requestPolicy: 'network-only', ...settings[setting] });
  const result = await client.query('{ sports { key name } }', {}).toPromise();
  return { data: result.data, error: result.error?.message };
}

(globalThis as unknown as { runUrql: typeof runUrql }).runUrql = runUrql;
