/** /Setup: the configuration. Every value here is persisted, validated, diffed and live. */
import { column, menu, param, t, table, type ColumnDef, type MenuNode } from './model.js';
import { DEFAULT_LICENCE_MODEL, LICENCE_PROFILES } from './licence.js';

const IKEV2 = '/Setup/VPN/IKEv2';
export const PEERS_TABLE = `${IKEV2}/Peers`;

// Reusable columns (VyOS-style fragments).
const nameKey = (help: string, max = 16): ColumnDef => column('Name', help, t.string(max, 'name', 1), '');
const active = (): ColumnDef => column('Active', 'The row is in use', t.yesNo(), 'yes');
const comment = (): ColumnDef => column('Comment', 'Free text', t.string(64), '');
const rtgTag = (): ColumnDef => column('Rtg-Tag', 'Routing tag (0 = default routing context)', t.int(0, 65535), '0');
const profileKey = (): ColumnDef => nameKey('Profile name, referenced from the Peers table');

const IKE_CIPHERS = ['AES-GCM-256', 'AES-GCM-128', 'CHACHA20-POLY1305', 'AES-CBC-256', 'AES-CBC-128'];
const INTEGRITY = ['SHA-256', 'SHA-384', 'SHA-512'];
const DH_GROUPS = ['DH14', 'DH15', 'DH16', 'DH19', 'DH20', 'DH21', 'DH31'];
const ID_TYPES = ['IPv4', 'IPv6', 'FQDN', 'USER-FQDN', 'DN', 'KEY-ID'];
const AUTH_METHODS = ['PSK', 'RSA', 'ECDSA', 'EdDSA'];

const interfaces = menu('Interfaces', 'LAN and WAN interfaces', [
  table('LAN', 'LAN ports (TUN devices, or in-memory ports without CAP_NET_ADMIN)', {
    keys: ['Name'],
    maxRows: 64,
    columns: [
      nameKey('Interface name, e.g. LAN-1'),
      active(),
      column('Address', 'Interface address with prefix length', t.prefix('any'), '192.168.1.1/24'),
      column('MTU', 'Maximum transmission unit', t.int(576, 9000, 'bytes'), '1400'),
      rtgTag(),
      comment(),
    ],
    defaultRows: [{ Name: 'LAN-1' }],
  }),
  table('WAN', 'WAN endpoints: the UDP socket of IKE and ESP-in-UDP', {
    keys: ['Name'],
    maxRows: 16,
    columns: [
      nameKey('Endpoint name, e.g. WAN-1'),
      active(),
      column('Bind-Address', 'Local address to bind (empty = all)', t.address(true), ''),
      column('IKE-Port', 'UDP port for plain IKE (a default-configured gateway starts there); SAs move to the NAT-T-Port after IKE_SA_INIT, ESP always travels in UDP there. Equal to NAT-T-Port: no extra socket. Read when the daemon starts', t.int(1, 65535), '500'),
      column('NAT-T-Port', 'UDP port for IKE and ESP in UDP (RFC 3948)', t.int(1, 65535), '4500'),
      column('Public-Endpoint', 'Address[:port] the outside reaches us at (empty = detect)', t.host({ port: true, allowEmpty: true }), ''),
      comment(),
    ],
    defaultRows: [{ Name: 'WAN-1' }],
  }),
]);

const ipRouter = menu('IP-Router', 'The IP router', [
  table('Routing-Table', 'Static routes; dynamic VPN and mesh routes are shown in /Status/Routes', {
    keys: ['Prefix', 'Rtg-Tag'],
    maxRows: 10_000,
    columns: [
      column('Prefix', 'Destination network', t.prefix('any'), ''),
      rtgTag(),
      column('Peer-or-IP', 'Next hop: a VPN peer name, a gateway address, SITE-DIRECTORY (a base route: sites are looked up in the site directory), or empty = discard', t.string(64, 'identity'), ''),
      column('Distance', 'Administrative distance (lower wins)', t.int(0, 255), '1'),
      active(),
      comment(),
    ],
  }),
]);

const peers = table('Peers', 'IKEv2 peers: static tunnels, hubs, spokes, and templates for mesh tunnels', {
  keys: ['Peer'],
  maxRows: 10_000,
  columns: [
    column('Peer', 'Peer name', t.string(16, 'name', 1), ''),
    active(),
    column('Remote-Gateway', 'Address or DNS name [:port] of the peer (* = any, responder only)', t.host({ port: true, wildcard: true, allowEmpty: true }), ''),
    column('Role', 'Who starts the tunnel', t.enum('auto', 'initiator', 'responder'), 'auto'),
    column('Type', 'Static tunnel, or the hub / spoke side of a hub-and-spoke VPN', t.enum('static', 'hub', 'spoke'), 'static'),
    column('Auth', 'Authentication profile', t.ref(`${IKEV2}/Auth/Parameter`), 'DEFAULT'),
    column('Encryption', 'Encryption profile', t.ref(`${IKEV2}/Encryption`), 'DEFAULT'),
    column('Lifetimes', 'Lifetime profile', t.ref(`${IKEV2}/Lifetimes`), 'DEFAULT'),
    column('General', 'General profile (DPD, NAT-T, ...)', t.ref(`${IKEV2}/General`), 'DEFAULT'),
    column('Routing', 'Routing profile (networks behind the tunnel)', t.ref(`${IKEV2}/Routing`, true), ''),
    column('SH-Time', 'Short-hold time: idle seconds before the tunnel is cleared (0 = never; mesh tunnels use their template\'s)', t.int(0, 65535, 's'), '0'),
    rtgTag(),
    comment(),
    column(
      'Backup-Gateways',
      'Further gateways of this peer, tried in order when the one in use stops answering (a spoke with two hubs); while on a backup, the Remote-Gateway is probed again (60 s, doubling up to 15 min) and the tunnel returns to it',
      t.list(t.host({ port: true }), 4),
      '',
    ),
  ],
});

const auth = menu('Auth', 'Authentication profiles', [
  table('Parameter', 'Local and remote authentication', {
    keys: ['Name'],
    maxRows: 10_000,
    columns: [
      profileKey(),
      column('Local-Auth', 'How we authenticate', t.enum(...AUTH_METHODS), 'PSK'),
      column('Local-ID-Type', 'Type of our identity', t.enum(...ID_TYPES), 'FQDN'),
      column('Local-ID', 'Our identity', t.string(254, 'identity'), ''),
      column('Local-Password', 'Pre-shared key we authenticate with', t.secret(128, 'plain'), ''),
      column('Remote-Auth', 'How the peer authenticates', t.enum(...AUTH_METHODS), 'PSK'),
      column('Remote-ID-Type', 'Type of the peer identity', t.enum(...ID_TYPES), 'FQDN'),
      column('Remote-ID', 'Identity the peer must present (empty = any)', t.string(254, 'identity'), ''),
      column('Remote-Password', 'Pre-shared key the peer authenticates with', t.secret(128, 'plain'), ''),
      column('Local-Certificate', 'Own certificate file (PEM, relative to the config directory) for RSA/ECDSA/EdDSA; its key is the same name ending in .key (empty = Certificates/Own-Certificate)', t.string(128, 'identity'), ''),
      column('Remote-Cert-ID-Check', 'The peer identity must match its certificate', t.yesNo(), 'yes'),
    ],
    defaultRows: [{ Name: 'DEFAULT' }],
  }),
]);

const certificates = menu('Certificates', 'Certificate files for RSA, ECDSA and EdDSA authentication (meshgate pki)', [
  param('CA-Certificate', 'Site CA certificate (PEM) that peer certificates must chain to', t.string(128, 'identity', 1), 'pki/ca.crt'),
  param('Own-Certificate', 'This node\'s certificate (PEM), naming its IKE identity in subjectAltName', t.string(128, 'identity', 1), 'pki/node.crt'),
  param('Own-Key', 'Private key file of the own certificate (PEM, mode 0600; its content is never shown)', t.string(128, 'identity', 1), 'pki/node.key'),
]);

const encryption = table('Encryption', 'Proposals for IKE and child SAs', {
  keys: ['Name'],
  maxRows: 1_000,
  columns: [
    profileKey(),
    column('DH-Groups', 'Diffie-Hellman groups, preferred first', t.list(t.enum(...DH_GROUPS), 8, false), 'DH31,DH19,DH14'),
    column('PFS', 'Perfect forward secrecy for child SAs', t.yesNo(), 'yes'),
    column('IKE-SA-Ciphers', 'Ciphers of the IKE SA', t.list(t.enum(...IKE_CIPHERS), 8, false), 'CHACHA20-POLY1305,AES-GCM-256'),
    column('IKE-SA-Integrity', 'Integrity / PRF of the IKE SA', t.list(t.enum(...INTEGRITY), 4, false), 'SHA-256'),
    column('Child-SA-Ciphers', 'Ciphers of child SAs', t.list(t.enum(...IKE_CIPHERS), 8, false), 'CHACHA20-POLY1305,AES-GCM-256'),
    column('Child-SA-Integrity', 'Integrity of child SAs (ignored for AEAD)', t.list(t.enum(...INTEGRITY), 4, false), 'SHA-256'),
  ],
  defaultRows: [{ Name: 'DEFAULT' }],
});

const lifetimes = table('Lifetimes', 'SA lifetimes', {
  keys: ['Name'],
  maxRows: 1_000,
  columns: [
    profileKey(),
    column('IKE-SA-Sec', 'IKE SA lifetime', t.int(300, 2_592_000, 's'), '108000'),
    column('IKE-SA-KB', 'IKE SA volume limit: not supported, must be 0 (IKE-SA-Sec limits the IKE SA)', t.int(0, 2_147_483_647, 'KB'), '0'),
    column('Child-SA-Sec', 'Child SA lifetime', t.int(120, 604_800, 's'), '28800'),
    column('Child-SA-KB', 'Child SA volume limit per direction (0 = none): rekeyed at 90 %, deleted at the limit', t.int(0, 2_147_483_647, 'KB'), '0'),
  ],
  defaultRows: [{ Name: 'DEFAULT' }],
});

const general = table('General', 'Dead peer detection, NAT traversal, retransmission', {
  keys: ['Name'],
  maxRows: 1_000,
  columns: [
    profileKey(),
    column('DPD-Inact-Timer', 'Dead peer detection: a liveness check after this many seconds without a packet from the peer, retransmitted every 5 s Retries times; the peer is dead DPD-Inact-Timer + (Retries + 1) x 5 s after its last packet (30 s, 5: 60 s; up to one DPD-Inact-Timer more when that was an ESP packet, which is sampled). 0 = off', t.int(0, 3600, 's'), '30'),
    column('NAT-T', 'UDP encapsulation of ESP: meshgate always encapsulates (no raw ESP), so auto and force both do and make the peer do so too; off is refused', t.enum('auto', 'force', 'off'), 'auto'),
    column('MOBIKE', 'MOBIKE (RFC 4555): not supported, must be no (NAT rebinding is followed without it)', t.yesNo(), 'no'),
    column('Fragmentation', 'IKEv2 fragmentation (RFC 7383): not supported, must be no', t.yesNo(), 'no'),
    column('Retries', 'Retransmissions before giving up: of an IKE exchange (backoff 4 s x 1.8^n) and of a DPD check (every 5 s, see DPD-Inact-Timer)', t.int(0, 20), '5'),
    column('Keepalive', 'NAT keepalive interval (0 = off)', t.int(0, 600, 's'), '20'),
  ],
  defaultRows: [{ Name: 'DEFAULT' }],
});

const routing = table('Routing', 'Networks on both sides of a tunnel (IKEv2 routing)', {
  keys: ['Name'],
  maxRows: 10_000,
  columns: [
    profileKey(),
    column('Local-Networks', 'Our networks (traffic selectors)', t.list(t.prefix('any'), 64, true), ''),
    column('Remote-Networks', 'The peer networks', t.list(t.prefix('any'), 64, true), ''),
    column('Accept-Routes', 'Install routes to the networks the tunnel carries (no: only static routes lead into it)', t.yesNo(), 'yes'),
    column('Announce-Routes', 'Propose our networks to the peer (traffic selectors); no is not supported', t.yesNo(), 'yes'),
    column('Metric', 'Metric of the installed routes (ties of prefix and distance go to the lowest)', t.int(0, 255), '1'),
  ],
});

const mesh = menu('Mesh', 'Advanced Mesh VPN: dynamic spoke-to-spoke tunnels (LCOS names)', [
  param('Operation-Mode', 'Role of this node in the mesh', t.enum('Disabled', 'Hub', 'Spoke'), 'Disabled'),
  param('VPN-Peer-Template', 'IKEv2 peer whose profiles (and SH-Time) mesh tunnels use', t.ref(PEERS_TABLE, true), ''),
  param('Admin-Distance', 'Administrative distance of mesh routes', t.int(0, 255), '0'),
  param('Initial-Rate-Limit-Sec', 'Wait after a failed mesh request before the next, initially', t.int(1, 3600, 's'), '10'),
  param('Max-Rate-Limit-Sec', 'Upper bound of the doubling wait between failed requests', t.int(1, 86_400, 's'), '600'),
  param('Request-Validity-Sec', 'How long a relayed mesh request stays valid', t.int(1, 86_400, 's'), '300'),
  param('Group-ID', 'Mesh group this node belongs to', t.int(0, 65535), '0'),
  param('Accepted-Group-IDs', 'Groups whose members may build mesh tunnels with us (empty = own group)', t.list(t.int(0, 65535), 64, true), ''),
  param('Detect-On-VPN-Peers', 'Hub peers on which traffic triggers mesh requests (empty = all hubs)', t.list(t.ref(PEERS_TABLE), 64, true), ''),
  table('Forwarding-Filter', 'Which networks may be reached over mesh tunnels (first match; none = allow)', {
    keys: ['Prefix', 'Rtg-Tag'],
    maxRows: 1_000,
    columns: [
      column('Prefix', 'Network', t.prefix('any'), ''),
      rtgTag(),
      column('Action', 'Allow or deny mesh tunnels to this network', t.enum('allow', 'deny'), 'allow'),
      comment(),
    ],
  }),
  param('Trigger', 'egress: the receiving spoke asks for a tunnel; hub-redirect: the hub tells the sender', t.enum('egress', 'hub-redirect'), 'egress'),
  param('Switchover', 'move: running flows move onto the mesh tunnel; pin: they stay on the hub path', t.enum('move', 'pin'), 'move'),
]);

const siteDirectory = menu('Site-Directory', 'Concentrator mode: site-specific settings in a database', [
  param('Operating', 'Look sites up in the directory', t.yesNo(), 'no'),
  param('Backend', 'Where the directory lives', t.enum('sqlite', 'mysql'), 'sqlite'),
  param('SQLite-File', 'SQLite file name in the config directory', t.string(128, 'identity', 1), 'sites.db'),
  param('MySQL-DSN', 'mysql://user:password@host:port/db (contains a password: never shown)', t.secret(255, 'plain'), ''),
  param('Base-Peer', 'Peer row whose settings dynamic sites inherit (proposals, local identity, lifetimes, DPD, local networks; its SH-Time is the idle timeout, 0 = 300 s). The row is a template, not a tunnel of its own', t.ref(PEERS_TABLE, true), ''),
  param('Remote-Mask', 'Prefix length of every site network', t.int(0, 128), '24'),
  param('Max-Dynamic-Routes', 'Dynamic route slots', t.int(1, 1_000_000), '10000'),
  param('Min-Free-Percent', 'Evict least recently used routes below this share of free slots', t.int(1, 50, '%'), '10'),
]);

const vpn = menu('VPN', 'VPN settings', [
  param('Operating', 'The VPN module is on (no: every tunnel, mesh and the site directory off)', t.yesNo(), 'yes'),
  param('Negotiation-Control', 'Parallel IKE_SA_INIT exchanges a responder takes before it demands COOKIEs (RFC 7296 2.6): Normal 100, Medium 500, Fast 2,000', t.enum('Normal', 'Medium', 'Fast'), 'Normal'),
  menu('IKEv2', 'IKEv2 (RFC 7296)', [peers, auth, certificates, encryption, lifetimes, general, routing, mesh]),
  siteDirectory,
]);

const licence = menu('Licence', 'Licence model: caps for VPN and mesh tunnels', [
  param('Model', 'Model profile (caps: see /Status/Licence)', t.enum(...LICENCE_PROFILES.map((p) => p.model)), DEFAULT_LICENCE_MODEL),
  param('Licensee', 'Owner of the licence', t.string(64), ''),
]);

const config = menu('Config', 'Users, SSH and shell', [
  table('Users', 'Shell users (console, SSH, control socket)', {
    keys: ['Name'],
    maxRows: 256,
    columns: [
      nameKey('Login name', 32),
      active(),
      column('Password', 'Login password (stored as a crypto_pwhash hash)', t.secret(128, 'hash'), ''),
      column('Access', 'admin may change everything, read-only nothing', t.enum('admin', 'read-only'), 'read-only'),
      column('Authorized-Keys', 'SSH public keys (OpenSSH format), comma-separated', t.list(t.string(2048, 'printable', 1), 16, true), ''),
    ],
  }),
  menu('SSH', 'Built-in SSH server', [
    param('Operating', 'The SSH server runs', t.yesNo(), 'no'),
    param('Port', 'TCP port', t.int(1, 65535), '22'),
    param('Listen-Address', 'Address to listen on (empty = all)', t.address(true), ''),
    param('Idle-Timeout', 'Close idle sessions after (0 = never)', t.int(0, 86_400, 's'), '900'),
    param('Max-Sessions', 'Concurrent SSH sessions', t.int(1, 64), '8'),
    param('Login-Delay', 'Delay after a failed login', t.int(0, 10_000, 'ms'), '1000'),
    param('Max-Auth-Tries', 'Authentication attempts per connection', t.int(1, 10), '3'),
  ]),
  menu('CLI', 'Shell behaviour', [
    param('Confirm-Default', 'Minutes of `commit confirmed` without a number', t.int(1, 65535, 'min'), '10'),
    param('Watch-Interval', 'Seconds between frames of `show ... --watch`', t.int(1, 3600, 's'), '2'),
    param('Idle-Timeout', 'Log out idle interactive sessions (0 = never)', t.int(0, 86_400, 's'), '0'),
  ]),
]);

export const setupMenu: MenuNode = menu('Setup', 'Configuration', [
  param('Name', 'Device name (shown in the prompt and sysinfo)', t.string(64, 'name', 1), 'meshgate'),
  interfaces,
  ipRouter,
  vpn,
  licence,
  config,
]);
