// lantern's version and the feature list -V prints (lighttpd's `\t+ feature` form).
export const VERSION = '0.1.0';

export const FEATURES = [
  'IPv6 support',
  'unix domain sockets',
  'systemd socket activation (LISTEN_FDS)',
  'lighttpd.conf syntax (1.4.69)',
  'native config (JSON, YAML, JS)',
  'strict HTTP/1.1 parser',
  'chunked request bodies',
  'pipelining',
  'ETag, conditional and range requests',
  'worker processes (server.max-worker)',
];
