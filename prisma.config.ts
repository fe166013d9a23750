import { defineConfig } from 'prisma/config';

// Only `prisma generate` reads this file here: migrations are applied by
// `npm run db:migrate` (src/db/migrate.ts), which needs no schema engine.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
