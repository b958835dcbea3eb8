// An example third-party lantern plugin, as an npm package of its own (plain JavaScript).
// Install it next to your config (npm install ./examples/plugin-hello) and load it with
//   server.modules = ( "lantern-plugin-hello" )
//   hello.text = "Hello, world"
export default {
  id: 'hello',
  options: {
    'hello.path': { type: 'string', default: '/hello', doc: 'The URL path answered. Default: /hello.' },
    'hello.text': { type: 'string', default: 'hello', doc: 'The text sent back. Default: "hello".' },
  },
  create(ctx) {
    // stage -5: before the built-in handlers (staticfile runs last, at stage 1000).
    ctx.hooks.subrequestStart.tap({ name: ctx.id, stage: -5 }, (req) => {
      const o = ctx.options(req);
      if (req.path !== o['hello.path']) return undefined; // not ours: go on
      req.respond(200, ['Content-Type', 'text/plain; charset=utf-8'], `${o['hello.text']}\n`);
      return true; // answered
    });
  },
};
