import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { handleAdmin, type AdminOptions } from '../../src/api/admin.js';

const token = 'an-admin-token-of-32-characters!';

/** What handleAdmin answers a POST /admin/invalidate of `{"event": 7}` carrying this Authorization header. */
async function statusFor(authorization: string | undefined, options: Partial<AdminOptions> = {}): Promise<number> {
  const req = { method: 'POST', headers: authorization === undefined ? {} : { authorization } } as http.IncomingMessage;
  const invalidate: AdminOptions['invalidate'] = async () => ({ keys: 1, kinds: ['Event'], dropped: 1, fleet: false });
  const answer = await handleAdmin(req, '/admin/invalidate', async () => '{"event": 7}', { token, invalidate, ...options });
  return answer.status;
}

describe('the admin token check', () => {
  it('accepts the token as a bearer token, whatever the scheme name is cased', async () => {
    expect(await statusFor(`Bearer ${token}`)).toBe(200);
    expect(await statusFor(`bearer ${token}`)).toBe(200);
  });

  it('refuses a wrong token of the same length, a shorter, a longer and an empty one alike', async () => {
    const wrong = [`Bearer ${token.replace(/.$/, '?')}`, `Bearer ${token.slice(0, 16)}`, `Bearer ${token}x`, 'Bearer ', `Bearer ${token.repeat(20)}`];
    for (const header of wrong) expect(await statusFor(header), header).toBe(401);
  });

  it('refuses the token without the Bearer scheme, and a request with no Authorization header', async () => {
    expect(await statusFor(token)).toBe(401);
    expect(await statusFor(`Basic ${token}`)).toBe(401);
    expect(await statusFor(undefined)).toBe(401);
  });

  it('answers 404 when no ADMIN_TOKEN is set, whatever the request carries', async () => {
    expect(await statusFor(`Bearer ${token}`, { token: undefined })).toBe(404);
  });
});
