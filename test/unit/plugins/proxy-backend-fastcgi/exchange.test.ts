// Unit tests of one FastCGI exchange (plugins/proxy-backend-fastcgi/exchange.ts): the request
// records byte for byte, STDOUT through the CGI header parser, STDERR to the log only, every
// END_REQUEST status, truncation, abort, HEAD, the authorizer role and reuse. Checklist G8, G1, D7.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ErrorCode } from '../../../../core/errors.js';
import type { HeaderList, ResponseHead } from '../../../../core/http1/types.js';
import { FastcgiExchange } from '../../../../plugins/proxy-backend-fastcgi/exchange.js';
import plugin, { fastcgiProtocol } from '../../../../plugins/proxy-backend-fastcgi/index.js';
import { decodeParams, encodeParams } from '../../../../plugins/proxy-backend-fastcgi/params.js';
import {
  FCGI_CANT_MPX_CONN, FCGI_GET_VALUES_RESULT, FCGI_OVERLOADED, FCGI_PARAMS, FCGI_STDOUT, FCGI_UNKNOWN_ROLE,
  FCGI_UNKNOWN_TYPE, RecordDecoder, encodeRecord,
} from '../../../../plugins/proxy-backend-fastcgi/record.js';
import type { ProtocolDefinition, ResponseSink, UpstreamRequest } from '../../../../plugins/proxy-core/types.js';
import { fcgiEndRequest, fcgiRecord, fcgiResponse, fcgiStderr, fcgiStdout } from '../../../helpers/fake-fastcgi.js';

const T = suite('proxy-backend-fastcgi/exchange');

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ENV: Array<[string, string]> = [
  ['CONTENT_LENGTH', '3'], ['REQUEST_METHOD', 'POST'], ['SCRIPT_NAME', '/a.php'], ['PATH_INFO', '/x'],
  ['PATH_TRANSLATED', '/srv/x'], ['QUERY_STRING', 'q=1'],
];

function upstream(o: { method?: string; env?: Array<[string, string]>; bodyLength?: number } = {}): UpstreamRequest {
  return {
    method: o.method ?? 'GET', target: '/a.php?q=1', headers: [], bodyLength: o.bodyLength ?? 0, upgrade: null,
    env: o.env ?? ENV, req: {} as unknown as UpstreamRequest['req'],
  };
}
function exchange(o: Parameters<typeof upstream>[0] & { role?: string; keepConn?: boolean; maxHead?: number } = {}): FastcgiExchange {
  const options = { maxResponseHeadBytes: o.maxHead ?? 4096, role: o.role ?? 'responder', keepConn: o.keepConn ?? true };
  return fastcgiProtocol.createExchange(upstream(o), options, { fresh: true }) as FastcgiExchange;
}

class Sink implements ResponseSink {
  heads: ResponseHead[] = [];
  chunks: Buffer[] = [];
  ended = 0;
  trailers: HeaderList | undefined;
  errors: Array<[ErrorCode, string]> = [];
  logs: string[] = [];
  get body(): string { return Buffer.concat(this.chunks).toString('latin1'); }
  head(h: ResponseHead): void { this.heads.push(h); }
  data(c: Buffer): void { this.chunks.push(Buffer.from(c)); }
  end(t?: HeaderList): void { this.ended++; this.trailers = t; }
  error(code: ErrorCode, detail: string): void { this.errors.push([code, detail]); }
  fallThrough(): void { throw new Error('this protocol never falls through'); }
  log(message: string): void { this.logs.push(message); }
}

function feed(ex: FastcgiExchange, ...pieces: Buffer[]): Sink {
  const s = new Sink();
  for (const p of pieces) ex.receive(p, s);
  return s;
}

/** What the socket gets: a string is latin1 (Exchange: one char per byte). */
const bytes = (x: Buffer | string): Buffer => (typeof x === 'string' ? Buffer.from(x, 'latin1') : x);
const flat = (b: Buffer | string | Array<Buffer | string> | null): Buffer =>
  b === null ? Buffer.alloc(0) : Array.isArray(b) ? Buffer.concat(b.map(bytes)) : bytes(b);

const OK = fcgiResponse('Content-Type: text/plain\r\nX-A: 1\r\n\r\nhello');

// --- The request ---

T('head(): BEGIN_REQUEST (responder, KEEP_CONN), the PARAMS records, the empty PARAMS record; without a body the empty STDIN record too', () => {
  const env: Array<[string, string]> = [['A', 'b']];
  const withBody = exchange({ env, method: 'POST', bodyLength: 3 });
  assert.equal(flat(withBody.head()), hex(`
    01 01 0001 0008 00 00  0001 01 00 00000000
    01 04 0001 0004 04 00  01 01 41 62 00000000
    01 04 0001 0000 00 00`));
  assert.equal(flat(withBody.end([])), hex('01 05 0001 0000 00 00'));
  // One write for a bodiless request: the STDIN terminator leaves with the head, end() adds nothing.
  const bodiless = exchange({ env });
  assert.equal(flat(bodiless.head()), hex(`
    01 01 0001 0008 00 00  0001 01 00 00000000
    01 04 0001 0004 04 00  01 01 41 62 00000000
    01 04 0001 0000 00 00
    01 05 0001 0000 00 00`));
  assert.is(bodiless.end([]), null);
});

T('head(): the whole env goes up in order; over 65 535 bytes it takes several PARAMS records', () => {
  const env: Array<[string, string]> = [...ENV, ['HTTP_COOKIE', 'c'.repeat(70000)], ['HTTP_X_LONG_' + 'N'.repeat(200), 'v']];
  const records = new RecordDecoder().push(flat(exchange({ env }).head()));
  const params = records.filter((r) => r.type === FCGI_PARAMS);
  assert.equal(params.map((r) => r.content.length), [65535, encodeParams(env).length - 65535, 0]);
  assert.equal(decodeParams(Buffer.concat(params.map((r) => r.content))), env);
});

T('keepConn false: no FCGI_KEEP_CONN flag, and the connection is never reused', () => {
  const ex = exchange({ keepConn: false });
  assert.equal(flat(ex.head()).subarray(8, 16), hex('0001 00 00 00000000'));
  const s = feed(ex, OK);
  assert.is(s.ended, 1);
  assert.is(ex.reusable(), false);
});

T('body(): STDIN records, over 65 535 bytes split; end(): the empty STDIN record', () => {
  const ex = exchange({ method: 'POST', bodyLength: 70003 });
  assert.equal(flat(ex.body(Buffer.from('abc'))), hex('01 05 0001 0003 05 00 616263 0000000000'));
  const big = Buffer.alloc(70000, 0x7a);
  const records = new RecordDecoder().push(flat(ex.body(big)));
  assert.equal(records.map((r) => [r.type, r.content.length]), [[5, 65535], [5, 4465]]);
  assert.equal(flat(ex.end([])), hex('01 05 0001 0000 00 00'));
});

T('a request without a body still ends STDIN with the empty record (G8)', () => {
  const ex = exchange();
  assert.equal(flat(ex.end([])), hex('01 05 0001 0000 00 00'));
});

T('authorizer: role 2, no STDIN data ever, STDIN still terminated; no CONTENT_LENGTH, PATH_*, SCRIPT_NAME (§6.3)', () => {
  const ex = exchange({ role: 'authorizer', method: 'POST', bodyLength: 3 });
  const head = flat(ex.head());
  assert.equal(head.subarray(0, 16), hex('01 01 0001 0008 00 00  0002 01 00 00000000'));
  const params = new RecordDecoder().push(head).filter((r) => r.type === FCGI_PARAMS);
  assert.equal(decodeParams(Buffer.concat(params.map((r) => r.content))), [['REQUEST_METHOD', 'POST'], ['QUERY_STRING', 'q=1']]);
  assert.is(flat(ex.body(Buffer.from('abc'))).length, 0);
  // The STDIN stream is terminated at once, with the head: an authorizer never gets a body.
  assert.equal(head.subarray(head.length - 8), hex('01 05 0001 0000 00 00'));
  assert.is(ex.end([]), null);
  const s = feed(ex, fcgiResponse('Status: 403\r\n\r\n'));
  assert.is(s.heads[0]!.status, 403);
  assert.is(s.ended, 1);
});

T('abort(): FCGI_ABORT_REQUEST for id 1; the connection is not reused after it (G1)', () => {
  const ex = exchange();
  feed(ex, fcgiStdout('Status: 200\r\n\r\npart'));
  assert.equal(ex.abort(), hex('01 02 0001 0000 00 00'));
  assert.is(ex.reusable(), false);
});

// --- The response ---

T('a whole response: head through the CGI parser, body, end; reusable', () => {
  const ex = exchange();
  const s = feed(ex, OK);
  assert.is(s.heads.length, 1);
  assert.is(s.heads[0]!.status, 200);
  assert.equal(s.heads[0]!.headers, ['Content-Type', 'text/plain', 'X-A', '1']);
  assert.is(s.body, 'hello');
  assert.is(s.ended, 1);
  assert.is(s.trailers, undefined);
  assert.equal(s.errors, []);
  assert.is(ex.reusable(), true);
});

T('the response split at every byte boundary gives the same result', () => {
  const bytes = Buffer.concat([
    fcgiStderr('warn'), fcgiStdout('Status: 201 Made\r\nA: b\r\n\r\nbo', { recordBytes: 7, paddingBytes: 3 }),
    fcgiStdout('dy'), fcgiStdout(''), fcgiEndRequest(),
  ]);
  for (let i = 1; i < bytes.length; i++) {
    const ex = exchange();
    const s = feed(ex, bytes.subarray(0, i), bytes.subarray(i));
    assert.is(s.heads.length, 1, `split at ${i}`);
    assert.is(s.heads[0]!.status, 201);
    assert.is(s.heads[0]!.reason, 'Made');
    assert.is(s.body, 'body', `split at ${i}`);
    assert.equal(s.logs, ['warn']);
    assert.is(s.ended, 1);
    assert.is(ex.reusable(), true);
  }
});

T('a header block split across several STDOUT records (one byte each) gives one head (G8)', () => {
  const s = feed(exchange(), fcgiResponse('Content-Type: text/html\nLocation: http://e/\n\n<p>', { recordBytes: 1 }));
  assert.is(s.heads.length, 1);
  assert.is(s.heads[0]!.status, 302);
  assert.is(s.body, '<p>');
  assert.is(s.ended, 1);
});

T('STDERR goes to the log only, never to the client; an empty STDERR record logs nothing (G8)', () => {
  const big = 'E'.repeat(70000);
  const s = feed(exchange(), Buffer.concat([
    fcgiStderr('PHP Notice: x\n'), fcgiStdout('Status: 200\r\n\r\nbody'), fcgiStderr(big), fcgiStderr(''), fcgiStdout(''), fcgiEndRequest(),
  ]));
  assert.is(s.body, 'body');
  assert.equal(s.logs, ['PHP Notice: x', 'E'.repeat(65535), 'E'.repeat(70000 - 65535)]);
  assert.is(s.ended, 1);
});

T('the empty STDOUT record only ends the stream; END_REQUEST ends the response', () => {
  const ex = exchange();
  const s = feed(ex, fcgiStdout('Status: 204\r\n\r\n'), fcgiStdout(''));
  assert.is(s.heads.length, 1);
  assert.is(s.ended, 0);
  ex.receive(fcgiEndRequest(), s);
  assert.is(s.ended, 1);
});

T('STDOUT after the empty STDOUT record is a bad response', () => {
  const s = feed(exchange(), Buffer.concat([fcgiStdout('Status: 200\r\n\r\na'), fcgiStdout(''), fcgiStdout('b')]));
  assert.equal(s.errors.map((e) => e[0]), ['LT_ERR_BACKEND_BAD_RESPONSE']);
});

T('END_REQUEST REQUEST_COMPLETE without a whole head: truncated output is a bad response', () => {
  for (const bytes of [fcgiResponse(''), fcgiResponse('Content-Type: text/plain\r\n'), fcgiResponse('Status: 200\r\n\r')]) {
    const ex = exchange();
    const s = feed(ex, bytes);
    assert.equal(s.errors.map((e) => e[0]), ['LT_ERR_BACKEND_BAD_RESPONSE']);
    assert.is(s.heads.length, 0);
    assert.is(s.ended, 0);
    assert.is(ex.reusable(), false);
  }
});

T('END_REQUEST OVERLOADED and CANT_MPX_CONN before a head: LT_ERR_BACKEND_OVERLOADED (503, retried)', () => {
  for (const status of [FCGI_OVERLOADED, FCGI_CANT_MPX_CONN]) {
    const ex = exchange();
    const s = feed(ex, fcgiEndRequest(0, status));
    assert.equal(s.errors.map((e) => e[0]), ['LT_ERR_BACKEND_OVERLOADED']);
    assert.match(s.errors[0]![1], status === FCGI_OVERLOADED ? 'OVERLOADED' : 'CANT_MPX_CONN');
    assert.is(ex.reusable(), false);
  }
});

T('END_REQUEST OVERLOADED after a head went out: a bad response', () => {
  const s = feed(exchange(), Buffer.concat([fcgiStdout('Status: 200\r\n\r\nx'), fcgiEndRequest(0, FCGI_OVERLOADED)]));
  assert.is(s.heads.length, 1);
  assert.equal(s.errors.map((e) => e[0]), ['LT_ERR_BACKEND_BAD_RESPONSE']);
  assert.is(s.ended, 0);
});

T('END_REQUEST UNKNOWN_ROLE, an unknown protocolStatus, a short END_REQUEST body: bad responses', () => {
  const cases = [fcgiEndRequest(0, FCGI_UNKNOWN_ROLE), fcgiEndRequest(0, 9), fcgiRecord(3, 1, Buffer.alloc(4))];
  for (const bytes of cases) {
    const s = feed(exchange({ role: 'authorizer' }), bytes);
    assert.equal(s.errors.map((e) => e[0]), ['LT_ERR_BACKEND_BAD_RESPONSE']);
  }
  assert.match(feed(exchange({ role: 'authorizer' }), cases[0]!).errors[0]![1], 'authorizer');
});

T('a non-zero appStatus is logged; the response still stands', () => {
  const ex = exchange();
  const s = feed(ex, fcgiResponse('Status: 500\r\n\r\nfatal', { appStatus: 255 }));
  assert.equal(s.logs, ['FastCGI application status 255']);
  assert.is(s.heads[0]!.status, 500);
  assert.is(s.ended, 1);
  assert.is(ex.reusable(), true);
  assert.equal(feed(exchange(), OK).logs, []);
});

T('the backend closing before END_REQUEST: LT_ERR_BACKEND_RESET, before or after the head (G8, D6)', () => {
  for (const bytes of [Buffer.alloc(0), fcgiStdout('Status: 2'), fcgiStdout('Status: 200\r\n\r\nbody'), Buffer.concat([fcgiStdout('Status: 200\r\n\r\n'), fcgiStdout('')])]) {
    const ex = exchange();
    const s = feed(ex, bytes);
    ex.receiveEnd(s);
    assert.equal(s.errors.map((e) => e[0]), ['LT_ERR_BACKEND_RESET']);
    assert.is(s.ended, 0);
    assert.is(ex.reusable(), false);
  }
});

T('the backend closing after END_REQUEST: nothing more reported', () => {
  const ex = exchange();
  const s = feed(ex, OK);
  ex.receiveEnd(s);
  assert.equal(s.errors, []);
  assert.is(s.ended, 1);
});

T('HEAD: the head is reported with noBody, STDOUT body bytes are dropped (sink.data never called)', () => {
  const ex = exchange({ method: 'HEAD' });
  const s = feed(ex, fcgiStdout('Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhel'), fcgiStdout('lo'), fcgiStdout(''), fcgiEndRequest());
  assert.is(s.heads[0]!.noBody, true);
  assert.equal(s.chunks, []);
  assert.is(s.ended, 1);
  assert.is(ex.reusable(), true);
});

T('records for another request id and management records (id 0) are ignored', () => {
  const s = feed(exchange(), Buffer.concat([
    fcgiRecord(FCGI_GET_VALUES_RESULT, 0, Buffer.from([14, 1, ...Buffer.from('FCGI_MAX_CONNS1')])),
    fcgiRecord(FCGI_UNKNOWN_TYPE, 0, Buffer.from([99, 0, 0, 0, 0, 0, 0, 0])),
    fcgiStdout('Status: 500\r\n\r\nnot mine', { requestId: 2 }), fcgiEndRequest(0, FCGI_OVERLOADED, 2),
    fcgiRecord(42, 1, 'unknown type'),
    OK,
  ]));
  assert.is(s.heads[0]!.status, 200);
  assert.is(s.body, 'hello');
  assert.equal(s.errors, []);
  assert.is(s.ended, 1);
});

T('bytes after END_REQUEST: the connection is not reused (D7)', () => {
  const after = [fcgiStdout('x'), fcgiRecord(FCGI_GET_VALUES_RESULT, 0, ''), hex('01 06'), Buffer.from('garbage')];
  for (const extra of after) {
    const same = exchange();
    const s = feed(same, Buffer.concat([OK, extra]));
    assert.is(s.ended, 1);
    assert.equal(s.errors, []);
    assert.is(same.reusable(), false);
    const later = exchange();
    feed(later, OK, extra);
    assert.is(later.reusable(), false);
  }
});

T('a record version other than 1 is a bad response', () => {
  const ex = exchange();
  const s = feed(ex, Buffer.from('HTTP/1.1 200 OK\r\n\r\n'));
  assert.equal(s.errors.map((e) => e[0]), ['LT_ERR_BACKEND_BAD_RESPONSE']);
  assert.match(s.errors[0]![1], 'version');
});

T('an invalid CGI header block or one over maxResponseHeadBytes is a bad response (D4, D5)', () => {
  const bad = feed(exchange(), fcgiStdout('Status: 200\r\nNo colon here\r\n\r\n'));
  assert.equal(bad.errors.map((e) => e[0]), ['LT_ERR_BACKEND_BAD_RESPONSE']);
  const ex = exchange({ maxHead: 64 });
  const s = new Sink();
  for (let i = 0; i < 10; i++) ex.receive(fcgiStdout(`X-${i}: ${'v'.repeat(20)}\r\n`), s);
  assert.equal(s.errors.map((e) => e[0]), ['LT_ERR_BACKEND_BAD_RESPONSE']);
  assert.is(s.heads.length, 0);
});

T('an interim 103 is reported before the final head (D12); a 101 cannot be tunnelled', () => {
  const s = feed(exchange(), fcgiResponse('Status: 103\r\nLink: </s.css>\r\n\r\nStatus: 200\r\n\r\nok'));
  assert.equal(s.heads.map((h) => h.status), [103, 200]);
  assert.is(s.body, 'ok');
  const up = feed(exchange(), fcgiStdout('Status: 101\r\nUpgrade: websocket\r\n\r\n'));
  assert.equal(up.errors.map((e) => e[0]), ['LT_ERR_BACKEND_BAD_RESPONSE']);
});

T('body bytes in the same STDOUT record as the head, and across records, reach sink.data in order', () => {
  const raw = encodeRecord(FCGI_STDOUT, 1, Buffer.from('Status: 200\n\nabc'));
  const s = feed(exchange(), raw, fcgiStdout('def'), fcgiStdout(''), fcgiEndRequest());
  assert.is(s.body, 'abcdef');
  assert.equal(s.chunks.map((c) => c.toString()), ['abc', 'def']);
});

// --- The protocol definition and the plugin ---

T('the protocol: fastcgi, keep-alive, CONTENT_LENGTH needed, env used; options with defaults', () => {
  assert.is(fastcgiProtocol.name, 'fastcgi');
  assert.is(fastcgiProtocol.keepAlive, true);
  assert.is(fastcgiProtocol.streamsUnknownLength, false);
  assert.is(fastcgiProtocol.usesEnv, true);
  assert.equal(fastcgiProtocol.options!.role!.enum, ['responder', 'authorizer']);
  assert.is(fastcgiProtocol.options!.role!.default, 'responder');
  assert.is(fastcgiProtocol.options!.keepConn!.type, 'boolean');
  assert.is(fastcgiProtocol.options!.keepConn!.default, true);
  assert.equal(fastcgiProtocol.capabilities!({ maxResponseHeadBytes: 1, keepConn: false }), { keepAlive: false, streamsUnknownLength: false });
  assert.equal(fastcgiProtocol.capabilities!({ maxResponseHeadBytes: 1, keepConn: true }), { keepAlive: true, streamsUnknownLength: false });
});

T('the plugin registers the protocol with proxy-core', async () => {
  assert.is(plugin.id, 'proxy-backend-fastcgi');
  assert.equal(plugin.aliases, ['mod_proxy_backend_fastcgi']);
  assert.equal(plugin.requires, ['proxy-core']);
  assert.is(plugin.options, undefined);
  const registered: ProtocolDefinition[] = [];
  const ctx = { server: { host: { api: () => ({ registerProtocol: (d: ProtocolDefinition) => registered.push(d) }) } } };
  await plugin.create(ctx as unknown as Parameters<typeof plugin.create>[0]);
  assert.equal(registered, [fastcgiProtocol]);
});

T.run();
