// Reference for the fastcgi case, not a gateway: the least a Node process can do to put HTTP/1.1
// GET requests through to a FastCGI responder, so the report can show whether a goal asks for
// more than any Node process reaches on this machine (raw-relay.mjs is the same for hello).
// What it does per request: finds the end of the request head (no parsing, no validation, no
// config, no pipelining), sends a FastCGI request made once at start (BEGIN_REQUEST with FCGI_KEEP_CONN, the
// PARAMS a gateway sends for this script, empty STDIN) on one of `children` kept connections
// (the rest wait in a FIFO queue, as lantern's pool does), collects FCGI_STDOUT until
// END_REQUEST and answers with php's header block plus a Content-Length.
// Usage: node raw-fastcgi.mjs <port> <php socket path> <script filename> <children>
import net from 'node:net';

const [portArg, socketPath, scriptFilename, childrenArg] = process.argv.slice(2);
const port = Number(portArg);
const children = Number(childrenArg);

function record(type, content) {
  const pad = (8 - (content.length & 7)) & 7;
  const b = Buffer.alloc(8 + content.length + pad);
  b[0] = 1;
  b[1] = type;
  b.writeUInt16BE(1, 2);
  b.writeUInt16BE(content.length, 4);
  b[6] = pad;
  content.copy(b, 8);
  return b;
}

function pairs(list) {
  const parts = [];
  for (const [n, v] of list) {
    const nb = Buffer.from(n, 'latin1');
    const vb = Buffer.from(v, 'latin1');
    parts.push(Buffer.from([nb.length, vb.length]), nb, vb);
  }
  return Buffer.concat(parts);
}

const slash = scriptFilename.lastIndexOf('/');
const REQUEST = Buffer.concat([
  record(1, Buffer.from([0, 1, 1, 0, 0, 0, 0, 0])),
  record(4, pairs([
    ['CONTENT_LENGTH', '0'], ['SERVER_SOFTWARE', 'raw-fastcgi'], ['SERVER_NAME', '127.0.0.1'],
    ['GATEWAY_INTERFACE', 'CGI/1.1'], ['SERVER_PROTOCOL', 'HTTP/1.1'], ['SERVER_PORT', String(port)],
    ['SERVER_ADDR', '127.0.0.1'], ['REQUEST_METHOD', 'GET'], ['REQUEST_SCHEME', 'http'],
    ['REDIRECT_STATUS', '200'], ['REQUEST_URI', scriptFilename.slice(slash)], ['QUERY_STRING', ''],
    ['SCRIPT_NAME', scriptFilename.slice(slash)], ['SCRIPT_FILENAME', scriptFilename],
    ['DOCUMENT_ROOT', scriptFilename.slice(0, slash)], ['REMOTE_ADDR', '127.0.0.1'], ['REMOTE_PORT', '40000'],
    ['HTTP_HOST', `127.0.0.1:${port}`],
  ])),
  record(4, Buffer.alloc(0)),
  record(5, Buffer.alloc(0)),
]);

const readBuffer = Buffer.allocUnsafe(64 * 1024);
const idle = [];
const waiting = [];
let open = 0;

/** A kept connection to the responder; `client` is the socket its current request answers. */
function connectBackend() {
  open++;
  const b = { socket: null, client: null, stdout: [], pending: Buffer.alloc(0) };
  b.socket = net.connect({
    path: socketPath,
    onread: {
      buffer: readBuffer,
      callback: (n, buf) => { onBackendData(b, Buffer.from(buf.subarray(0, n))); return true; },
    },
  });
  b.socket.on('error', () => {});
  b.socket.on('close', () => { open--; });
  return b;
}

function onBackendData(b, data) {
  let d = b.pending.length ? Buffer.concat([b.pending, data]) : data;
  let at = 0;
  while (d.length - at >= 8) {
    const len = d.readUInt16BE(at + 4);
    const total = 8 + len + d[at + 6];
    if (d.length - at < total) break;
    const type = d[at + 1];
    if (type === 6 && len > 0) b.stdout.push(d.subarray(at + 8, at + 8 + len));
    else if (type === 3) answer(b);
    at += total;
  }
  b.pending = at === d.length ? Buffer.alloc(0) : d.subarray(at);
}

function answer(b) {
  const out = Buffer.concat(b.stdout);
  b.stdout = [];
  const end = out.indexOf('\r\n\r\n');
  const head = out.toString('latin1', 0, end);
  const body = out.subarray(end + 4);
  const client = b.client;
  b.client = null;
  if (client && !client.destroyed) {
    client.write(`HTTP/1.1 200 OK\r\n${head}\r\nContent-Length: ${body.length}\r\n\r\n${body.toString('latin1')}`, 'latin1');
  }
  const next = waiting.shift();
  if (next) send(b, next);
  else idle.push(b);
}

function send(b, client) {
  b.client = client;
  b.socket.write(REQUEST);
}

function dispatch(client) {
  const b = idle.pop() ?? (open < children ? connectBackend() : null);
  if (b) send(b, client);
  else waiting.push(client);
}

/**
 * Requests of one client: each head end (CRLF CRLF) is a request. The accepted socket's handle is
 * moved into a socket read with `onread` (net.Server has no such option; lantern does the same).
 */
function serve(accepted) {
  const handle = accepted._handle;
  accepted._handle = null;
  let tail = 0; // how many bytes of "\r\n\r\n" the last read ended with
  const client = new net.Socket({
    handle,
    onread: {
      buffer: readBuffer,
      callback: (n, buf) => {
        for (let i = 0; i < n; i++) {
          const c = buf[i];
          if (c === (tail & 1 ? 10 : 13)) { if (++tail === 4) { tail = 0; dispatch(client); } }
          else tail = c === 13 ? 1 : 0;
        }
        return true;
      },
    },
  });
  accepted.destroy();
  client.on('error', () => {});
}

net.createServer({ noDelay: true, pauseOnConnect: true }, serve).listen(port, '127.0.0.1');
