import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { httpRequest } from './http.js';

export const projectRoot = path.resolve(import.meta.dirname, '../..');

/** A Node.js child process running an entry point (TypeScript through tsx unless `tsx: false`), with an IPC channel. */
export interface NodeProcess {
  child: ChildProcess;
  /** The last lines it printed (stdout and stderr), for failure messages. */
  output(): string;
  /** Resolves with the first printed line that matches, rejects if the process exits first. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends one IPC message and resolves with the first reply whose `type` matches. */
  request<T>(message: { type: string; [field: string]: unknown }, replyType: string, timeoutMs?: number): Promise<T>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** `nice`: the process's niceness (through nice(1), so every thread of it has it), for load generators that must yield the cores. */
export function startNodeProcess(
  entry: string,
  { env = {}, nodeArgs = [], nice, tsx = true }: { env?: Record<string, string>; nodeArgs?: string[]; nice?: number; tsx?: boolean } = {},
): NodeProcess {
  const command = [process.execPath, ...(tsx ? ['--import', 'tsx'] : []), ...nodeArgs, entry];
  if (nice) command.unshift('nice', '-n', String(nice));
  const child = spawn(command[0]!, command.slice(1), {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const lines: string[] = [];
  const lineListeners = new Set<(line: string) => void>();
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      lines.push(line);
      if (lines.length > 200) lines.shift();
      for (const listener of lineListeners) listener(line);
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const output = () => lines.join('\n');
  const name = path.basename(entry);

  return {
    child,
    output,
    waitForLine(pattern, timeoutMs = 180_000) {
      return new Promise((resolve, reject) => {
        const done = () => {
          lineListeners.delete(listener);
          clearTimeout(timer);
        };
        const listener = (line: string) => {
          const match = pattern.exec(line);
          if (match) {
            done();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name} printed no line matching ${pattern} within ${timeoutMs} ms:\n${output()}`));
        }, timeoutMs);
        lineListeners.add(listener);
        void exited.then(() => {
          done();
          reject(new Error(`${name} exited (code ${child.exitCode}) before printing ${pattern}:\n${output()}`));
        });
      });
    },
    request<T>(message: { type: string }, replyType: string, timeoutMs = 600_000) {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.off('message', onMessage);
          reject(new Error(`${name} sent no "${replyType}" within ${timeoutMs} ms`));
        }, timeoutMs);
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`${name} exited before replying "${replyType}":\n${output()}`));
        });
        const onMessage = (reply: { type?: string; error?: string }) => {
          if (reply.type !== replyType && reply.type !== 'error') return;
          child.off('message', onMessage);
          clearTimeout(timer);
          if (reply.type === 'error') reject(new Error(`${name}: ${reply.error}`));
          else resolve(reply as T);
        };
        child.on('message', onMessage);
        child.send(message);
      });
    },
    async stop(graceMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A gateway (src/main.ts) in its own process on a free loopback port, ready once it has printed its URL. */
export interface GatewayProcess extends NodeProcess {
  url: string;
  health(): Promise<GatewayHealth>;
  /** Heap and resident bytes after two full garbage collections, once the resident set has settled (bench/child/probe.mjs). */
  memory(): Promise<NodeJS.MemoryUsage>;
  /** Runs `work` under V8's CPU profiler and writes the profile to `file`. */
  profile<T>(file: string, work: () => Promise<T>): Promise<T>;
}

/** The parts of the gateway's `/health` (src/read/read-health.ts, src/live/live-side.ts) the harness reads. */
export interface GatewayHealth {
  cache: { entries: number; bytes: number };
  board: { events: number } | null;
  subscriptions: { subscribers: number; dropped: number; conflated: number; delivered: number };
  /** The response cache's counters (src/api/response-cache.ts); null with CACHE=off. */
  responses: { hits: number; misses: number; shared: number; stored: number; stale: number; evictions: number; bytes: number } | null;
}

/**
 * `built`: the gateway as `npm start` runs it (dist/main.js, plain node, so no tsx in its memory: about 40 MiB);
 * needs `npm run build` first. Otherwise src/main.ts through tsx.
 */
export async function startGateway(env: Record<string, string>, nodeArgs: string[] = [], { built = false } = {}): Promise<GatewayProcess> {
  if (built && !existsSync(path.join(projectRoot, 'dist', 'main.js'))) throw new Error('dist/main.js is missing: run `npm run build` first');
  const probe = ['--expose-gc', '--import', './bench/child/probe.mjs'];
  const gateway = startNodeProcess(built ? 'dist/main.js' : 'src/main.ts', {
    env: { HOST: '127.0.0.1', PORT: String(await freePort()), ...env },
    // `npm start`'s own flag, for the built one.
    nodeArgs: [...(built ? ['--enable-source-maps'] : []), ...probe, ...nodeArgs],
    tsx: !built,
  });
  // A gateway that never got ready must not outlive the harness.
  const [, url] = await gateway.waitForLine(/oddsgate ready: .* at (http:\/\/[^\s]+)\/graphql/).catch(async (error: unknown) => {
    await gateway.stop();
    throw error;
  });
  return {
    ...gateway,
    url: url!,
    async health() {
      const response = await httpRequest(`${url}/health`);
      if (response.status !== 200) throw new Error(`gateway /health answered ${response.status}: ${response.text}`);
      const { parts } = JSON.parse(response.text) as { parts: GatewayHealth & { board: { status: string; events?: number } } };
      return {
        cache: parts.cache,
        board: parts.board.status === 'on' ? { events: parts.board.events ?? 0 } : null,
        subscriptions: parts.subscriptions,
        responses: parts.responses ?? null,
      };
    },
    async memory() {
      const reply = await gateway.request<{ usage: NodeJS.MemoryUsage }>({ type: 'memory' }, 'memory');
      return reply.usage;
    },
    async profile(file, work) {
      await gateway.request({ type: 'profile-start' }, 'profile-started');
      try {
        return await work();
      } finally {
        await gateway.request({ type: 'profile-stop', file }, 'profile-stopped');
      }
    },
  };
}

/** A loopback port nobody listens on now, known before the gateway starts. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
export async function cpuSeconds(pid: number | undefined): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields, in clock ticks (100 per second on Linux).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}
