import { readFile } from 'node:fs/promises';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

/**
 * Users run Node.js 20: every package the lockfile installs must accept the
 * oldest Node.js the project supports. Several are held below versions that
 * need Node.js 22 only by the lockfile (package.json's ranges would allow
 * them), so an `npm update` could bring them back; this says which.
 */
describe('the lockfile on the Node.js versions the project supports', () => {
  it("installs only packages whose engines accept package.json's oldest Node.js", async () => {
    const project = JSON.parse(await readFile('package.json', 'utf8')) as { engines: { node: string } };
    const oldest = semver.minVersion(project.engines.node)!.version;
    const lock = JSON.parse(await readFile('package-lock.json', 'utf8')) as {
      packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
    };
    const refusing = Object.entries(lock.packages).flatMap(([where, entry]) => {
      const wanted = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      return where && wanted && !semver.satisfies(oldest, wanted) ? [`${where.replace(/^.*node_modules\//, '')}@${entry.version} wants node ${wanted}`] : [];
    });
    expect(refusing).toEqual([]);
  });
});
