// `lantern -V`: what this lantern has, in the form of lighttpd 1.4's show_features() (src/server.c):
// a version line, then sections of `\t+ name` (present) and `\t- name` (absent) lines. What can
// be seen at run time is looked at (Node's zlib, OpenSSL, the plugin folders), not assumed.
import os from 'node:os';
import zlib from 'node:zlib';
import { idToModule, knownPluginIds } from './plugin-host.js';
import { VERSION } from './version.js';

/**
 * The modules of lighttpd 1.4.69 (src/mod_*.c, less the internal mod_auth_api, mod_magnet_cache,
 * mod_vhostdb_api and the examples mod_skeleton and mod_echo; plus mod_secdownload, which its
 * docs describe): the `-` lines say which of them
 * lantern does not have. lantern's own plugins come from its plugin folders, not from a list.
 */
const LIGHTTPD_MODULES = [
  'mod_access', 'mod_accesslog', 'mod_ajp13', 'mod_alias', 'mod_auth', 'mod_authn_dbi', 'mod_authn_file',
  'mod_authn_gssapi', 'mod_authn_ldap', 'mod_authn_pam', 'mod_authn_sasl', 'mod_cgi', 'mod_deflate',
  'mod_dirlisting', 'mod_evhost', 'mod_expire', 'mod_extforward', 'mod_fastcgi', 'mod_gnutls',
  'mod_indexfile', 'mod_magnet', 'mod_maxminddb', 'mod_mbedtls', 'mod_nss', 'mod_openssl', 'mod_proxy',
  'mod_redirect', 'mod_rewrite', 'mod_rrdtool', 'mod_scgi', 'mod_secdownload', 'mod_setenv', 'mod_simple_vhost',
  'mod_sockproxy', 'mod_ssi', 'mod_staticfile', 'mod_status', 'mod_userdir', 'mod_vhostdb',
  'mod_vhostdb_dbi', 'mod_vhostdb_ldap', 'mod_vhostdb_mysql', 'mod_vhostdb_pgsql', 'mod_webdav',
  'mod_wolfssl', 'mod_wstunnel',
];

const line = (present: boolean, name: string) => `\t${present ? '+' : '-'} ${name}\n`;

/** The whole `-V` text. `pluginDirs`: the -m folders, searched before the built-in plugins. */
export function featureReport(pluginDirs: string[] = []): string {
  const builtin = knownPluginIds();
  const all = new Set([...knownPluginIds(pluginDirs), ...builtin]);
  const has = (id: string) => all.has(id);
  const z = zlib as unknown as Record<string, unknown>;
  const linux = os.platform() === 'linux';
  const bsd = os.platform() === 'darwin' || os.platform().endsWith('bsd');
  let out = `lantern/${VERSION} (Node ${process.version}) - a lighttpd-style web server and application gateway\n`;

  out += '\nEvent Handlers:\n\n';
  out += line(linux, 'epoll (Linux, through libuv)');
  out += line(bsd, 'kqueue (FreeBSD, macOS, through libuv)');
  out += line(!linux && !bsd, 'poll (Unix, through libuv)');

  out += '\nNetwork handler:\n\n';
  out += line(false, 'linux-sendfile');
  out += line(true, 'writev');
  out += line(true, 'write');

  out += '\nFeatures:\n\n';
  out += line(true, 'IPv6 support');
  out += line(os.platform() !== 'win32', 'unix domain sockets');
  out += line(true, 'systemd socket activation (LISTEN_FDS)');
  out += line(typeof z.deflateSync === 'function', 'zlib support');
  out += line(typeof z.zstdCompressSync === 'function', 'zstd support');
  out += line(false, 'bzip2 support');
  out += line(typeof z.brotliCompressSync === 'function', 'brotli support (Node zlib)');
  out += line(typeof process.versions.openssl === 'string', `OpenSSL support (crypto${process.versions.openssl ? `, OpenSSL ${process.versions.openssl}` : ''})`);
  out += line(has('openssl'), 'TLS listeners (mod_openssl, ssl.engine)');
  out += line(true, 'PCRE support (conditions =~ !~ as JavaScript RegExp)');
  out += line(false, 'MySQL support');
  out += line(false, 'PgSQL support');
  out += line(false, 'LDAP support');
  out += line(false, 'PAM support');
  out += line(has('magnet'), 'LUA support');
  out += line(true, 'Y2038 support');
  out += line(true, 'lighttpd.conf syntax (1.4.69)');
  out += line(true, 'native config (JSON, YAML, JS)');
  out += line(true, 'strict HTTP/1.1 parser, chunked request bodies, pipelining');
  out += line(false, 'HTTP/2');
  out += line(true, 'ETag, conditional and range requests');
  out += line(true, 'worker processes (server.max-worker)');
  out += line(true, 'plugins from npm packages and paths (server.modules, -m)');

  out += '\nModules:\n\n';
  const listed = new Set<string>();
  for (const name of LIGHTTPD_MODULES) {
    const id = [...all].find((i) => idToModule(i) === name);
    out += line(id !== undefined, name);
    if (id !== undefined) listed.add(id);
  }
  // lantern's own plugins (proxy-core, its protocols and balancers, -m plugins...).
  for (const id of all) if (!listed.has(id)) out += line(true, `${idToModule(id)}${builtin.includes(id) ? '' : ' (-m)'}`);
  return out;
}
