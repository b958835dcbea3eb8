// A test plugin: answers requests under `echo.prefix` (default /echo) with a JSON description of
// what the handler received (method, target, path, headers, body, trailers), and records each
// request in `seen`, so tests can assert what reached a handler ("nothing forwarded").
import { definePlugin } from '../../../../core/plugin.js';

export interface Seen {
  method: string;
  target: string;
  path: string;
  pathRaw: string;
  query: string | null;
  host: string;
  headers: string[];
  body: string;
  trailers: string[];
  bodyError?: string;
}

export const seen: Seen[] = [];

export default definePlugin({
  id: 'echo',
  options: {
    'echo.prefix': { type: 'string', default: '/echo', doc: 'Path prefix the echo handler answers.' },
    'echo.throw': { type: 'boolean', default: false, doc: 'Throw inside the handler (tests the 500 path).' },
    'echo.early': { type: 'boolean', default: false, doc: 'Answer before reading the body.' },
    'echo.stream': { type: 'boolean', default: false, doc: 'Answer "part1part2" in two writes with no Content-Length.' },
  },
  create(ctx) {
    ctx.hooks.subrequestStart.tap({ name: ctx.id, stage: -10 }, (req) => {
      const o = ctx.options(req);
      if (!req.path.startsWith(o['echo.prefix'])) return undefined;
      if (o['echo.throw']) throw new Error('echo plugin asked to throw');
      const record: Seen = {
        method: req.method, target: req.target, path: req.path, pathRaw: req.pathRaw, query: req.query, host: req.host,
        headers: req.head.headers, body: '', trailers: [],
      };
      seen.push(record);
      if (o['echo.stream']) {
        req.writeHead(200, ['Content-Type', 'text/plain']);
        req.write('part1');
        setImmediate(() => req.end('part2'));
        return true;
      }
      if (o['echo.early']) {
        req.respond(200, ['Content-Type', 'text/plain'], 'early\n');
        return true;
      }
      req.body.buffer(16 * 1024 * 1024).then((body) => {
        record.body = body.toString('latin1');
        record.trailers = req.body.trailers;
        req.respond(200, ['Content-Type', 'application/json'], JSON.stringify(record));
      }, (err: Error) => {
        record.bodyError = err.message;
        if (!req.finished && !req.aborted) req.fail(err);
      });
      return true;
    });
  },
});
