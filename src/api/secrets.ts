import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares SHA-256 digests, 32 bytes whatever the lengths: the time taken
 * tells a caller nothing about the secret, not even its length (comparing the
 * secrets themselves has to refuse a wrong length before the constant-time compare).
 */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

/** The token of an `Authorization: Bearer <token>` header (the scheme is case-insensitive); undefined without one. */
export function bearerToken(header: string | undefined | null): string | undefined {
  return /^Bearer\s+(.*)$/i.exec(header ?? '')?.[1];
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
