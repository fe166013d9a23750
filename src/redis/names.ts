import { defaultRedisPrefix } from '../config.js';
import { recordFormat } from '../domain/records.js';

/** Every Redis key prefix, channel and connection name the gateway and workers use, under one prefix. */
export function redisNames(prefix = defaultRedisPrefix) {
  return {
    /**
     * Shared cache tier entries: `<prefix>cache:v<format>:<Kind>:<id>`. Gateways of
     * another record format (a rolling deploy) keep to their own keys.
     */
    cacheKeys: `${prefix}cache:v${recordFormat}:`,
    /** Admin invalidations, heard by every gateway. */
    invalidations: `${prefix}cache-invalidations`,
    /** Odds changes, published by workers and heard by every gateway. */
    oddsChanges: `${prefix}odds-changes`,
    /** Apollo's persisted queries (Apollo adds `apq:`, so keys read `<prefix>apq:<sha256>`). */
    persistedQueries: prefix,
    /** Connection names, as Redis' CLIENT LIST shows them. */
    connections: {
      cache: `${prefix}cache`,
      invalidations: `${prefix}cache-invalidations`,
      oddsPublish: `${prefix}odds-publish`,
      oddsSubscribe: `${prefix}odds-subscribe`,
      persistedQueries: `${prefix}apq`,
    },
  } as const;
}
