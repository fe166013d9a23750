// Preloaded into benchmarked gateways (node --expose-gc --import). Answers IPC requests:
// - "memory": collects garbage twice and replies with process.memoryUsage(), so the
//   harness reads live heap rather than whatever the last collection left behind;
// - "profile-start" / "profile-stop": V8's CPU profiler (what --cpu-prof runs) over
//   exactly the load window, written as a .cpuprofile to the path the harness names.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

const gc = (globalThis as { gc?: () => void }).gc;
let session: Session | undefined;

async function answer(message: { type?: string; file?: string }): Promise<object | undefined> {
  switch (message.type) {
    case 'memory':
      if (!gc) throw new Error('the probe needs node --expose-gc');
      gc();
      gc();
      return { type: 'memory', usage: process.memoryUsage() };
    case 'profile-start':
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      return { type: 'profile-started' };
    case 'profile-stop': {
      if (!session || !message.file) throw new Error('profile-stop needs a running profile and a file');
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(message.file, JSON.stringify(profile));
      session.disconnect();
      session = undefined;
      return { type: 'profile-stopped' };
    }
    default:
      return undefined;
  }
}

if (process.send) {
  process.on('message', (message: { type?: string; file?: string }) => {
    answer(message).then(
      (reply) => reply && process.send!(reply),
      (error: unknown) => process.send!({ type: 'error', error: String(error) }),
    );
  });
  // The channel must not keep a gateway alive after SIGTERM.
  process.channel?.unref();
}
