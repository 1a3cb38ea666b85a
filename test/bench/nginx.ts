// nginx in two roles: the https target (static bodies, gzip_static, bearer
// check) and the reverse proxy doing the gateway's job (plain http in; https,
// bearer header, CA verification and upstream keep-alive out). Each runs as a
// child process with its own prefix dir, config, pid file and error log.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { freePort, portOpen, startChild, waitReady, type Child } from './procs.js'

export const NGINX = '/usr/sbin/nginx'

/** nginx's version ('1.22.1'), or undefined when it is not installed. */
export function nginxVersion (): string | undefined {
  if (!existsSync(NGINX)) return undefined
  // nginx -v prints to stderr
  const r = spawnSync(NGINX, ['-v'], { encoding: 'utf8' })
  if (r.error !== undefined) return undefined
  return /nginx\/(\S+)/.exec(`${r.stderr}${r.stdout}`)?.[1] ?? 'unknown'
}

export interface Nginx {
  child: Child
  port: number
  dir: string
  errorLog: string
  stop(): Promise<void>
}

// A prefix of our own: temp paths compiled into Debian's nginx (/var/lib/nginx) may not exist or be writable.
function common (dir: string): string {
  const tmp = (name: string): string => path.join(dir, 'tmp', name)
  return `
  access_log off;
  client_body_temp_path ${tmp('body')};
  proxy_temp_path ${tmp('proxy')};
  fastcgi_temp_path ${tmp('fastcgi')};
  uwsgi_temp_path ${tmp('uwsgi')};
  scgi_temp_path ${tmp('scgi')};
  # Keep-alive for the whole run: no reconnects (and TLS handshakes) mid-measurement.
  keepalive_timeout 75s;
  keepalive_requests 1000000;`
}

async function start (role: string, dir: string, conf: (port: number) => string): Promise<Nginx> {
  mkdirSync(path.join(dir, 'tmp'), { recursive: true })
  const port = await freePort()
  const confFile = path.join(dir, 'nginx.conf')
  const errorLog = path.join(dir, 'error.log')
  writeFileSync(confFile, conf(port))
  // -e: the startup log too; nginx-light's compiled-in paths are left alone.
  const child = startChild(`nginx ${role}`, NGINX, [
    '-p', dir, '-c', confFile, '-e', errorLog,
    '-g', `daemon off; pid ${path.join(dir, 'nginx.pid')}; error_log ${errorLog} warn;`,
  ], { log: errorLog })
  await waitReady(child, portOpen(port), errorLog, 10_000)
  return { child, port, dir, errorLog, stop: async () => child.stop() }
}

export interface NginxTargetOptions {
  dir: string
  /** Holds the bodies and their .gz copies. */
  root: string
  certFile: string
  keyFile: string
  token: string
}

export async function startNginxTarget (o: NginxTargetOptions): Promise<Nginx> {
  return start('target', o.dir, (port) => `
worker_processes 1;
events { worker_connections 1024; }
http {${common(o.dir)}
  types { }
  default_type "text/plain; version=0.0.4; charset=utf-8";
  sendfile on;
  tcp_nopush on;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${o.certFile};
    ssl_certificate_key ${o.keyFile};
    ssl_session_cache shared:SSL:1m;
    root ${o.root};
    # Serves FILE.gz with Content-Encoding: gzip to a client that accepts gzip, FILE otherwise.
    gzip_static on;
    location / {
      if ($http_authorization != "Bearer ${o.token}") { return 401; }
    }
  }
}
`)
}

export interface NginxProxyOptions {
  dir: string
  /** '127.0.0.1:PORT' of the https target */
  target: string
  caFile: string
  token: string
}

/** Paths: /identity/metrics-1m asks the target for identity; /gzip/metrics-1m asks for gzip and gunzips for clients that do not accept it. */
export async function startNginxProxy (o: NginxProxyOptions): Promise<Nginx> {
  const location = (name: string, acceptEncoding: string, extra: string): string => `
    location /${name}/ {
      proxy_pass https://scrape_target/;
      # proxy_set_header here replaces every inherited one: all of them, each time.
      proxy_set_header Host ${o.target};
      proxy_set_header Connection "";
      proxy_set_header Authorization "Bearer ${o.token}";
      proxy_set_header Accept-Encoding ${acceptEncoding};${extra}
    }`
  return start('proxy', o.dir, (port) => `
worker_processes 1;
events { worker_connections 1024; }
http {${common(o.dir)}
  upstream scrape_target {
    server ${o.target};
    keepalive 64;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  proxy_http_version 1.1;
  proxy_ssl_verify on;
  proxy_ssl_trusted_certificate ${o.caFile};
  proxy_ssl_verify_depth 2;
  # nginx checks DNS names only (not IP SANs); the test cert has DNS:localhost.
  proxy_ssl_name localhost;
  proxy_ssl_session_reuse on;
  proxy_connect_timeout 5s;
  proxy_read_timeout 60s;
  # Streams through bounded memory like the gateway: no spooling of bodies to disk.
  proxy_buffers 16 64k;
  proxy_busy_buffers_size 128k;
  proxy_max_temp_file_size 0;
  server {
    listen 127.0.0.1:${port};
${location('identity', 'identity', '')}
${location('gzip', 'gzip', `
      gunzip on;`)}
  }
}
`)
}
