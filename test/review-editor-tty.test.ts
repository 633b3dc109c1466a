import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seededDatabase, sqlite, type TestDatabase } from './support/modes.js';
import { haveCommands, startQbank, TmuxScreen } from './support/tmux.js';

/**
 * `qbank review` in a real pseudo-terminal (tmux), with no $VISUAL or $EDITOR: `e` opens vi, as git
 * would, and what vi saves is what the database stores, byte for byte. Every wait is for content on
 * the screen, never for a fixed time.
 */

const hasTmux = haveCommands('tmux', 'vi');

// trailing spaces, a tab, a code fence, wide characters, blank lines, no newline at the end
const EXPLANATION = [
  'OSPFv2 elects a DR on broadcast segments.   ',
  '',
  '```',
  'router ospf 1',
  '\tnetwork 10.0.0.0 0.255.255.255 area 0',
  '```',
  '',
  'Les routeurs élisent — ✓ 路由器',
  ...Array.from({ length: 20 }, (_, i) => `Line ${i + 1}: hello packets every 10 s on broadcast links, dead interval 40 s.`),
].join('\n');

/** The first item of each system's queue, and how far down the field list its explanation is. */
const SYSTEMS = [
  { system: 'pingtopass', id: 'q_ccna_003', explanationRow: 1, fields: ['Question', 'Explanation', 'Option A', 'Correct answer', 'Tags'] },
  { system: 'open-interview', id: 'q-fx-0009', explanationRow: 2, fields: ['Question', 'Answer', 'Explanation', 'TL;DR', 'Tags'] },
] as const;

describe.runIf(hasTmux).each(SYSTEMS)('editing in a real terminal with no editor configured ($system)', ({ system, id, explanationRow, fields }) => {
  let t: TestDatabase;
  let screen: TmuxScreen;

  const explanation = async () => (await sqlite(t, 'SELECT explanation FROM questions WHERE id = ?', [id]))[0].explanation;

  beforeEach(async () => {
    t = await seededDatabase('file', system);
    await sqlite(t, 'UPDATE questions SET explanation = ? WHERE id = ?', [EXPLANATION, id]);
    screen = new TmuxScreen(100, 30);
    // no VISUAL or EDITOR reaches qbank, whatever the test runner has
    startQbank(screen, t, ['review', '--reviewer', 'ada@example.com', '--schema', system]);
  });

  afterEach(async () => {
    screen.close();
    await t.close();
  });

  it('opens vi on the whole text and stores what vi saved, byte for byte; a cut is shown and not saved until confirmed', async () => {
    await screen.waitFor('e edit', 'q quit');
    screen.keys('e');
    await screen.waitFor(`Edit which field of ${id}?`, ...fields);
    const toExplanation = [...Array.from({ length: explanationRow }, () => 'Down'), 'Enter'];
    screen.keys(...toExplanation);
    // vi, on a file of the explanation's own lines, not a one-line prompt
    await screen.waitFor(/explanation\.md" (\[noeol\] )?\d+L/, 'router ospf 1', 'Line 3: hello packets');
    screen.keys('g', 'g', 'A');
    await screen.waitFor('-- INSERT --');
    screen.type(' (edited in vi)');
    screen.keys('Escape');
    await screen.waitFor((text) => !text.includes('-- INSERT --'));
    screen.type(':wq');
    screen.keys('Enter');
    await screen.waitFor(`✔ edited Explanation of ${id}`);
    const edited = EXPLANATION.replace('broadcast segments.   ', 'broadcast segments.    (edited in vi)');
    expect(await explanation()).toBe(edited);

    // now cut the text down to two characters: qbank shows the loss and asks; "no" keeps the text
    screen.keys('e');
    await screen.waitFor(`Edit which field of ${id}?`);
    screen.keys(...toExplanation);
    await screen.waitFor(/explanation\.md" (\[noeol\] )?\d+L/, 'router ospf 1');
    screen.keys('g', 'g', 'd', 'G', 'i');
    await screen.waitFor('-- INSERT --');
    screen.type('ok');
    screen.keys('Escape');
    await screen.waitFor((text) => !text.includes('-- INSERT --'));
    screen.type(':wq');
    screen.keys('Enter');
    await screen.waitFor('This edit removes', 'characters of Explanation', '- OSPFv2 elects a DR', '+ ok', `Save Explanation of ${id} with 2 character(s)?`);
    screen.keys('n');
    await screen.waitFor(`nothing edited: Explanation of ${id} is as it was`);
    expect(await explanation()).toBe(edited);

    screen.keys('q');
    await screen.waitFor('qbank exited 0');
  }, 120_000);
});
