/** Reads a V8 `.cpuprofile` (what `node --cpu-prof` writes) and ranks functions by self time. */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  /** `function (file:line)`, with the file relative to node_modules or the project where possible. */
  name: string;
  selfMs: number;
  /** Share of all sampled time, idle included. */
  share: number;
}

export function topSelfTimes(profile: CpuProfile, limit = 15): SelfTime[] {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((nodeId, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    totalUs += delta;
    const frame = byNode.get(nodeId)?.callFrame;
    if (!frame) return;
    const name = `${frame.functionName || '(anonymous)'}${frame.url ? ` (${shortUrl(frame.url)}:${frame.lineNumber + 1})` : ''}`;
    totals.set(name, (totals.get(name) ?? 0) + delta);
  });
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, us]) => ({ name, selfMs: us / 1000, share: totalUs > 0 ? us / totalUs : 0 }));
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  // src/ through tsx, dist/ for the built gateway.
  const own = Math.max(url.lastIndexOf('/src/'), url.lastIndexOf('/dist/'));
  return own >= 0 ? url.slice(own + 1) : url.replace(/^file:\/\//, '');
}
