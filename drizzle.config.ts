import { defineConfig } from 'drizzle-kit';

// One config serves both systems; `npm run db:generate` runs it once per system.
const system = process.env.QBANK_SCHEMA === 'open-interview' ? 'open-interview' : 'pingtopass';

export default defineConfig({
  dialect: 'sqlite',
  schema: `./schema/${system}.ts`,
  out: `./migrations/${system}`,
  strict: true,
  verbose: true,
});
