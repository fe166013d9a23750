import type { PrismaClient } from '../../src/generated/prisma/client.js';

/**
 * The seed's first `count` events, scheduled to kick off every 15 s of real time after `from`: on the
 * simulated feed at ten times speed, two and a half match minutes apart. Returns their ids.
 */
export async function kickOffSoon(prisma: PrismaClient, count: number, from: number): Promise<string[]> {
  const soonest = await prisma.event.findMany({ orderBy: { id: 'asc' }, take: count, select: { id: true } });
  for (const [i, { id }] of soonest.entries()) {
    await prisma.event.update({ where: { id }, data: { kickoffAt: new Date(from + 15_000 * (i + 1)), status: 'SCHEDULED' } });
  }
  return soonest.map((event) => String(event.id));
}
