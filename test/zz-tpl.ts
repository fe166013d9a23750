import { buildTemplates } from './support/templates.js';
const cpu = () => { const u = process.cpuUsage(); return ((u.user + u.system) / 1e6).toFixed(2); };
const t0 = performance.now();
console.log('start', cpu());
const both = process.argv[2] === 'both';
const { remove } = await buildTemplates(both ? 'postgres://postgres@127.0.0.1:5432/postgres' : undefined);
console.log('built', cpu(), ((performance.now() - t0) / 1000).toFixed(1));
await remove();
