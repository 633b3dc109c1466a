import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MODES, runIn, seededDatabase, sqlite, type TestDatabase } from './support/modes.js';

/** What review prints is the whole truth: truncation, review status, unknown ids, expired leases, help. */

describe.each(MODES)('what review shows, PingToPass (%s)', (mode) => {
  let t: TestDatabase;
  const cli = (args: string[]) => runIn(t, args);

  beforeEach(async () => {
    t = await seededDatabase(mode, 'pingtopass');
  });
  afterEach(async () => {
    await t.close();
  });

  it('says when a list stops early, and gives the total in --json', async () => {
    const cut = await cli(['review', 'list', '--limit', '2']);
    expect(cut.code, cut.stderr).toBe(0);
    expect(cut.stderr).toContain('2 of 4 (use --limit)');
    const json = await cli(['review', 'list', '--limit', '2', '--json']);
    expect(json.json()).toMatchObject({ total: 4, limit: 2, truncated: true });
    expect(json.json().items).toHaveLength(2);
    const whole = await cli(['review', 'list', '--json']);
    expect(whole.json()).toMatchObject({ total: 4, limit: 50, truncated: false });
    expect(whole.stderr).not.toContain('use --limit');
    const none = await cli(['review', 'list', '--exam', 'SC-900', '--difficulty', '5', '--json']);
    expect(none.json()).toEqual(expect.objectContaining({ items: [], total: 0 }));
  });

  it('shows the review status, reviewer, time and reason; the queue field is the real status', async () => {
    const rejected = (await cli(['review', 'show', 'q_saa_003', '--json'])).json();
    expect(rejected).toMatchObject({ queue: 'rejected', review: { status: 'rejected' } });

    expect((await cli(['review', 'reject', 'q_ccna_004', '--reason', 'two routes match', '--reviewer', 'ada@example.com'])).code).toBe(0);
    const [row] = await sqlite(t, "SELECT reviewed_at FROM questions WHERE id = 'q_ccna_004'");
    const at = new Date(Number(row.reviewed_at) * 1000).toISOString();
    const json = (await cli(['review', 'show', 'q_ccna_004', '--json'])).json();
    expect(json).toMatchObject({ queue: 'rejected', review: { status: 'rejected', by: 'ada@example.com', at, reason: 'two routes match' } });
    const text = await cli(['review', 'show', 'q_ccna_004']);
    // review show wraps at the width (80 here): compare the words
    expect(text.stdout.replace(/\s+/g, ' ')).toContain(`review: rejected · by ada@example.com · ${at} · reason: two routes match`);
  });

  it('exits 3 for an id that names nothing, on every verb, with one JSON document', async () => {
    const runs: string[][] = [
      ['review', 'show', 'nope'],
      ['review', 'approve', 'nope', '--reviewer', 'ada@example.com'],
      ['review', 'reject', 'nope', '--reason', 'x', '--reviewer', 'ada@example.com'],
      ['review', 'reopen', 'nope', '--reason', 'x', '--reviewer', 'ada@example.com'],
      ['review', 'resolve', 'nope', '--response', 'x'],
    ];
    for (const args of runs) {
      const result = await cli([...args, '--json']);
      expect(result.code, args.join(' ')).toBe(3);
      expect(result.json().error, args.join(' ')).toMatchObject({ exitCode: 3 });
      expect(result.json().error.message, args.join(' ')).toMatch(/nope/);
    }
    expect(await sqlite(t, "SELECT count(*) AS n FROM questions WHERE review_status = 'pending'")).toEqual([{ n: 4 }]);
  });

  it('a decision someone else took first exits 5 with an error in its one JSON document', async () => {
    expect((await cli(['review', 'approve', 'q_ccna_003', '--reviewer', 'alice@example.com'])).code).toBe(0);
    const late = await cli(['review', 'approve', 'q_ccna_003', '--reviewer', 'bob@example.com', '--json']);
    expect(late.code).toBe(5);
    const document = late.json();
    expect(document).toMatchObject({ decided: 0, conflicts: 1, error: { kind: 'RefusedError', exitCode: 5 } });
    expect(document.error.details[0]).toMatch(/reviewed by alice@example.com/);
    expect((await sqlite(t, "SELECT reviewed_by FROM questions WHERE id = 'q_ccna_003'"))[0].reviewed_by).toBe('alice@example.com');
  });

  it('every review verb has examples in its --help', async () => {
    for (const verb of ['list', 'show', 'approve', 'reject', 'reopen', 'stats', 'claim', 'complete', 'fail', 'release', 'resolve']) {
      const help = await cli(['review', verb, '--help']);
      expect(help.code, verb).toBe(0);
      expect(help.stdout, verb).toMatch(new RegExp(`Examples:\\n\\s+\\$ qbank review ${verb}`));
    }
  });
});

describe.each(MODES)('what review shows, open-interview work queue (%s)', (mode) => {
  let t: TestDatabase;
  const cli = (args: string[]) => runIn(t, args);

  beforeEach(async () => {
    t = await seededDatabase(mode, 'open-interview');
    // carol claimed item 2 long ago and never came back
    const claim = { claim: { by: 'carol', claimedAt: '2020-01-01T10:00:00.000Z', leaseExpiresAt: '2020-01-01T10:15:00.000Z', assignedToBefore: 'eli5-bot' } };
    await sqlite(t, "UPDATE work_queue SET status = 'processing', assigned_to = 'carol', result = ? WHERE id = 2", [JSON.stringify(claim)]);
  });
  afterEach(async () => {
    await t.close();
  });

  it('shows an expired claim as expired, and lists items by priority', async () => {
    const list = await cli(['review', 'list', '--queue', 'work', '--reviewer', 'dave', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.json().items.map((i: { work: { id: number; priority: number } }) => [i.work.id, i.work.priority])).toEqual([
      [1, 1],
      [2, 3],
      [3, 7],
    ]);
    expect(list.json().items[1].claim).toMatchObject({ by: 'carol', expired: true });
    const table = await cli(['review', 'list', '--queue', 'work', '--reviewer', 'dave']);
    expect(table.stdout).toMatch(/^2\s+3\s+\S+.*claim expired \(carol\)/m);
    expect(table.stdout).not.toMatch(/claimed by carol/);
    const show = await cli(['review', 'show', '2', '--queue', 'work']);
    expect(show.stdout.replace(/\s+/g, ' ')).toContain('claim by carol expired at 2020-01-01T10:15:00.000Z');
    expect(show.stdout).toContain('claim expired');

    const missing = await cli(['review', 'complete', '99', '--result', '{}', '--reviewer', 'dave', '--json']);
    expect(missing.code).toBe(3);
    expect(missing.json().error.message).toMatch(/99/);
    expect((await cli(['review', 'claim', '99', '--reviewer', 'dave'])).code).toBe(3);
    expect((await cli(['review', 'fail', '99', '--result', 'x', '--reviewer', 'dave'])).code).toBe(3);
    expect((await cli(['review', 'release', '99', '--reviewer', 'dave'])).code).toBe(3);
    expect((await cli(['review', 'show', 'nope'])).code).toBe(3);
  });
});
