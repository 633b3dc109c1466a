/**
 * Moodle XML, GIFT and Aiken (issue #19): a 200 MB Moodle XML file imports with the process's
 * peak resident memory under 300 MB (the file is cut into its <question> elements as it streams,
 * each parsed on its own), and the time it takes; the export of the same bank back to Moodle XML.
 */
import { createWriteStream, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { benchDir, loadAverage, printTable, runQbank, s } from './support.js';

const TARGET_BYTES = Number(process.env.QBANK_BENCH_XML_MB ?? 200) * 1e6;
const RSS_LIMIT_MB = 300;

const FILLER =
  'A network engineer reviews the routing table of a branch router after a change window and compares the administrative distances of the routes it holds. ';

function questionXml(index: number): string {
  const exam = index % 2 === 0 ? 'BENCH-A' : 'BENCH-B';
  const category = index < 2 ? `  <question type="category">\n    <category><text>$course$/top/${exam}</text></category>\n  </question>\n` : '';
  return (
    category +
    `  <question type="multichoice">\n    <name><text>q${index}</text></name>\n` +
    `    <questiontext format="html"><text><![CDATA[<p>Question ${index}: ${FILLER.repeat(4)}Which protocol applies?</p>]]></text></questiontext>\n` +
    `    <generalfeedback format="html"><text>Because of the distance &amp; the metric (${index}).</text></generalfeedback>\n` +
    `    <single>${index % 5 === 0 ? 'false' : 'true'}</single>\n` +
    (index % 5 === 0
      ? `    <answer fraction="50"><text>OSPF ${index}</text></answer>\n    <answer fraction="50"><text>EIGRP</text></answer>\n    <answer fraction="0"><text>RIP</text></answer>\n    <answer fraction="0"><text>Static</text></answer>\n`
      : `    <answer fraction="100"><text>OSPF ${index}</text><feedback><text>Right.</text></feedback></answer>\n    <answer fraction="0"><text>EIGRP</text></answer>\n    <answer fraction="0"><text>RIP</text></answer>\n    <answer fraction="0"><text>Static</text></answer>\n`) +
    `    <tags><tag><text>routing</text></tag></tags>\n  </question>\n`
  );
}

/** Writes the file in one pass, so the bench itself never holds it. */
async function writeBigXml(path: string): Promise<{ bytes: number; questions: number }> {
  const out = createWriteStream(path);
  let bytes = 0;
  let questions = 0;
  const write = async (text: string) => {
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n');
  while (bytes < TARGET_BYTES) {
    let batch = '';
    for (let i = 0; i < 500; i++) batch += questionXml(questions++);
    await write(batch);
  }
  await write('</quiz>\n');
  out.end();
  await once(out, 'close');
  return { bytes: statSync(path).size, questions };
}

const qbank = (args: string[], env: Record<string, string>) => runQbank<Record<string, unknown>>(args, env);

export async function run(): Promise<void> {
  const dir = benchDir('interchange');
  try {
    const xml = join(dir, 'big.xml');
    const { bytes, questions } = await writeBigXml(xml);
    const env = { TURSO_DATABASE_URL: `file:${join(dir, 'bench.db')}` };
    qbank(['db', 'push', '--schema', 'pingtopass'], env);
    writeFileSync(join(dir, 'exams.csv'), 'code,name,vendor,category,passing_score,total_questions\nBENCH-A,Bench A,Bench,Networking,700,100\nBENCH-B,Bench B,Bench,Networking,700,100\n');
    qbank(['import', 'exams', join(dir, 'exams.csv')], env);
    const imported = qbank(['import', xml, '--difficulty', '3'], env);
    const summary = imported.summary as { created: number; parallel: boolean };
    if (summary.created !== questions) throw new Error(`expected ${questions} questions created, got ${summary.created}`);
    const again = qbank(['import', xml, '--difficulty', '3'], env);
    const exported = qbank(['export', 'questions', join(dir, 'out.xml')], env);
    const mb = (value: number) => `${value.toFixed(0)} MB`;
    printTable(`Moodle XML: ${(bytes / 1e6).toFixed(0)} MB, ${questions.toLocaleString('en-US')} questions (parsing in a worker: ${summary.parallel})`, [
      ['import into an empty bank: peak RSS', mb(imported.peakMb), `< ${RSS_LIMIT_MB} MB`, imported.peakMb < RSS_LIMIT_MB ? 'ok' : 'MISSED'],
      ['import into an empty bank: time', s(imported.seconds), '-', `${((bytes / 1e6) / imported.seconds).toFixed(1)} MB/s`],
      ['import into an empty bank: CPU time (every thread)', s(imported.cpuSeconds), '-', `${((bytes / 1e6) / imported.cpuSeconds).toFixed(1)} MB per CPU second`],
      ['the same file again (all unchanged): peak RSS', mb(again.peakMb), `< ${RSS_LIMIT_MB} MB`, again.peakMb < RSS_LIMIT_MB ? 'ok' : 'MISSED'],
      ['the same file again: time', s(again.seconds), '-', `CPU ${s(again.cpuSeconds)}`],
      ['export questions to Moodle XML: time', s(exported.seconds), '-', `peak RSS ${mb(exported.peakMb)}, CPU ${s(exported.cpuSeconds)}`],
    ]);
    console.log(`  load average (1, 5, 15 min) at the end: ${loadAverage()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
