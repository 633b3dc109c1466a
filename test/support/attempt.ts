import { createClient } from '@libsql/client';

/** What a libSQL server does with a token: 'ok', or the HTTP status it refused the statement with. */
export async function attempt(url: string, token: string, sql: string): Promise<'ok' | number> {
  const client = createClient({ url, authToken: token });
  try {
    await client.execute(sql);
    return 'ok';
  } catch (error) {
    const match = /HTTP status (\d{3})/.exec(String((error as Error).message));
    if (!match) throw error;
    return Number(match[1]);
  } finally {
    client.close();
  }
}
