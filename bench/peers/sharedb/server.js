// ShareDB 7 with its in-memory database over `ws`: the peer bench/ot.py measures against.
// Usage: node server.js PORT   (prints "listening PORT" when ready)
const http = require('http');
const WebSocket = require('ws');
const ShareDB = require('sharedb');
const WebSocketJSONStream = require('@teamwork/websocket-json-stream');

ShareDB.types.register(require('ot-text-unicode').type);

const port = Number(process.argv[2] || 8100);
const backend = new ShareDB();  // MemoryDB + MemoryPubSub: nothing is written anywhere
const server = http.createServer();
const wss = new WebSocket.Server({ server });
wss.on('connection', (ws) => backend.listen(new WebSocketJSONStream(ws)));
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
