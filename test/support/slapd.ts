/**
 * A real OpenLDAP slapd for tests: its own temporary directory (slapd.conf, an mdb database),
 * a free port on 127.0.0.1, an admin (the rootdn, not subject to limits) and a reader account
 * (subject to the size limit, as a service account is), LDIF loaded with slapadd before start,
 * optional StartTLS and ldaps:// with a CA and a server certificate made here with openssl.
 *
 * The server runs in the foreground (-d 0) as a child of the test: stop() ends it, kill()
 * kills it at once, and it is killed when the test process exits.
 *
 * startCuttingProxy: a TCP proxy in front of a server that passes the first N bytes the server
 * sends, then cuts both connections (a connection dropped in the middle of a read).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SLAPD = process.env.SLAPD_BIN ?? '/usr/sbin/slapd';
export const SLAPADD = process.env.SLAPADD_BIN ?? '/usr/sbin/slapadd';

export interface SlapdOptions {
  /** Default dc=example,dc=org. */
  suffix?: string;
  /** The server's size limit for every bind but the rootdn (paged searches may still read everything). */
  sizeLimit?: number;
  /** Make a CA and a certificate for localhost/127.0.0.1: StartTLS on the ldap:// port, and an ldaps:// port. */
  tls?: boolean;
  /** Entries to load under the suffix (the suffix entry and the reader account are made here). */
  ldif?: string;
  /**
   * The memberof overlay: an entry named in a groupOfNames' member gets memberOf. It keeps memberOf as groups are
   * added or changed through the server, not for the entries slapadd loads: add such groups once the server runs.
   */
  memberOf?: boolean;
}

export interface Slapd {
  dir: string;
  suffix: string;
  port: number;
  /** ldap://127.0.0.1:PORT */
  url: string;
  /** ldaps://127.0.0.1:PORT (with tls). */
  ldapsUrl?: string;
  ldapsPort?: number;
  /** The CA's certificate (PEM), with tls. */
  caFile?: string;
  adminDn: string;
  adminPassword: string;
  readerDn: string;
  readerPassword: string;
  /** The running server (undefined once stopped). */
  process: ChildProcess | undefined;
  /** Stops the server (SIGTERM, waits for it to end). */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Stops the server and removes its directory. */
  dispose(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function run(command: string, args: string[], input?: string): void {
  const result = spawnSync(command, args, { input, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr || result.stdout}`,
    );
}

/** A CA and a server certificate for localhost and 127.0.0.1, signed by it. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const ca = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  const cert = join(dir, 'server.pem');
  const key = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const ext = join(dir, 'server.ext');
  run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    caKey,
    '-out',
    ca,
    '-days',
    '2',
    '-subj',
    '/CN=scimctl test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=localhost']);
  writeFileSync(
    ext,
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-out',
    cert,
    '-days',
    '2',
    '-extfile',
    ext,
  ]);
  return { ca, cert, key };
}

/** Waits until something accepts TCP connections on the port (polling), or the process ends. */
async function waitForPort(port: number, child: ChildProcess, stderr: () => string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`slapd ended (${child.exitCode ?? child.signalCode}) before it answered: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`slapd did not answer on port ${port} within ${timeoutMs} ms: ${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const dcOf = (suffix: string) => /^dc=([^,]+)/i.exec(suffix)?.[1] ?? 'example';

/** Starts slapd; resolves once it answers. */
export async function startSlapd(options: SlapdOptions = {}): Promise<Slapd> {
  const suffix = options.suffix ?? 'dc=example,dc=org';
  const dir = mkdtempSync(join(tmpdir(), 'scimctl-slapd-'));
  const db = join(dir, 'db');
  mkdirSync(db);
  const adminDn = `cn=admin,${suffix}`;
  const adminPassword = 'admin-secret';
  const readerDn = `cn=reader,${suffix}`;
  const readerPassword = 'reader-secret';
  const certs = options.tls ? makeCertificates(dir) : undefined;
  const conf = [
    'include /etc/ldap/schema/core.schema',
    'include /etc/ldap/schema/cosine.schema',
    'include /etc/ldap/schema/inetorgperson.schema',
    'include /etc/ldap/schema/nis.schema',
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    // ppolicy brings pwdAccountLockedTime (a locked account).
    'moduleload ppolicy',
    ...(options.memberOf ? ['moduleload memberof'] : []),
    `pidfile ${join(dir, 'slapd.pid')}`,
    ...(options.sizeLimit !== undefined
      ? [`sizelimit size.soft=${options.sizeLimit} size.hard=${options.sizeLimit} size.prtotal=unlimited`]
      : []),
    ...(certs
      ? [`TLSCACertificateFile ${certs.ca}`, `TLSCertificateFile ${certs.cert}`, `TLSCertificateKeyFile ${certs.key}`]
      : []),
    'database mdb',
    'maxsize 1073741824',
    `suffix "${suffix}"`,
    `rootdn "${adminDn}"`,
    `rootpw ${adminPassword}`,
    `directory ${db}`,
    'overlay ppolicy',
    ...(options.memberOf ? ['overlay memberof'] : []),
    'access to attrs=userPassword by self write by anonymous auth by * none',
    'access to * by users read by * none',
    '',
  ].join('\n');
  const confFile = join(dir, 'slapd.conf');
  writeFileSync(confFile, conf);
  const base = [
    `dn: ${suffix}`,
    'objectClass: dcObject',
    'objectClass: organization',
    `o: ${dcOf(suffix)}`,
    `dc: ${dcOf(suffix)}`,
    '',
    `dn: ${readerDn}`,
    'objectClass: organizationalRole',
    'objectClass: simpleSecurityObject',
    'cn: reader',
    `userPassword: ${readerPassword}`,
    '',
    '',
  ].join('\n');
  const ldifFile = join(dir, 'data.ldif');
  writeFileSync(ldifFile, base + (options.ldif ?? ''));
  run(SLAPADD, ['-q', '-f', confFile, '-l', ldifFile]);

  const port = await freePort();
  const ldapsPort = certs ? await freePort() : undefined;
  const urls = [`ldap://127.0.0.1:${port}/`, ...(ldapsPort ? [`ldaps://127.0.0.1:${ldapsPort}/`] : [])];
  let stderr = '';
  const child = spawn(SLAPD, ['-d', '0', '-f', confFile, '-h', urls.join(' ')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  running.add(child);
  const ended = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  ended.then(() => running.delete(child));
  const slapd: Slapd = {
    dir,
    suffix,
    port,
    url: `ldap://127.0.0.1:${port}`,
    ...(ldapsPort ? { ldapsUrl: `ldaps://127.0.0.1:${ldapsPort}`, ldapsPort } : {}),
    ...(certs ? { caFile: certs.ca } : {}),
    adminDn,
    adminPassword,
    readerDn,
    readerPassword,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await ended;
      slapd.process = undefined;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await ended;
      slapd.process = undefined;
    },
    async dispose() {
      await slapd.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitForPort(port, child, () => stderr);
    if (ldapsPort) await waitForPort(ldapsPort, child, () => stderr);
  } catch (e) {
    await slapd.kill();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return slapd;
}

export interface CuttingProxy {
  port: number;
  url: string;
  /** Bytes passed from the server so far, over all connections. */
  readonly passed: number;
  /** Connections cut. */
  readonly cuts: number;
  close(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1 to `targetPort` that passes the first `cutAfter` bytes the server
 * sends (over all connections), then destroys both sides of the connection.
 */
export async function startCuttingProxy(targetPort: number, cutAfter: number): Promise<CuttingProxy> {
  let passed = 0;
  let cuts = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const cut = () => {
      cuts++;
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      const room = cutAfter - passed;
      if (room <= 0) return cut();
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      passed += part.length;
      client.write(part);
      if (passed >= cutAfter) cut();
    });
    for (const s of [client, upstream]) {
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `ldap://127.0.0.1:${port}`,
    get passed() {
      return passed;
    },
    get cuts() {
      return cuts;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
