const Database = require('libsql');
const fs = require('fs');
try { fs.unlinkSync('/tmp/prof/m.db'); } catch {}
const db = new Database('/tmp/prof/m.db');
db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, a TEXT, b TEXT)');
const rss = () => (process.memoryUsage().rss / 1048576).toFixed(0);
console.log('start', rss());
db.exec('BEGIN');
const N = 500;
const stmt = db.prepare('INSERT INTO t VALUES ' + new Array(N).fill('(?,?,?)').join(','));
const text = 'x'.repeat(450);
for (let b = 0; b < Number(process.argv[2] ?? 2000); b++) {
  const args = [];
  for (let i = 0; i < N; i++) args.push(`id${b}_${i}`, text + b, text + i);
  stmt.run(args);
  if (b % 400 === 0) console.log(b, rss(), JSON.stringify(process.memoryUsage()).slice(0, 80));
}
db.exec('COMMIT');
console.log('end', rss());
