// K ShareDB editors in one Node process running bench/ot.py's workload on one text-unicode document:
// each submits OPS random edits (60% inserts of 1-4 letters, 40% deletes of 1-3 characters) and waits
// for the ack of each before the next. Prints one JSON line: elapsed ms, every ack latency, convergence.
// Usage: node client.js PORT K OPS DOC_ID [TOTAL_OPS [--wait-for-go]]
// TOTAL_OPS: the operations of the whole run when several processes share the document (they
// settle on it); --wait-for-go: print "ready" once subscribed and start on a line from stdin.
const WebSocket = require('ws');
const ShareDB = require('sharedb/lib/client');
const textUnicode = require('ot-text-unicode');

ShareDB.types.register(textUnicode.type);

const [port, clients, opsEach, docId] = [Number(process.argv[2]), Number(process.argv[3]),
  Number(process.argv[4]), process.argv[5]];
const LETTERS = 'abcdefghijklmnopqrstuvwxyz ';
const total = process.argv[6] ? Number(process.argv[6]) : clients * opsEach;
const waitForGo = process.argv.includes('--wait-for-go');

function go() {
  process.stdout.write('ready\n');
  return new Promise((resolve) => process.stdin.once('data', () => resolve()));
}

function open() {
  const socket = new WebSocket(`ws://127.0.0.1:${port}`);
  return new ShareDB.Connection(socket);
}

function subscribe(doc) {
  return new Promise((resolve, reject) => doc.subscribe((err) => (err ? reject(err) : resolve())));
}

function randomOp(text) {
  const length = [...text].length;
  if (length === 0 || Math.random() < 0.6) {
    let content = '';
    const n = 1 + Math.floor(Math.random() * 4);
    for (let i = 0; i < n; i++) content += LETTERS[Math.floor(Math.random() * LETTERS.length)];
    const at = Math.floor(Math.random() * (length + 1));
    return at > 0 ? [at, content] : [content];
  }
  const at = Math.floor(Math.random() * length);
  const n = Math.min(1 + Math.floor(Math.random() * 3), length - at);
  return at > 0 ? [at, { d: n }] : [{ d: n }];
}

function edit(doc, left, latencies) {
  return new Promise((resolve, reject) => {
    const step = () => {
      if (left === 0) return resolve();
      left -= 1;
      const sent = process.hrtime.bigint();
      doc.submitOp(randomOp(doc.data), (err) => {
        if (err) return reject(err);
        latencies.push(Number(process.hrtime.bigint() - sent) / 1e6);
        step();
      });
    };
    step();
  });
}

function settled(docs) {
  return new Promise((resolve) => {
    const check = () => (docs.every((d) => d.version >= total + 1 && !d.hasPending())
      ? resolve() : setTimeout(check, 5));
    check();
  });
}

async function main() {
  const connections = Array.from({ length: clients }, open);
  const docs = connections.map((c) => c.get('bench', docId));
  await subscribe(docs[0]);
  if (!docs[0].type) {
    await new Promise((resolve, reject) => docs[0].create('', 'text-unicode', (e) => (e ? reject(e) : resolve())));
  }
  await Promise.all(docs.slice(1).map(subscribe));
  if (waitForGo) await go();
  const latencies = [];
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await Promise.all(docs.map((doc) => edit(doc, opsEach, latencies)));
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  await settled(docs);
  const used = process.cpuUsage(cpu);
  const converged = docs.every((d) => d.data === docs[0].data);
  const line = JSON.stringify({ elapsed_ms: elapsedMs, latencies_ms: latencies, converged,
    cpu_s: (used.user + used.system) / 1e6,
    length: [...docs[0].data].length, version: docs[0].version, content: docs[0].data });
  connections.forEach((c) => c.close());
  process.stdout.write(`${line}\n`, () => process.exit(0));  // exit only once the pipe took it all
}

main().catch((err) => { console.error(err); process.exit(1); });
